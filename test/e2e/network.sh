#!/usr/bin/env bash
# A network in the lab (issue 11, point 5): three real mail servers on
# loopback, each on port 25 of its own address, with certificates from the
# test network's PKI made by scripts/pki:
#   member A   Postfix + tlstrust-milter   a.test  127.0.0.11  outbound policy from
#              the milter's PolicyMapSocket (smtp_tls_policy_maps = socketmap:...)
#   member B   Sendmail + tlstrust-milter  b.test  127.0.0.12  outbound policy from
#              `tlstrustctl export sendmail` in its access map, the CRL in confCRL
#   outsider C Postfix, a certificate of another CA   c.test  127.0.0.13
# Postfix routes by name: a private mount namespace gets a hosts file of the
# lab's names (bind-mounted on /etc/hosts) and Postfix resolves without DNS
# (smtp_dns_support_level = disabled), so the next hop is the domain itself,
# the key of its smtp_tls_policy_maps lookup (a [127.0.0.12]:25 next hop
# would be asked as such, and the socketmap answers NOTFOUND for it).
# Sendmail routes by a mailertable of address literals; its TLS_Rcpt lookup
# keys on the recipient's domain. The namespace's resolv.conf points at
# 127.0.0.1:53, where nothing answers: no lookup leaves the machine.
#
# Usage: test/e2e/network.sh [MILTER]   (tlstrustctl is taken from beside MILTER)
# Prints TAP and "N passed, N failed"; exits 1 on any failure. Needs root
# (unshare, port 25 of 127.0.0.11-13), postfix, posttls-finger, swaks, m4,
# openssl, and Sendmail as lab.sh fetches it (TLSTRUST_E2E_CACHE). lab.sh's
# TLSTRUST_E2E_KEEP applies; TLSTRUST_NET_TRACE=1 runs the script under -x.
# Scenarios, in this order:
#   0 posttls-finger: each server's chain; postmap -q on A's live socketmap
#   5 tlstrustctl survey of A, B and C: STARTTLS, chain, network, name
#   1 A -> B and B -> A: verified TLS, client certificates, tagged trusted
#   3 C -> A: tagged encrypted; C claiming b.test is deferred by A's milter
#   2 another CA's server certificate: A defers to B, B keeps its mail for A
#   4 a revoked member certificate: refused by A (check_ccert_access) and B (CRL)
set -euo pipefail

# A private mount namespace for the hosts file; everything below runs in it.
if [[ -z ${TLSTRUST_NET_IN_NS:-} ]]; then
    [[ $(id -u) == 0 ]] || { echo "network.sh: needs root (unshare --mount, port 25)" >&2; exit 1; }
    export TLSTRUST_NET_IN_NS=1
    exec unshare --mount --propagation private -- bash ${TLSTRUST_NET_TRACE:+-x} "$0" "$@"
fi

# shellcheck source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"
# shellcheck source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/assert.sh"
# shellcheck source-path=SCRIPTDIR
. "$LAB_SRC/../tap.sh"
[[ -n ${1:-} ]] && LAB_MILTER_BIN=$1
CTL=$(dirname "$LAB_MILTER_BIN")/tlstrustctl
[[ -x $LAB_MILTER_BIN && -x $CTL ]] || { echo "network.sh: no tlstrust-milter/tlstrustctl at $LAB_MILTER_BIN" >&2; exit 1; }
PKI_SCRIPT=$LAB_REPO/scripts/pki

IP_A=127.0.0.11 IP_B=127.0.0.12 IP_C=127.0.0.13
for ip in $IP_A $IP_B $IP_C; do
    [[ -z $(ss -Hltn "sport = :25" | awk -v a="$ip:25" '$4 == a || $4 == "0.0.0.0:25" || $4 == "*:25"') ]] ||
        { echo "network.sh: port 25 of $ip is taken" >&2; exit 1; }
done

