# shellcheck shell=bash
# shellcheck disable=SC2034  # LAB_* variables are read by the sourcing scripts
# Sourced library: a private Postfix, a private Sendmail, tlstrust-milter
# instances and swaks wrappers, all on 127.0.0.1, all torn down by a trap.
#
#   . test/e2e/lab.sh
#   lab_init                       # work dir, PKI, cleanup trap
#   lab_milter_start pf unix       # milter for Postfix (unix socket)
#   lab_milter_start sm inet       # milter for Sendmail (inet socket)
#   lab_postfix_start pf           # Postfix -> smtp-sink, milter "pf"
#   lab_sendmail_start sm          # Sendmail, queue only, milter "sm"
#   lab_dns_start FILE             # ldns-testns with canned answers (DNS scenarios)
#   lab_send postfix ID tls13 root a@ministerio.test b@receiver.test
#   echo "$LAB_REPLY"; lab_header postfix ID X-TLS-Trust
#
# Environment:
#   TLSTRUST_MILTER     milter binary (default: REPO/build/milter/tlstrust-milter)
#   TLSTRUST_E2E_BASE   where the work dir is made (default: REPO/build, or /run
#                       when REPO has a world-writable ancestor: Sendmail refuses those)
#   TLSTRUST_E2E_KEEP=1 keep the work dir after the run, for debugging
#   TLSTRUST_E2E_CACHE  where the extracted sendmail packages are kept
#                       (default: REPO/build/e2e-cache)
#   LAB_QUIET=1         no "# ..." progress lines on stderr
#   LAB_MILTER_LOGLEVEL, LAB_MILTER_AUTHRESULTS   the milters' LogLevel (debug)
#                       and AuthResults (yes); scripts/bench-mta sets the shipped ones
#   LAB_SM_EXTRA_MC     more lines for Sendmail's .mc (more daemons, MAIL_FILTERs)
#   LAB_SM_DAEMON_OPTS  more DaemonPortOptions for Sendmail's daemon (e.g. Listen=128)
# All state lives in LAB_* variables.

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../testns.sh
. "$LAB_SRC/../testns.sh"
LAB_REPO=$(cd "$LAB_SRC/../.." && pwd)
LAB_MILTER_BIN=${TLSTRUST_MILTER:-$LAB_REPO/build/milter/tlstrust-milter}
LAB_DIR=
LAB_PKI=
LAB_PIDS=()            # background processes we started (milters, sink, sendmail, loops)
LAB_PF_CONF=           # Postfix config dir while it runs
LAB_PF_MORE=()         # config dirs of more Postfix instances (test/e2e/network.sh)
LAB_PF_PORT=
LAB_SM_PORT=
LAB_SINK_DIR=
LAB_SM_QUEUE=
LAB_SM_ROOT=           # extracted sendmail packages
LAB_REPLY=             # see lab_send
LAB_TX=                # swaks transcript of the last lab_send
declare -A LAB_MILTER_PID=() LAB_MILTER_SOCK=() LAB_MILTER_DIR=() LAB_MILTER_USER=()
declare -A LAB_MILTER_EXTRA=()   # extra config lines per milter (see lab_milter_write)
LAB_DNS_PORT=          # ldns-testns, once lab_dns_start ran
LAB_DNS_LOG=
declare -A LAB_USED_PORTS=()

lab_log() { [[ -n ${LAB_QUIET:-} ]] || printf '# %s\n' "$*" >&2; }
lab_die() { printf 'lab: %s\n' "$*" >&2; exit 1; }

# True when PATH or one of its ancestors is world-writable (Sendmail refuses those).
lab_unsafe_path() {
    local d=$1
    while :; do
        if [[ -n $(find "$d" -maxdepth 0 -perm -0002 2>/dev/null) ]]; then return 0; fi
        [[ $d == / ]] && return 1
        d=$(dirname "$d")
    done
}

