#!/usr/bin/env bash
# survey.sh - tlstrustctl survey against real servers on loopback: a
# private Postfix with one smtpd per case (a network member's certificate,
# an outsider's, an expired member's, no STARTTLS, TLS 1.2 only), a server
# that greets with 421 and one that never speaks, and ldns-testns for the
# MX, address, TLSA and MTA-STS records. Certificates are made now with
# scripts/pki and openssl ca. The expected TLS versions come from openssl
# s_client against the same ports, the expected key hash from openssl.
# Then tlstrustctl report renders the rows the survey stored, and headless
# Chromium shows the probed MX in the page (screenshot kept in ARTEFACTS).
#
# Usage: test/map/survey.sh TLSTRUSTCTL ARTEFACTS-DIR
# Starts Postfix: run it under the lab lock (flock /tmp/tlstrust-e2e.lock).
set -euo pipefail
ctl=${1:?usage: survey.sh TLSTRUSTCTL ARTEFACTS-DIR}
art=${2:?usage: survey.sh TLSTRUSTCTL ARTEFACTS-DIR}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkdir -p "$art"
art=$(cd "$art" && pwd)

w=$(mktemp -d /tmp/tlstrust-survey-XXXXXX)
chmod 755 "$w"
pids=()
pf_conf=
cleanup() {
    set +e
    [ -n "$pf_conf" ] && postfix -c "$pf_conf" abort >/dev/null 2>&1
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$w"
}
[ -n "${SURVEY_KEEP:-}" ] || trap cleanup EXIT

failures=0
ok() { echo "ok: $*"; }
bad() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

declare -A used=()
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        [ -z "${used[$p]:-}" ] || continue
        if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
            used[$p]=1
            echo "$p"
            return
        fi
    done
}
wait_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}

# ---- certificates: the network's CA, a member, an expired member, an outsider
pki=$top/scripts/pki
"$pki" -d "$w/net" init-root "/O=Red Segura/CN=Red Segura Root CA" >/dev/null
"$pki" -d "$w/net" init-intermediate "/O=Red Segura/CN=Red Segura Issuing CA" >/dev/null
"$pki" -d "$w/net" issue member mx.member.test >/dev/null
"$pki" -d "$w/other" init-root "/CN=Outsider Root" >/dev/null
"$pki" -d "$w/other" init-intermediate "/CN=Outsider Issuing" >/dev/null
"$pki" -d "$w/other" issue outsider mx.outsider.test >/dev/null
# A second network the member and the outsider are not of: "which network" must be found.
"$pki" -d "$w/ali" init-root "/O=Aliada/CN=Aliada Root CA" >/dev/null
# The expired member: the network's intermediate signs it for a period in the past.
openssl req -new -newkey rsa:2048 -nodes -keyout "$w/expired.key" -subj "/CN=mx.expired.test" \
    -out "$w/expired.csr" 2>/dev/null
printf '%s\n' "[member]" "basicConstraints = critical, CA:FALSE" \
    "keyUsage = critical, digitalSignature, keyEncipherment" \
    "extendedKeyUsage = serverAuth, clientAuth" "subjectAltName = DNS:mx.expired.test" >"$w/expired.ext"
openssl ca -batch -notext -config "$w/net/int/openssl.cnf" -in "$w/expired.csr" \
    -out "$w/expired.pem" -startdate 20250101000000Z -enddate 20250401000000Z -md sha256 \
    -extensions member -extfile "$w/expired.ext" >/dev/null 2>&1