lab_workdir
NET=$LAB_DIR/net   # the network's CA (scripts/pki)
OUT=$LAB_DIR/out   # another CA: the outsider's, and a forgery of B's certificate
PF_A=$LAB_DIR/postfix
PF_C=$LAB_DIR/postfix-c
SM_B=$LAB_DIR/sendmail
LAB_SINK_DIR=$PF_A/mail   # where A's virtual(8) delivers (lab_msg_file postfix)
LAB_SM_QUEUE=$SM_B/mqueue # where B keeps what it receives (lab_msg_file sendmail)
SM_B_PID=

# ---------------------------------------------------------------- assertions

# want_unverified FINGER-OUTPUT ISSUER-ERE: posttls-finger did not verify
# the server against the network's CA, and its chain matches ISSUER-ERE.
want_unverified() {
    if grep -q 'Verified TLS connection established' <<<"$1" ||
        ! grep -Eq 'certificate not trusted|Untrusted TLS|verification failed' <<<"$1" ||
        ! grep -Eq -- "$2" <<<"$1"; then
        echo "$1"
        return 1
    fi
}

# want_deferred_before_rcpt LOG ADDR: sendmail -v says ADDR was deferred, and
# sent no RCPT (the tls_rcpt ruleset stops it before).
want_deferred_before_rcpt() {
    if grep -qF "$2... Deferred" "$1" && ! grep -q '^>>> RCPT' "$1"; then return 0; fi
    cat "$1"
    return 1
}

# ---------------------------------------------------------------- the PKI

net_pki() {
    local p=$PKI_SCRIPT
    "$p" -d "$NET" init-root "/O=Lab Net/CN=Lab Net Root CA" >/dev/null
    "$p" -d "$NET" init-intermediate "/O=Lab Net/CN=Lab Net Issuing CA" >/dev/null
    # ECDSA keys: quick to make, and within the criteria.
    "$p" -d "$NET" issue --key ec:P-256 a mx.a.test a.test >/dev/null
    "$p" -d "$NET" issue --key ec:P-256 b mx.b.test b.test >/dev/null
    # A's previous certificate, still valid: scenario 4 revokes it.
    "$p" -d "$NET" issue --key ec:P-256 a-old mx.a.test a.test >/dev/null
    "$p" -d "$NET" crl >/dev/null
    "$p" -d "$OUT" init-root "/O=Elsewhere/CN=Elsewhere Root CA" >/dev/null
    "$p" -d "$OUT" init-intermediate "/O=Elsewhere/CN=Elsewhere Issuing CA" >/dev/null
    "$p" -d "$OUT" issue --key ec:P-256 c mx.c.test c.test >/dev/null
    "$p" -d "$OUT" issue --key ec:P-256 b-forged mx.b.test b.test >/dev/null
    "$p" -d "$OUT" issue --key ec:P-256 a-forged mx.a.test a.test >/dev/null
    # Postfix's smtp(8) (user postfix) reads tafile=; the milters (nobody) the bundle.
    chmod 755 "$NET" "$OUT" "$NET/crl" "$NET/postfix"
    chmod 644 "$NET/crl/int.crl.pem"
}

# ---------------------------------------------------------------- milters

# net_milter NAME SOCKETKIND AUTHSERV [MORE CONFIG LINES]: a milter of the
# lab's network (lab.sh runs and stops it).
net_milter() {
    local name=$1 d=$LAB_DIR/milter-$1
    mkdir -p "$d"
    chmod 755 "$d"
    LAB_MILTER_DIR[$name]=$d
    if [[ $2 == unix ]]; then
        LAB_MILTER_SOCK[$name]=unix:$d/milter.sock
        LAB_MILTER_USER[$name]=nobody:postfix
    else
        LAB_MILTER_SOCK[$name]=inet:$(lab_free_port)@127.0.0.1
        LAB_MILTER_USER[$name]=nobody
    fi
    # The network's members must meet each other over TLS the network's CA
    # verified; mail from the outsider has no rule.
    cat >"$d/domains.table" <<EOF
a.test  trusted:labnet defer
b.test  trusted:labnet defer subject=*.b.test
EOF
    cat >"$d/tlstrust.conf" <<EOF
Socket          ${LAB_MILTER_SOCK[$name]}
TrustedNetwork  labnet $NET/network.pem
DomainTable     domains.table
DefaultAction   defer
AuthservID      $3
UserID          ${LAB_MILTER_USER[$name]}
LogLevel        debug
Syslog          no
${4:-}
EOF
    lab_milter_spawn "$name"
}