# lab_workdir: the work dir and the cleanup trap (lab_init without the PKI).
lab_workdir() {
    local base=${TLSTRUST_E2E_BASE:-$LAB_REPO/build}
    mkdir -p "$base"
    if lab_unsafe_path "$base"; then base=/run; fi
    LAB_DIR=$(mktemp -d "$base/tlstrust-e2e.XXXXXX")
    # Postfix daemons (user postfix) must traverse it to reach the milter socket.
    chmod 755 "$LAB_DIR"
    trap lab_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    lab_log "work dir $LAB_DIR"
}

lab_init() {
    lab_workdir
    LAB_PKI=$LAB_DIR/pki
    "$LAB_SRC/pki.sh" "$LAB_PKI" || lab_die "pki.sh failed"
    chmod 755 "$LAB_PKI"
    chmod 644 "$LAB_PKI"/*.pem
}

lab_cleanup() {
    local rc=$? pid conf
    trap - EXIT INT TERM
    set +e
    if [[ -n $LAB_PF_CONF && -d $LAB_PF_CONF ]]; then
        postfix -c "$LAB_PF_CONF" abort >/dev/null 2>&1
        lab_wait_gone "$(lab_pf_master_pid)"
    fi
    for conf in "${LAB_PF_MORE[@]}"; do
        pid=$(postconf -c "$conf" -h queue_directory 2>/dev/null)/pid/master.pid
        pid=$(tr -d ' \n' <"$pid" 2>/dev/null)
        postfix -c "$conf" abort >/dev/null 2>&1
        lab_wait_gone "$pid"
    done
    for pid in "${LAB_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${LAB_PIDS[@]}"; do
        lab_wait_gone "$pid" || kill -9 "$pid" 2>/dev/null
    done
    if [[ -n $LAB_DIR && -d $LAB_DIR ]]; then
        if [[ ${TLSTRUST_E2E_KEEP:-0} == 1 || ($rc != 0 && ${TLSTRUST_E2E_KEEP:-0} == fail) ]]; then
            lab_log "kept $LAB_DIR"
        else
            rm -rf "$LAB_DIR"
        fi
    fi
    exit "$rc"
}

# lab_wait_gone PID: wait up to 5 s for a process to exit.
lab_wait_gone() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

lab_free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        [[ -z ${LAB_USED_PORTS[$p]:-} ]] || continue
        if [[ -z $(ss -Htan "sport = :$p" 2>/dev/null) ]]; then
            LAB_USED_PORTS[$p]=1
            echo "$p"
            return
        fi
    done
}

# lab_wait_port PORT [SECONDS]
lab_wait_port() {
    local i
    for ((i = 0; ; i++)); do
        [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]] && return 0
        ((i < ${2:-10} * 10)) || return 1
        sleep 0.1
    done
}

# ---------------------------------------------------------------- milter

# The domain table all scenarios start from (run.sh may override LAB_TABLE).
LAB_TABLE='# tlstrust e2e domain table
ministerio.test             trusted defer
.ministerio.test            trusted reject
from:monitor.test           trusted monitor
from:verify.test            verify reject
from:encrypt.test           encrypt reject
from:red.test               trusted:redsegura reject
from:subj.test              trusted reject subject=*.subj.test
from:min13.test             encrypt reject min_version=TLSv1.3
to:protected.receiver.test  encrypt reject
to:protégé.receiver.test    encrypt reject
'

# lab_milter_write NAME: (re)write NAME's config and table.
lab_milter_write() {
    local d=${LAB_MILTER_DIR[$1]}
    printf '%s' "$LAB_TABLE" >"$d/domains.table"
    cat >"$d/tlstrust.conf" <<EOF
# tlstrust-milter e2e config ($1)
Socket          ${LAB_MILTER_SOCK[$1]}
TrustedNetwork  redsegura $LAB_PKI/network.pem
TrustedNetwork  aliada $LAB_PKI/aliada.pem
DomainTable     domains.table
DefaultAction   defer
AuthservID      mx.receiver.test
AuthResults     ${LAB_MILTER_AUTHRESULTS:-yes}
UserID          ${LAB_MILTER_USER[$1]}
LogLevel        ${LAB_MILTER_LOGLEVEL:-debug}
Syslog          no
StateDatabase   state/state.db
EOF
    printf '%s' "${LAB_MILTER_EXTRA[$1]:-}" >>"$d/tlstrust.conf"
}

# lab_milter_start NAME unix|inet: start a milter in the foreground (-f),
# logging to LAB_DIR/milter-NAME/milter.log. Its socket is in LAB_MILTER_SOCK[NAME].
lab_milter_start() {
    local name=$1 kind=$2 d=$LAB_DIR/milter-$1
    [[ -x $LAB_MILTER_BIN ]] || lab_die "no milter binary at $LAB_MILTER_BIN (build it first)"
    # Run a private copy, so a rebuild during the run cannot change it underneath.
    if [[ $LAB_MILTER_BIN != "$LAB_DIR/bin/"* ]]; then
        mkdir -p "$LAB_DIR/bin"
        cp "$LAB_MILTER_BIN" "$LAB_DIR/bin/tlstrust-milter"
        LAB_MILTER_BIN=$LAB_DIR/bin/tlstrust-milter
    fi
    if [[ -z ${LAB_MILTER_DIR[$name]:-} ]]; then
        mkdir -p "$d"
        chmod 755 "$d"
        LAB_MILTER_DIR[$name]=$d
        # Unprivileged after opening the socket, as deployed. The unix socket is
        # made 0660 for UserID's group: the postfix group lets smtpd connect.
        if [[ $kind == unix ]]; then
            LAB_MILTER_SOCK[$name]=unix:$d/milter.sock
            LAB_MILTER_USER[$name]=nobody:postfix
        else
            LAB_MILTER_SOCK[$name]=inet:$(lab_free_port)@127.0.0.1
            LAB_MILTER_USER[$name]=nobody
        fi
        # The mail-state history, written by the milter as its UserID.
        mkdir -p "$d/state"
        chown "${LAB_MILTER_USER[$name]%%:*}" "$d/state"
        lab_milter_write "$name"
    fi
    lab_milter_spawn "$name"
}

lab_milter_spawn() {
    local name=$1 d=${LAB_MILTER_DIR[$1]} sock=${LAB_MILTER_SOCK[$1]} i
    rm -f "${sock#unix:}"
    "$LAB_MILTER_BIN" -f -c "$d/tlstrust.conf" -p "$sock" >>"$d/milter.log" 2>&1 &
    LAB_MILTER_PID[$name]=$!
    LAB_PIDS+=("$!")
    for ((i = 0; i < 100; i++)); do
        kill -0 "${LAB_MILTER_PID[$name]}" 2>/dev/null ||
            { cat "$d/milter.log" >&2; lab_die "milter $name exited at start"; }
        case $sock in
        unix:*) [[ -S ${sock#unix:} ]] && return 0 ;;
        inet:*) lab_wait_port "$(lab_milter_inet_port "$name")" 0 && return 0 ;;
        esac
        sleep 0.1
    done
    cat "$d/milter.log" >&2
    lab_die "milter $name did not open $sock"
}

lab_milter_log() { printf '%s\n' "${LAB_MILTER_DIR[$1]}/milter.log"; }
lab_milter_hup() { kill -HUP "${LAB_MILTER_PID[$1]}"; }
lab_milter_alive() { kill -0 "${LAB_MILTER_PID[$1]}" 2>/dev/null; }
lab_milter_kill9() { kill -9 "${LAB_MILTER_PID[$1]}"; wait "${LAB_MILTER_PID[$1]}" 2>/dev/null || true; }
lab_milter_inet_port() { local s=${LAB_MILTER_SOCK[$1]#inet:}; echo "${s%@*}"; }

# lab_milter_reload NAME: rewrite NAME's config, SIGHUP, and wait up to 5 s
# for the milter to log the outcome; fails when the reload failed.
lab_milter_reload() {
    local log=${LAB_MILTER_DIR[$1]}/milter.log n i
    lab_milter_write "$1"
    n=$(grep -cE 'reloaded |reload failed' "$log" || true)
    lab_milter_hup "$1"
    for ((i = 0; i < 50; i++)); do
        if (($(grep -cE 'reloaded |reload failed' "$log" || true) > n)); then
            [[ $(grep -E 'reloaded |reload failed' "$log" | tail -n1) == *'reloaded '* ]]
            return
        fi
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- DNS

# lab_dns_start ANSWERS: ldns-testns serving ANSWERS (canned replies) on a
# random port; sets LAB_DNS_PORT. It binds the IPv4 wildcard (no option to
# do otherwise), but the milter only ever asks 127.0.0.1@LAB_DNS_PORT.
# -v logs each query to LAB_DNS_LOG. Stopped by lab_cleanup.
lab_dns_start() {
    command -v ldns-testns >/dev/null || lab_die "ldns-testns not found (package ldnsutils)"
    LAB_DNS_LOG=$LAB_DIR/ldns-testns.log
    if ! testns_start "$1" "$LAB_DNS_LOG"; then
        cat "$LAB_DNS_LOG" >&2
        lab_die "ldns-testns did not start"
    fi
    LAB_PIDS+=("$TESTNS_PID")
    LAB_DNS_PORT=$TESTNS_PORT
}

# ---------------------------------------------------------------- Postfix

lab_pf_master_pid() {
    local f=$LAB_DIR/postfix/queue/pid/master.pid
    [[ -r $f ]] && tr -d ' \n' <"$f"
    return 0
}

# lab_postfix_services: the master.cf lines every private Postfix runs,
# without chroot (the lab's paths are outside any chroot); each instance
# puts its own smtpd listeners before them.
lab_postfix_services() {
    cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
virtual   unix  -       n       n       -       -       virtual
EOF
}

# lab_postfix_start [MILTER]: Postfix on a free port relaying receiver.test
# (and subdomains) to smtp-sink, which writes each message into LAB_SINK_DIR.
lab_postfix_start() {
    local milter=${1:-} d=$LAB_DIR/postfix sinkport smtpd_milters=
    [[ -n $milter ]] && smtpd_milters=${LAB_MILTER_SOCK[$milter]}
    mkdir -p "$d/conf" "$d/queue" "$d/data" "$d/sink"
    chmod 755 "$d" "$d/conf"
    # master.lock lives in data_directory, which must belong to postfix.
    chown postfix: "$d/data"
    # smtp-sink drops privileges to nobody before writing.
    chown nobody "$d/sink"
    LAB_SINK_DIR=$d/sink
    LAB_PF_PORT=$(lab_free_port)
    sinkport=$(lab_free_port)

    smtp-sink -u nobody -d "$d/sink/%H%M%S." "127.0.0.1:$sinkport" 100 >"$d/sink.log" 2>&1 &
    LAB_PIDS+=("$!")
    lab_wait_port "$sinkport" || lab_die "smtp-sink did not start"

    cat >"$d/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = mx.receiver.test
mydomain = receiver.test
myorigin = \$myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = receiver.test
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
transport_maps = inline:{ receiver.test=smtp:[127.0.0.1]:$sinkport, .receiver.test=smtp:[127.0.0.1]:$sinkport }
default_transport = error:5.3.0 the e2e lab delivers to receiver.test only
alias_maps =
alias_database =
biff = no
# The lab sends many refused transactions: no penalty sleeps, no rate limits.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
in_flow_delay = 0
# Quick retries after a tempfail, to see queued mail reach the sink.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtpd_tls_security_level = may
smtpd_tls_cert_file = $LAB_PKI/server.pem
smtpd_tls_key_file = $LAB_PKI/server.key
smtpd_tls_CAfile = $LAB_PKI/mta-cafile.pem
smtpd_tls_ask_ccert = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtp_tls_security_level = none
smtpd_milters = $smtpd_milters
non_smtpd_milters =
# Recommended: a dead or hung milter makes Postfix answer 4xx, so the
# client keeps the message and retries (scenario 12 shows none is lost).
milter_default_action = tempfail
milter_protocol = 6
EOF
    # Own master.cf: no chroot (the lab paths are outside any chroot), smtpd on our port.
    { echo "127.0.0.1:$LAB_PF_PORT inet n - n - - smtpd"; lab_postfix_services; } >"$d/conf/master.cf"
    LAB_PF_CONF=$d/conf
    # -c needs an absolute path.
    postfix -c "$LAB_PF_CONF" start >"$d/start.log" 2>&1 ||
        { cat "$d/start.log" "$d/maillog" >&2 2>/dev/null; lab_die "postfix start failed"; }
    lab_wait_port "$LAB_PF_PORT" ||
        { cat "$d/start.log" "$d/maillog" >&2 2>/dev/null; lab_die "postfix smtpd not listening"; }
}

lab_postfix_stop() {
    [[ -n $LAB_PF_CONF ]] || return 0
    local pid
    pid=$(lab_pf_master_pid)
    postfix -c "$LAB_PF_CONF" stop >/dev/null 2>&1 || true
    lab_wait_gone "$pid" || postfix -c "$LAB_PF_CONF" abort >/dev/null 2>&1 || true
    LAB_PF_CONF=
}

lab_postfix_flush() { postqueue -c "$LAB_PF_CONF" -f >/dev/null 2>&1 || true; }

# Number of messages still in Postfix's queue.
lab_postfix_queued() {
    find "$LAB_DIR/postfix/queue"/{incoming,active,deferred,hold} -type f 2>/dev/null | wc -l
}

# ---------------------------------------------------------------- Sendmail

# Download and unpack sendmail-bin and sendmail-cf once (they conflict with
# postfix as packages, so they are never installed).
lab_sendmail_fetch() {
    local cache=${TLSTRUST_E2E_CACHE:-$LAB_REPO/build/e2e-cache} tmp
    LAB_SM_ROOT=$cache/sendmail
    [[ -x $LAB_SM_ROOT/usr/libexec/sendmail/sendmail && -r $LAB_SM_ROOT/usr/share/sendmail/cf/m4/cf.m4 ]] &&
        return 0
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/dl.XXXXXX")
    # _apt must be able to write the download dir, or apt warns and falls back.
    chmod 755 "$tmp"
    if ! (cd "$tmp" && apt-get download sendmail-bin sendmail-cf >/dev/null 2>&1); then
        apt-get update >/dev/null 2>&1 || true
        (cd "$tmp" && apt-get download sendmail-bin sendmail-cf >/dev/null) ||
            lab_die "apt-get download sendmail-bin sendmail-cf failed"
    fi
    rm -rf "$LAB_SM_ROOT.new"
    mkdir -p "$LAB_SM_ROOT.new"
    for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$LAB_SM_ROOT.new"; done
    rm -rf "$tmp" "$LAB_SM_ROOT"
    mv "$LAB_SM_ROOT.new" "$LAB_SM_ROOT"
}

# lab_sendmail_start [MILTER]: Sendmail on a free port, delivery mode
# queueonly: accepted messages stay in LAB_SM_QUEUE as qf/df files.
lab_sendmail_start() {
    local milter=${1:-} d=$LAB_DIR/sendmail cf filter='' sm
    lab_sendmail_fetch
    cf=$LAB_SM_ROOT/usr/share/sendmail/cf
    sm=$LAB_SM_ROOT/usr/libexec/sendmail/sendmail
    mkdir -p "$d/hoststat"
    chmod 755 "$d"
    mkdir -p "$d/mqueue"
    chmod 700 "$d/mqueue"
    : >"$d/aliases"
    LAB_SM_QUEUE=$d/mqueue
    LAB_SM_PORT=$(lab_free_port)
    if [[ -n $milter ]]; then
        # F=T: tempfail when the milter is unavailable (the Postfix tempfail analogue).
        filter="INPUT_MAIL_FILTER(\`tlstrust', \`S=${LAB_MILTER_SOCK[$milter]}, F=T, T=C:10s;S:30s;R:30s;E:1m')dnl"
    fi
    cat >"$d/lab.mc" <<EOF
divert(-1)
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.receiver.test')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`HELP_FILE', \`$d/helpfile')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confCW_FILE', \`-o $d/local-host-names')dnl
define(\`confDEAD_LETTER_DROP', \`$d/dead.letter')dnl
define(\`confHOST_STATUS_DIRECTORY', \`$d/hoststat')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confMAX_DAEMON_CHILDREN', \`0')dnl
define(\`confCONNECTION_RATE_THROTTLE', \`0')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confCACERT_PATH', \`$LAB_PKI')dnl
define(\`confCACERT', \`$LAB_PKI/mta-cafile.pem')dnl
define(\`confSERVER_CERT', \`$LAB_PKI/server.pem')dnl
define(\`confSERVER_KEY', \`$LAB_PKI/server.key')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$LAB_SM_PORT, Addr=127.0.0.1, Name=MTA${LAB_SM_DAEMON_OPTS:+, $LAB_SM_DAEMON_OPTS}')dnl
$filter
${LAB_SM_EXTRA_MC:-}
MAILER(\`smtp')dnl
EOF
    m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$d/lab.mc" >"$d/lab.cf" || lab_die "m4 sendmail cf failed"
    # -bD: daemon in the foreground, so the pid we get is the daemon's.
    # unshare -u + a qualified host name: unqualified, sendmail sleeps 60 s.
    # -X: SMTP trace, the only log here (there is no syslog daemon).
    unshare -u sh -c 'hostname mx.receiver.test && exec "$@"' sh \
        "$sm" -C "$d/lab.cf" -bD -X "$d/trace.log" >"$d/sendmail.out" 2>&1 &
    LAB_PIDS+=("$!")
    lab_wait_port "$LAB_SM_PORT" 20 || { cat "$d/sendmail.out" >&2; lab_die "sendmail not listening"; }
}

# ---------------------------------------------------------------- swaks

# lab_port MTA
lab_port() {
    case $1 in
    postfix) echo "$LAB_PF_PORT" ;;
    sendmail) echo "$LAB_SM_PORT" ;;
    *) lab_die "unknown MTA $1" ;;
    esac
}

# lab_swaks MTA MODE CERT [swaks args...]: one swaks session; transcript on stdout.
#   MODE: plain | tls | tls12 | tls13     CERT: - (none) or a client-CERT name from pki.sh
lab_swaks() {
    local mta=$1 mode=$2 cert=$3 port
    shift 3
    port=$(lab_port "$mta")
    local args=(--server 127.0.0.1 --port "$port" --helo client.lab.test --timeout 60)
    case $mode in
    plain) ;;
    tls) args+=(--tls) ;;
    tls12) args+=(--tls --tls-protocol tlsv1_2) ;;
    tls13) args+=(--tls --tls-protocol tlsv1_3) ;;
    *) lab_die "unknown mode $mode" ;;
    esac
    if [[ $cert != - ]]; then
        args+=(--tls-cert "$LAB_PKI/client-$cert.pem" --tls-key "$LAB_PKI/client-$cert.key")
    fi
    swaks "${args[@]}" "$@" 2>&1 || true
}

# lab_send MTA ID MODE CERT FROM TO [swaks args...]
# Sends one message carrying "X-Test-Id: MTA-ID" (TO may be a,b,c).
# Sets LAB_TX (transcript file) and LAB_REPLY: the first refusal ("450 4.7.10 ...")
# if any command was refused, else the reply to the end of DATA.
lab_send() {
    local mta=$1 id=$2 mode=$3 cert=$4 from=$5 to=$6
    shift 6
    mkdir -p "$LAB_DIR/tx"
    LAB_TX=$LAB_DIR/tx/$mta-$id.txt
    lab_swaks "$mta" "$mode" "$cert" --from "$from" --to "$to" \
        --add-header "X-Test-Id: $mta-$id" "$@" >"$LAB_TX"
    LAB_REPLY=$(lab_reply "$LAB_TX")
}

# lab_reply TRANSCRIPT: first refusal, else the reply to the final ".".
lab_reply() {
    awk '
        /^<[-~]?\*\* +[0-9][0-9][0-9]/ || /^<~\* +[0-9][0-9][0-9]/ { sub(/^<[^ ]* +/, ""); print; found = 1; exit }
        /^ [-~]> \.$/ { dot = 1; next }
        dot && /^<[-~] +[0-9][0-9][0-9]/ { sub(/^<[^ ]* +/, ""); final = $0; dot = 0 }
        END { if (!found) print final }
    ' "$1"
}

# lab_final_reply TRANSCRIPT: the reply to the final "." (empty if DATA was never finished).
lab_final_reply() {
    awk '
        /^ [-~]> \.$/ { dot = 1; next }
        dot && /^<[^ ]* +[0-9][0-9][0-9]/ { sub(/^<[^ ]* +/, ""); print; exit }
    ' "$1"
}

# lab_rcpt_reply TRANSCRIPT ADDR: the reply to RCPT TO:<ADDR>.
lab_rcpt_reply() {
    awk -v a="RCPT TO:<$2>" '
        want && /^<[^ ]* +[0-9][0-9][0-9]/ { sub(/^<[^ ]* +/, ""); print; exit }
        /^ [-~]> / { line = $0; sub(/^ [-~]> /, "", line); want = (line == a) }
    ' "$1"
}

# lab_code REPLY: "450 4.7.10 text" -> "450 4.7.10"
lab_code() {
    sed -E 's/^([0-9]{3})-/\1 /' <<<"$1" |
        awk '{ if ($2 ~ /^[245]\.[0-9]+\.[0-9]+$/) print $1, $2; else print $1 }'
}

# ---------------------------------------------------------------- reading messages back

# lab_msg_file MTA ID [WAIT]: path of the stored message (Postfix: sink file,
# Sendmail: qf file) carrying X-Test-Id: MTA-ID; waits up to WAIT seconds
# (default 0) for Postfix to relay it. Prints nothing when there is none.
lab_msg_file() {
    local mta=$1 tid="$1-$2" wait=${3:-0} i f tx=$LAB_DIR/tx/$1-$2.txt
    # Only a message the MTA accepted is worth waiting for.
    if [[ -r $tx && $(lab_final_reply "$tx") != 2* ]]; then wait=0; fi
    for ((i = 0; i <= wait * 5; i++)); do
        if [[ $mta == postfix ]]; then
            f=$(grep -lx -F "X-Test-Id: $tid" -r "$LAB_SINK_DIR" 2>/dev/null | head -n1 || true)
        else
            f=$(grep -lx -F "H??X-Test-Id: $tid" "$LAB_SM_QUEUE"/qf* 2>/dev/null | head -n1 || true)
        fi
        [[ -n $f ]] && { echo "$f"; return 0; }
        ((i < wait * 5)) && { ((i % 10 == 9)) && [[ $mta == postfix ]] && lab_postfix_flush; sleep 0.2; }
    done
    return 0
}

# lab_headers MTA ID [WAIT]: the message's header section, one unfolded header a line.
lab_headers() {
    local f
    f=$(lab_msg_file "$@")
    [[ -n $f ]] || return 0
    if [[ $1 == postfix ]]; then
        tr -d '\r' <"$f" | awk '
            /^$/ { exit }
            /^[ \t]/ { cur = cur $0; next }
            { if (cur != "") print cur; cur = $0 }
            END { if (cur != "") print cur }'
    else
        # qf: header lines are "H?flags?Name: value", continuations start with a tab.
        awk '
            /^\.$/ { exit }
            /^H/ { if (cur != "") print cur; cur = $0; sub(/^H(\?[^?]*\?)?/, "", cur); inh = 1; next }
            inh && /^[ \t]/ { cur = cur $0; next }
            { if (cur != "") print cur; cur = ""; inh = 0 }
            END { if (cur != "") print cur }' "$f"
    fi
}

# lab_header MTA ID NAME [WAIT]: values of header NAME (any case), one a line.
lab_header() {
    lab_headers "$1" "$2" "${4:-0}" | awk -v n="$3" '
        { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == tolower(n)) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v } }'
}

# lab_rcpts MTA ID [WAIT]: envelope recipients of the stored message, one a line.
lab_rcpts() {
    local f
    f=$(lab_msg_file "$@")
    [[ -n $f ]] || return 0
    if [[ $1 == postfix ]]; then
        # smtp-sink -d records each RCPT command as an X-Rcpt-Args header.
        tr -d '\r' <"$f" | sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p'
    else
        sed -n 's/^R[^:]*:<\([^>]*\)>.*/\1/p' "$f"
    fi
}