cat "$w/expired.pem" "$w/net/int/ca.pem" >"$w/expired-chain.pem"
m=$w/net/members
spki=$(openssl x509 -in "$m/member.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1)
member_fp=$(openssl x509 -in "$m/member.pem" -noout -fingerprint -sha256 | cut -d= -f2)

# ---- DNS
sed "s/@MEMBER_SPKI@/$spki/" "$here/answers.data.in" >"$w/answers.data"
# shellcheck source=../testns.sh
. "$here/../testns.sh"
testns_start "$w/answers.data" "$w/testns.log" || { cat "$w/testns.log"; echo "ldns-testns did not start"; exit 1; }
pids+=("$TESTNS_PID")
dns_port=$TESTNS_PORT

# ---- servers that cannot be judged: 421 at the greeting, and silence
python3 - "$w" <<'PY' &
import socket, sys, threading, os
def serve(name, greeting):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    with open(os.path.join(sys.argv[1], name + ".tmp"), "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(os.path.join(sys.argv[1], name + ".tmp"), os.path.join(sys.argv[1], name))
    conns = []
    while True:
        c, _ = s.accept()
        conns.append(c)  # keep it open: the stalled server never answers
        if greeting:
            c.sendall(greeting)
            c.close()
threading.Thread(target=serve, args=("busy.port", b"421 4.3.2 mx.busy.test too busy, try later\r\n"), daemon=True).start()
serve("stall.port", None)
PY
pids+=($!)
for _ in $(seq 1 100); do [ -s "$w/busy.port" ] && [ -s "$w/stall.port" ] && break; sleep 0.1; done
busy_port=$(cat "$w/busy.port")
stall_port=$(cat "$w/stall.port")

# ---- Postfix: one smtpd per case
pa=$(free_port) pb=$(free_port) pc=$(free_port) pd=$(free_port) pe=$(free_port)
d=$w/postfix
mkdir -p "$d/conf" "$d/queue" "$d/data"
chmod 755 "$d" "$d/conf"
chown postfix: "$d/data"
cat >"$d/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = mx.survey.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtpd_tls_security_level = may
smtpd_tls_cert_file = $m/member-chain.pem
smtpd_tls_key_file = $m/member.key
smtpd_tls_loglevel = 1
EOF
o=$w/other/members
cat >"$d/conf/master.cf" <<EOF
127.0.0.1:$pa inet n - n - - smtpd
127.0.0.1:$pb inet n - n - - smtpd -o smtpd_tls_cert_file=$o/outsider-chain.pem -o smtpd_tls_key_file=$o/outsider.key
127.0.0.1:$pc inet n - n - - smtpd -o smtpd_tls_cert_file=$w/expired-chain.pem -o smtpd_tls_key_file=$w/expired.key
127.0.0.1:$pd inet n - n - - smtpd -o smtpd_tls_security_level=none
127.0.0.1:$pe inet n - n - - smtpd -o smtpd_tls_protocols=!SSLv2,!SSLv3,!TLSv1.3
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
pf_conf=$d/conf
postfix -c "$pf_conf" start >"$d/start.log" 2>&1 || { cat "$d/start.log" "$d/maillog" 2>/dev/null || true; exit 1; }
for p in $pa $pb $pc $pd $pe; do
    wait_port "$p" || { cat "$d/maillog"; echo "smtpd on $p did not listen"; exit 1; }
done

# ---- the survey
cat >"$w/tlstrust.conf" <<EOF
TrustedNetwork  aliada $w/ali/root/ca.pem
TrustedNetwork  redsegura $w/net/network.pem
DomainTable     domains
DnsResolver     127.0.0.1@$dns_port
StateDatabase   $w/state.db
AuthservID      prober.survey.test
EOF
cat >"$w/domains" <<EOF
from:member.test     trusted:redsegura reject
from:.outsider.test  trusted:redsegura monitor
from:aliada.test     trusted:aliada reject
from:encrypt.test    encrypt reject
EOF
survey() { "$ctl" -c "$w/tlstrust.conf" survey --delay 0 --timeout 3 "$@"; }
line_of() { grep -E "^$1 " <<<"$out" | head -n1; }
expect() { # WHAT LINE REGEX
    if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else bad "$1: /$3/ not in: $2"; fi
}

rc=0
out=$(survey --mx "mx.member.test:$pa" member.test) || rc=$?
echo "$out"
l=$(line_of member.test)
expect "member: ok, trusted by redsegura" "$l" " ok level=trusted starttls=yes .* network=redsegura system=no name=yes"
expect "member: TLSA signed and DANE matches" "$l" " tlsa=1 ad=yes dane=yes"
expect "member: MTA-STS record" "$l" 'mta-sts="v=STSv1; id=20261130T000000;"'
want_days=$((($(date -d "$(openssl x509 -in "$m/member.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400))
expect "member: days to expiry ($want_days, from openssl)" "$l" " days=$want_days "
[ "$rc" -eq 0 ] && ok "member: exit 0" || bad "member: exit $rc"

# The versions, as openssl s_client finds them on the same ports.
versions_of() { # PORT
    local v list=
    for v in tls1 tls1_1 tls1_2 tls1_3; do
        if echo QUIT | timeout 10 openssl s_client -connect "127.0.0.1:$1" -starttls smtp "-$v" \
            -cipher 'ALL:@SECLEVEL=0' >/dev/null 2>&1; then
            case $v in tls1) list+=,TLSv1 ;; tls1_1) list+=,TLSv1.1 ;; tls1_2) list+=,TLSv1.2 ;; tls1_3) list+=,TLSv1.3 ;; esac
        fi
    done
    echo "${list#,}"
}
want=$(versions_of "$pa")
expect "member: versions as openssl s_client sees them ($want)" "$l" " versions=$want "
grep -q TLSv1.3 <<<"$want" || bad "the member port should take TLS 1.3 (s_client says $want)"