# ---------------------------------------------------------------- Postfix

# net_postfix DIR IP HOST DOMAIN [MAIN.CF LINES]: a Postfix on IP:25 that
# delivers DOMAIN to maildirs under DIR/mail (virtual(8)) and sends
# everything else by the hosts file, without DNS.
net_postfix() {
    local d=$1 ip=$2 host=$3 dom=$4
    mkdir -p "$d/conf" "$d/queue" "$d/data" "$d/mail"
    chmod 755 "$d" "$d/conf"
    chown postfix: "$d/data"
    chown nobody: "$d/mail"
    cat >"$d/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = $host
mydomain = $dom
myorigin = $dom
mydestination =
# Postfix takes only interface addresses here (127.0.0.1 on lo); master.cf
# binds the server's own address, smtp_bind_address is the client's.
inet_interfaces = loopback-only
inet_protocols = ipv4
smtp_bind_address = $ip
mynetworks = 127.0.0.1/32
virtual_mailbox_domains = $dom
virtual_mailbox_base = $d/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
biff = no
smtpd_error_sleep_time = 0
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
# The lab's names are in its hosts file: no MX lookups, native host lookups.
smtp_dns_support_level = disabled
smtp_connect_timeout = 5s
smtpd_tls_security_level = may
smtpd_tls_ask_ccert = yes
smtpd_tls_loglevel = 1
smtp_tls_security_level = may
smtp_tls_loglevel = 1
EOF
    if (($# > 4)); then printf '%s\n' "${@:5}" >>"$d/conf/main.cf"; fi
    { echo "$ip:25    inet  n       -       n       -       -       smtpd"; lab_postfix_services; } >"$d/conf/master.cf"
    postfix -c "$d/conf" start >"$d/start.log" 2>&1 ||
        { cat "$d/start.log" "$d/maillog" >&2 2>/dev/null || true; lab_die "postfix $host start failed"; }
    lab_wait_port_at "$ip" 25 || { cat "$d/maillog" >&2 || true; lab_die "postfix $host not listening"; }
}

# lab_wait_port_at IP PORT: a listener on IP:PORT within 10 s.
lab_wait_port_at() {
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -n $(ss -Hltn "src $1 and sport = :$2" 2>/dev/null) ]] && return 0
        sleep 0.1
    done
    return 1
}

# pf_inject CONFDIR ID FROM TO: a message through Postfix's sendmail(1)
# (pickup: no milter sees it on the way out).
pf_inject() {
    printf 'From: <%s>\nTo: <%s>\nSubject: lab %s\nX-Test-Id: %s\n\nnetwork lab\n' "$3" "$4" "$2" "$2" |
        sendmail -C "$1" -f "$3" "$4"
}

# ---------------------------------------------------------------- Sendmail

# sm_b_start CERT KEY: (re)start B's Sendmail with this server certificate.
sm_b_start() {
    local d=$SM_B cf sm
    sm_b_stop
    lab_sendmail_fetch
    cf=$LAB_SM_ROOT/usr/share/sendmail/cf
    sm=$LAB_SM_ROOT/usr/libexec/sendmail/sendmail
    mkdir -p "$d/hoststat" "$d/mqueue"
    chmod 755 "$d"
    chmod 700 "$d/mqueue"
    : >"$d/aliases"
    # Host names from the hosts file, no DNS (no MX lookups).
    printf 'hosts files\naliases files\n' >"$d/service.switch"
    # Still, a host name without an MX is looked up as "a.test." (trailing
    # dot), which the hosts file does not hold, and the query goes to the
    # resolver. So B routes by address literals; its TLS_Rcpt check keys on
    # the recipient's domain, not on the host it connects to.
    printf 'a.test esmtp:[%s]\nc.test esmtp:[%s]\n' "$IP_A" "$IP_C" >"$d/mailertable.txt"
    "$LAB_SM_ROOT/usr/libexec/sendmail/makemap" -C "$d/makemap.cf" hash "$d/mailertable" <"$d/mailertable.txt" ||
        lab_die "makemap mailertable failed"
    cat >"$d/b.mc" <<EOF
divert(-1)
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.b.test')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`HELP_FILE', \`$d/helpfile')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confCW_FILE', \`-o $d/local-host-names')dnl
define(\`confDEAD_LETTER_DROP', \`$d/dead.letter')dnl
define(\`confHOST_STATUS_DIRECTORY', \`$d/hoststat')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confCACERT_PATH', \`$NET')dnl
define(\`confCACERT', \`$NET/network.pem')dnl
define(\`confSERVER_CERT', \`$1')dnl
define(\`confSERVER_KEY', \`$2')dnl
define(\`confCLIENT_CERT', \`$NET/members/b-chain.pem')dnl
define(\`confCLIENT_KEY', \`$NET/members/b.key')dnl
define(\`confCRL', \`$NET/crl/int.crl.pem')dnl
CLIENT_OPTIONS(\`Family=inet, Addr=$IP_B')dnl
define(\`confLOG_LEVEL', \`9')dnl
FEATURE(\`access_db', \`hash -T<TMPF> -o $d/access')dnl
FEATURE(\`lookupdotdomain')dnl
FEATURE(\`mailertable', \`hash -o $d/mailertable')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`no_default_msa')dnl
LOCAL_DOMAIN(\`b.test')dnl
DAEMON_OPTIONS(\`Port=25, Addr=$IP_B, Name=MTA')dnl
INPUT_MAIL_FILTER(\`tlstrust', \`S=${LAB_MILTER_SOCK[b]}, F=T, T=C:10s;S:30s;R:30s;E:1m')dnl
MAILER(\`smtp')dnl
EOF
    m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$d/b.mc" >"$d/b.cf" || lab_die "m4 sendmail cf failed"
    unshare -u sh -c 'hostname mx.b.test && exec "$@"' sh \
        "$sm" -C "$d/b.cf" -bD -X "$d/trace.log" >>"$d/sendmail.out" 2>&1 &
    SM_B_PID=$!
    LAB_PIDS+=("$!")
    lab_wait_port_at "$IP_B" 25 || { cat "$d/sendmail.out" >&2; lab_die "sendmail B not listening"; }
}

sm_b_stop() {
    [[ -n $SM_B_PID ]] || return 0
    kill "$SM_B_PID" 2>/dev/null || true
    lab_wait_gone "$SM_B_PID" || kill -9 "$SM_B_PID" 2>/dev/null || true
    wait "$SM_B_PID" 2>/dev/null || true
    SM_B_PID=
}

# sm_inject ID FROM TO: B sends a message now (-odi), as its users' mail
# leaves it; the output (with -v: the SMTP dialogue) goes to SM_B/send-ID.log.
sm_inject() {
    printf 'From: <%s>\nTo: <%s>\nSubject: lab %s\nX-Test-Id: %s\n\nnetwork lab\n' "$2" "$3" "$1" "$1" |
        unshare -u sh -c 'hostname mx.b.test && exec "$@"' sh \
            "$LAB_SM_ROOT/usr/libexec/sendmail/sendmail" -C "$SM_B/b.cf" -odi -v -f "$2" "$3" \
            >"$SM_B/send-$1.log" 2>&1
}

# ---------------------------------------------------------------- swaks

# net_swaks IP ID CERTNAME FROM TO: one message to IP:25 presenting the
# member certificate CERTNAME (NET/members/CERTNAME); sets LAB_TX, LAB_REPLY.
net_swaks() {
    mkdir -p "$LAB_DIR/tx"
    LAB_TX=$LAB_DIR/tx/$2.txt
    swaks --server "$1" --port 25 --helo client.lab.test --timeout 30 --tls \
        --tls-cert "$NET/members/$3-chain.pem" --tls-key "$NET/members/$3.key" \
        --from "$4" --to "$5" --add-header "X-Test-Id: $2" >"$LAB_TX" 2>&1 || true
    LAB_REPLY=$(lab_reply "$LAB_TX")
}

# finger IP NAME [posttls-finger options]: posttls-finger's report on IP:25
# verified against the network's CA (secure level, NAME must match).
finger() {
    local ip=$1 name=$2
    shift 2
    MAIL_CONFIG=$PF_A/conf posttls-finger -c -C -t 10 -T 10 -l secure -F "$NET/network.pem" "$@" "[$ip]:25" "$name" 2>&1 || true
}

# ---------------------------------------------------------------- setup

lab_log "PKI (scripts/pki) in $NET and $OUT"
net_pki
# The domain first: it is the canonical name Sendmail rewrites addresses to.
cat >"$LAB_DIR/hosts" <<EOF
127.0.0.1 localhost
$IP_A a.test mx.a.test
$IP_B b.test mx.b.test
$IP_C c.test mx.c.test
EOF
# And a resolver that answers nothing, so a name missing from it cannot
# send a query off the machine.
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$LAB_DIR/resolv.conf"
chmod 644 "$LAB_DIR/hosts" "$LAB_DIR/resolv.conf"
mount --bind "$LAB_DIR/hosts" /etc/hosts
mount --bind "$LAB_DIR/resolv.conf" /etc/resolv.conf

PM_PORT=$(lab_free_port)
net_milter a unix mx.a.test "PolicyMapSocket inet:$PM_PORT@127.0.0.1"
net_milter b inet mx.b.test
net_postfix "$PF_A" $IP_A mx.a.test a.test \
    "smtpd_tls_cert_file = $NET/members/a-chain.pem" "smtpd_tls_key_file = $NET/members/a.key" \
    "smtpd_tls_CAfile = $NET/network.pem" \
    "smtp_tls_cert_file = $NET/members/a-chain.pem" "smtp_tls_key_file = $NET/members/a.key" \
    "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:$PM_PORT:tlstrust" \
    "smtpd_milters = ${LAB_MILTER_SOCK[a]}" "milter_default_action = tempfail" "milter_protocol = 6"
LAB_PF_CONF=$PF_A/conf
net_postfix "$PF_C" $IP_C mx.c.test c.test \
    "smtpd_tls_cert_file = $OUT/members/c-chain.pem" "smtpd_tls_key_file = $OUT/members/c.key" \
    "smtp_tls_cert_file = $OUT/members/c-chain.pem" "smtp_tls_key_file = $OUT/members/c.key"
LAB_PF_MORE+=("$PF_C/conf")
# B's outbound policy: the access map entries tlstrustctl exports.
mkdir -p "$SM_B"
"$CTL" -c "${LAB_MILTER_DIR[b]}/tlstrust.conf" export sendmail >"$SM_B/access.txt" 2>"$LAB_DIR/export.err" ||
    { cat "$LAB_DIR/export.err" >&2; lab_die "tlstrustctl export sendmail failed"; }
lab_sendmail_fetch
: >"$SM_B/makemap.cf"
"$LAB_SM_ROOT/usr/libexec/sendmail/makemap" -C "$SM_B/makemap.cf" hash "$SM_B/access" <"$SM_B/access.txt" ||
    lab_die "makemap of the exported access map failed"
sm_b_start "$NET/members/b-chain.pem" "$NET/members/b.key"

# ---------------------------------------------------------------- scenarios

CHAIN_NET='issuer.*CN ?= ?Lab Net Issuing CA'

# 0: the lab itself: each server's chain as posttls-finger sees it, and the
# policy A's Postfix gets from the socketmap.
s0() {
    local out
    out=$(finger $IP_A mx.a.test)
    check "0 posttls-finger A: Verified against the network's CA" want_true "$out" grep -q 'Verified TLS connection established' <<<"$out"
    check "0 posttls-finger A: chain issued by the network's intermediate" want_true "$out" grep -Eq "$CHAIN_NET" <<<"$out"
    out=$(finger $IP_B mx.b.test)
    check "0 posttls-finger B: Verified against the network's CA" want_true "$out" grep -q 'Verified TLS connection established' <<<"$out"
    check "0 posttls-finger B: chain issued by the network's intermediate" want_true "$out" grep -Eq "$CHAIN_NET" <<<"$out"
    out=$(finger $IP_C mx.c.test)
    check "0 posttls-finger C: not verified by the network's CA, chain of another CA" \
        want_unverified "$out" 'issuer.*CN ?= ?Elsewhere Issuing CA' 
    out=$(postmap -c "$PF_A/conf" -q b.test "socketmap:inet:127.0.0.1:$PM_PORT:tlstrust" 2>&1 || true)
    check "0 postmap -q b.test on A's socketmap: secure with the network's bundle" want_true "$out" \
        grep -Eq "^secure .*tafile=$NET/network.pem.* match=\\.b\\.test" <<<"$out"
    local rc=0
    postmap -c "$PF_A/conf" -q c.test "socketmap:inet:127.0.0.1:$PM_PORT:tlstrust" >/dev/null 2>&1 || rc=$?
    check "0 postmap -q c.test on A's socketmap: not found (exit 1)" want_true "exit $rc" test $rc -eq 1
    check "0 B's access map holds the exported TLS_Rcpt entry for a.test" want_true "$(cat "$SM_B/access.txt")" \
        grep -Eq '^TLS_Rcpt:a\.test[[:space:]]+TEMP\+VERIFY\+CITag:TLSTRUST_labnet' "$SM_B/access.txt"
}

# 1: A -> B and B -> A over TLS verified by the network's CA, both sides
# presenting their certificates, and tagged trusted on arrival.
s1() {
    local asked
    asked=$(grep -c 'socketmap: b\.test: OK secure' "$(lab_milter_log a)" || true)
    pf_inject "$PF_A/conf" sendmail-s1ab x@a.test root@b.test
    check "1 A->B: stored by B tagged trusted, network=labnet" \
        want_tag sendmail s1ab "$(lvl trusted)" "$(kv network=labnet)" "$(kv 'authserv-id=mx\.b\.test')"
    check "1 A->B: A's smtp logs Verified TLS to b.test" \
        want_log "$PF_A/maillog" 'smtp\[[0-9]+\]: Verified TLS connection established to b\.test\[127\.0\.0\.12\]:25'
    check "1 A->B: A's smtp logs the delivery sent" want_log "$PF_A/maillog" 'to=<root@b\.test>, relay=b\.test\[127\.0\.0\.12\]:25, .*status=sent'
    check "1 A->B: A's smtp asked the milter's socketmap for b.test" want_true "still $asked answers" \
        test "$(grep -c "socketmap: b\.test: OK secure tafile=$NET/network\.pem" "$(lab_milter_log a)")" -gt "$asked"
    local rc=0
    sm_inject postfix-s1ba x@b.test y@a.test || rc=$?
    check "1 B->A: B's sendmail -odi delivered (exit 0)" want_true "exit $rc: $(tail -n 5 "$SM_B/send-postfix-s1ba.log")" test $rc -eq 0
    check "1 B->A: stored by A tagged trusted, network=labnet" \
        want_tag postfix s1ba "$(lvl trusted)" "$(kv network=labnet)" "$(kv 'authserv-id=mx\.a\.test')"
    check "1 B->A: A's smtpd logs a Trusted TLS connection from B (client certificate verified)" \
        want_log "$PF_A/maillog" 'smtpd\[[0-9]+\]: Trusted TLS connection established from [^ ]*\[127\.0\.0\.12\]'
}

# 3: the outsider's mail to A is tagged as what it is: encrypted, not trusted.
s3() {
    pf_inject "$PF_C/conf" postfix-s3ca x@c.test y@a.test
    check "3 C->A: stored by A tagged encrypted, not trusted" \
        want_tag postfix s3ca "$(lvl encrypted)" '!trusted' '!network='
    check "3 C->A: C's smtp logs an Untrusted TLS connection to a.test" \
        want_log "$PF_C/maillog" 'smtp\[[0-9]+\]: Untrusted TLS connection established to a\.test\[127\.0\.0\.11\]:25'
    # The outsider claiming a member's domain meets the member's rule.
    pf_inject "$PF_C/conf" postfix-s3forged x@b.test z@a.test
    check "3 C->A as b.test: A defers it (C's smtp logs 4.7.x from a.test)" \
        want_log "$PF_C/maillog" 'to=<z@a\.test>, relay=a\.test.*status=deferred \(host a\.test\[127\.0\.0\.11\] said: 4[0-9][0-9] 4\.7\.' 15
    check "3 C->A as b.test: not delivered" want_no_msg postfix s3forged
    postsuper -c "$PF_C/conf" -d ALL >/dev/null 2>&1 || true
}

# 2: B presents a certificate of another CA: A does not deliver to it.
s2() {
    sm_b_start "$OUT/members/b-forged-chain.pem" "$OUT/members/b-forged.key"
    local out
    out=$(finger $IP_B mx.b.test)
    check "2 posttls-finger B (forged): not verified, chain of another CA" \
        want_unverified "$out" 'issuer.*CN ?= ?Elsewhere Issuing CA' 
    pf_inject "$PF_A/conf" sendmail-s2 x@a.test root@b.test
    check "2 A->B (forged): A defers, and logs why" \
        want_log "$PF_A/maillog" 'to=<root@b\.test>, relay=b\.test\[127\.0\.0\.12\]:25, .*status=deferred \(.*[Cc]ertificate' 20
    check "2 A->B (forged): A's smtp logs the untrusted server certificate" \
        want_log "$PF_A/maillog" 'smtp\[[0-9]+\]: server certificate verification failed for b\.test\[127\.0\.0\.12\]:25'
    check "2 A->B (forged): nothing reached B" want_no_msg sendmail s2
    check "2 A->B (forged): the message waits in A's queue" want_true "queued: $(lab_postfix_queued)" test "$(lab_postfix_queued)" -ge 1
    postsuper -c "$PF_A/conf" -d ALL >/dev/null 2>&1 || true
    sm_b_start "$NET/members/b-chain.pem" "$NET/members/b.key"

    # The other way: A presents another CA's certificate; B's TLS_Rcpt entry
    # (tlstrustctl export sendmail) keeps the mail.
    pf_a_server_cert "$OUT/members/a-forged-chain.pem" "$OUT/members/a-forged.key"
    local rc=0
    sm_inject postfix-s2ba x@b.test y@a.test || rc=$?
    local qf
    qf=$(grep -l -F 'X-Test-Id: postfix-s2ba' "$LAB_SM_QUEUE"/qf* 2>/dev/null | head -n1 || true)
    check "2 B->A (forged): B defers before RCPT (tls_rcpt), no RCPT sent" \
        want_deferred_before_rcpt "$SM_B/send-postfix-s2ba.log" y@a.test
    check "2 B->A (forged): the message stays in B's queue, reason authentication failed" \
        want_true "qf: ${qf:-none}" grep -qx 'Mauthentication failed' "${qf:-/dev/null}"
    check "2 B->A (forged): nothing reached A" want_no_msg postfix s2ba
    pf_a_server_cert "$NET/members/a-chain.pem" "$NET/members/a.key"
}

# pf_a_server_cert CERT KEY: A's Postfix serves this certificate from now on.
pf_a_server_cert() {
    postconf -c "$PF_A/conf" -e "smtpd_tls_cert_file = $1" "smtpd_tls_key_file = $2"
    postfix -c "$PF_A/conf" reload >/dev/null 2>&1
    sleep 1
}

# 4: a revoked member certificate: Postfix A refuses it by fingerprint
# (check_ccert_access), Sendmail B by its CRL.
s4() {
    net_swaks $IP_B sendmail-s4pre a-old x@a.test root@b.test
    check "4 before revocation: B takes A's old certificate as trusted" \
        want_tag sendmail s4pre "$(lvl trusted)" "$(kv network=labnet)"
    "$PKI_SCRIPT" -d "$NET" revoke a-old keyCompromise >/dev/null
    "$PKI_SCRIPT" -d "$NET" crl >/dev/null
    chmod 644 "$NET/crl/int.crl.pem"
    cp "$NET/postfix/revoked-ccert" "$PF_A/conf/revoked-ccert"
    postmap -c "$PF_A/conf" "hash:$PF_A/conf/revoked-ccert"
    postconf -c "$PF_A/conf" -e "smtpd_client_restrictions = check_ccert_access hash:$PF_A/conf/revoked-ccert"
    postfix -c "$PF_A/conf" reload >/dev/null 2>&1
    sm_b_start "$NET/members/b-chain.pem" "$NET/members/b.key"
    sleep 1
    net_swaks $IP_A postfix-s4rev a-old x@a.test y@a.test
    check "4 revoked: A refuses the client certificate (check_ccert_access)" \
        want_true "reply: $LAB_REPLY" grep -Eq '^5[0-9][0-9] 5\.7\.1 .*certificate revoked' <<<"$LAB_REPLY"
    check "4 revoked: A stored nothing" want_no_msg postfix s4rev
    net_swaks $IP_B sendmail-s4rev a-old x@a.test root@b.test
    check "4 revoked: B's milter defers the sender from a.test (CRL: not verified)" \
        want_true "reply: $LAB_REPLY" grep -Eq '^4[0-9][0-9] 4\.7\.' <<<"$LAB_REPLY"
    check "4 revoked: B queued nothing" want_no_msg sendmail s4rev
    check "4 revoked: B's milter saw the session as encrypted only" \
        want_log "$(lab_milter_log b)" 'refused at MAIL client="localhost\[127\.0\.0\.1\]" from="<x@a\.test>" level=encrypted network=- rule=from:a\.test'
    net_swaks $IP_A postfix-s4cur a x@a.test y@a.test
    check "4 A's current certificate: A still takes it as trusted" \
        want_tag postfix s4cur "$(lvl trusted)" "$(kv network=labnet)"
    net_swaks $IP_B sendmail-s4cur a x@a.test root@b.test
    check "4 A's current certificate: B (with the CRL) still takes it as trusted" \
        want_tag sendmail s4cur "$(lvl trusted)" "$(kv network=labnet)"
}

# 5: the survey (issue 12) sees what each server offers, as a sending MTA
# meets it: A and B present the network's certificate (trusted by labnet,
# the name matches), the outsider C a chain no network and no system store
# trusts. Run from A's configuration, with a StateDatabase of its own and
# the lab's DNS (ldns-testns: MX and addresses) as its resolver.
s5() {
    local d=$LAB_DIR/survey out
    mkdir -p "$d"
    chown nobody "$d"
    cp "${LAB_MILTER_DIR[a]}/domains.table" "$d/"
    grep -Ev '^(Socket|PolicyMapSocket)' "${LAB_MILTER_DIR[a]}/tlstrust.conf" >"$d/tlstrust.conf"
    lab_dns_start "$LAB_SRC/network-dns.data"
    printf 'StateDatabase   state.db\nDnsResolver     127.0.0.1@%s\n' "$LAB_DNS_PORT" >>"$d/tlstrust.conf"
    # Each domain's MX from DNS, port 25 of its address, as a sending MTA does.
    out=$("$CTL" -c "$d/tlstrust.conf" survey --delay 0 --timeout 10 a.test b.test c.test 2>&1)
    printf '# %s\n' "${out//$'\n'/$'\n'# }"
    check "5 survey A: STARTTLS, trusted by labnet, name matches" \
        want_true "$out" grep -Eq '^a\.test mx\.a\.test:25 ok level=trusted starttls=yes .*network=labnet .*name=yes' <<<"$out"
    check "5 survey B (Sendmail): STARTTLS, trusted by labnet, name matches" \
        want_true "$out" grep -Eq '^b\.test mx\.b\.test:25 ok level=trusted starttls=yes .*network=labnet .*name=yes' <<<"$out"
    check "5 survey C (outsider): STARTTLS, encrypted only, no network, no system store" \
        want_true "$out" grep -Eq '^c\.test mx\.c\.test:25 ok level=encrypted starttls=yes .*network=- system=no' <<<"$out"
}

echo "# tlstrust e2e: a network of three mail servers (A Postfix, B Sendmail, C outsider)"
for s in 0 5 1 3 2 4; do "s$s"; done
tap_finish