rc=0
out=$(survey --mx "mx.outsider.test:$pb" outsider.test) || rc=$?
echo "$out"
l=$(line_of outsider.test)
expect "outsider: encrypted, of no network" "$l" " ok level=encrypted starttls=yes .* network=- system=no name=yes"
expect "outsider: no TLSA" "$l" " tlsa=0 ad=no dane=-"

rc=0
out=$(survey --mx "mx.expired.test:$pc" expired.test) || rc=$?
echo "$out"
l=$(line_of expired.test)
expect "expired: fail, still the network's" "$l" " fail level=encrypted starttls=yes .* network=redsegura .* days=-[0-9]+ .*reason=\"the certificate has expired\""
[ "$rc" -eq 1 ] && ok "expired: exit 1" || bad "expired: exit $rc"

out=$(survey --mx "mx.plain.test:$pd" plain.test) || true
echo "$out"
expect "no STARTTLS: fail" "$(line_of plain.test)" " fail level=none starttls=no .*reason=\"STARTTLS not offered\""

out=$(survey --mx "mx.member.test:$pe" tls12.test) || true
echo "$out"
want=$(versions_of "$pe")
expect "TLS 1.2 only: versions ($want)" "$(line_of tls12.test)" " ok level=trusted .* versions=$want "
grep -q TLSv1.3 <<<"$want" && bad "the TLS 1.2 port takes TLS 1.3 (s_client says $want)"

out=$(survey --mx "mx.wrongdane.test:$pa" wrongdane.test) || true
echo "$out"
expect "signed TLSA that matches nothing: fail" "$(line_of wrongdane.test)" \
    " fail .* name=no .* tlsa=1 ad=yes dane=no .*reason=\"DNSSEC-signed TLSA records, and none matches"

rc=0
out=$(survey --mx "127.0.0.1:$busy_port" busy.test) || rc=$?
echo "$out"
expect "421 greeting: inconclusive" "$(line_of busy.test)" " inconclusive .*reason=\"greeting 421 4.3.2"
[ "$rc" -eq 2 ] && ok "421: exit 2" || bad "421: exit $rc"

start=$SECONDS
out=$(survey --mx "127.0.0.1:$stall_port" stall.test) || true
echo "$out"
expect "silent server: inconclusive" "$(line_of stall.test)" " inconclusive .*reason=\"greeting: timed out\""
((SECONDS - start <= 10)) && ok "silent server: bounded by --timeout" || bad "silent server took $((SECONDS - start)) s"

# MX from DNS: null MX, no such domain, and an MX whose port 25 is closed here.
out=$(survey null.test nxdomain.test) || true
echo "$out"
expect "null MX: fail" "$(line_of null.test)" " fail .*reason=\"null MX"
expect "NXDOMAIN: fail" "$(line_of nxdomain.test)" " fail .*reason=\"MX lookup: NXDOMAIN\""
if [ -z "$(ss -Hltn 'sport = :25' 2>/dev/null)" ]; then
    out=$(survey member.test) || true
    echo "$out"
    expect "MX from DNS, port 25 closed: inconclusive" "$(line_of member.test)" \
        "^member.test mx.member.test:25 inconclusive .*reason=\"connect: connection refused\""
fi

# --zone: the table's trusted:redsegura domains (a zone cannot be listed through DNS).
out=$(survey --zone redsegura 2>"$w/zone.err") || true
echo "$out"
n=$(grep -cE '^(member|outsider)\.test ' <<<"$out" || true)
[ "$n" -eq 2 ] && ! grep -qE '^(aliada|encrypt)\.test ' <<<"$out" &&
    ok "--zone redsegura: member.test and outsider.test only" || bad "--zone: $out"
expect "--zone says where the list comes from" "$(cat "$w/zone.err")" "cannot be listed through DNS: surveying the 2 domain"

# ---- what was stored
sql() { python3 -c 'import sqlite3, sys; [print(*r, sep="|") for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "$w/state.db" "$1"; }
rows=$(sql "SELECT count(*) FROM probe")
[ "$rows" -ge 12 ] && ok "$rows probe rows stored" || bad "$rows probe rows stored"
sql "SELECT chain_pem FROM probe WHERE domain = 'member.test' AND port = $pa" >"$w/chain.pem"
got=$(openssl x509 -in "$w/chain.pem" -noout -fingerprint -sha256 | cut -d= -f2)
[ "$got" = "$member_fp" ] && ok "the stored chain starts with the member's certificate" ||
    bad "stored chain: $got, member: $member_fp"
n=$(grep -c 'BEGIN CERTIFICATE' "$w/chain.pem")
[ "$n" -eq 2 ] && ok "the stored chain holds the intermediate too" || bad "stored chain: $n certificates"

# ---- the report of those rows, in a real browser
"$ctl" -c "$w/tlstrust.conf" report --format json >"$w/report.json"
python3 - "$w/report.json" "$pa" <<'PY' && ok "JSON: the member's probe as stored" || bad "JSON report"
import json, sys
r = json.load(open(sys.argv[1]))
p = [x for x in r["probes"] if x["domain"] == "member.test" and x["port"] == int(sys.argv[2])]
assert len(p) == 1, p
p = p[0]
assert p["result"] == "ok" and p["level"] == "trusted" and p["network"] == "redsegura", p
assert p["tlsa"] == {"count": 1, "ad": True, "dane_match": True}, p["tlsa"]
assert p["mta_sts"] == "v=STSv1; id=20261130T000000;", p["mta_sts"]
assert p["capability"] == "green", p["capability"]
e = [x for x in r["expiring"] if x["source"] == "probe" and x["name"] == "mx.expired.test"]
assert len(e) == 1 and e[0]["days_left"] < 0, r["expiring"]
PY
"$ctl" -c "$w/tlstrust.conf" report --format html >"$art/survey-report.html"
if command -v chromium >/dev/null; then
    bd=$(mktemp -d)
    flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
        --disable-background-networking --disable-component-update --disable-sync
        --user-data-dir="$bd")
    cstart=$SECONDS
    timeout 120 chromium "${flags[@]}" --dump-dom "file://$art/survey-report.html" >"$w/dom.html" 2>"$art/chromium-survey.log" || echo "chromium exit $? after $((SECONDS - cstart)) s"
    python3 - "$w/dom.html" <<'PY' && ok "Chromium: every probed MX in the rendered page" || { bad "Chromium DOM"; grep -v dbus "$art/chromium-survey.log" | tail -20; }
import sys
from html.parser import HTMLParser
class T(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cur = None; self.tab = None
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "table": self.tab = a.get("id")
        if tag == "tr" and self.tab == "probes": self.cur = []
    def handle_endtag(self, tag):
        if tag == "tr" and self.cur is not None: self.rows.append(" ".join(self.cur)); self.cur = None
    def handle_data(self, d):
        if self.cur is not None: self.cur.append(d.strip())
t = T(); t.feed(open(sys.argv[1]).read())
rows = t.rows[1:]
for dom, want in [("member.test", "ok"), ("outsider.test", "ok"), ("expired.test", "fail"),
                  ("plain.test", "fail"), ("busy.test", "inconclusive")]:
    hit = [r for r in rows if r.startswith(dom + " ")]
    assert hit and any((" " + want + " ") in r for r in hit), (dom, want, hit)
PY
    timeout 120 chromium "${flags[@]}" --window-size=1400,1800 --screenshot="$art/survey-report.png" \
        "file://$art/survey-report.html" >/dev/null 2>&1 || true
    [ -s "$art/survey-report.png" ] && ok "screenshot kept: $art/survey-report.png" || bad "no screenshot"
    rm -rf "$bd"
else
    bad "chromium not installed (scripts/install-deps)"
fi

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
