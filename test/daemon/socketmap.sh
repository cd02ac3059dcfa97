#!/usr/bin/env bash
# socketmap.sh BIN - the daemon's policy map (PolicyMapSocket) asked by the
# real Postfix client: postmap -q KEY socketmap:inet:...:tlstrust and
# socketmap:unix:...:tlstrust. Table members, policy-zone members (served by
# ldns-testns with test/dns/answers.data), exemptions, outsiders, port and
# bracket keys, a reload, TEMP when DNS fails, the unix socket's mode, and
# the malformed-request catalogue (socketmap_catalogue.py).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test/tap.sh
. "$here/../tap.sh"
command -v postmap >/dev/null || { echo "ok - socketmap # SKIP postmap not found"; exit 0; }
command -v ldns-testns >/dev/null || { echo "ok - socketmap # SKIP ldns-testns not found"; exit 0; }
dir=$(mktemp -d /tmp/tlstrust-sockmap-XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_listen() { # PORT|PATH
    for _ in $(seq 100); do
        if [[ $1 == /* ]]; then [ -S "$1" ] && return 0
        elif [ -n "$(ss -Hltn "sport = :$1")" ]; then return 0; fi
        sleep 0.05
    done
    return 1
}

# shellcheck source=../testns.sh
. "$here/../testns.sh"
testns_start "$here/../dns/answers.data" "$dir/testns.log" || { echo "ldns-testns did not start"; exit 1; }
pids+=("$TESTNS_PID")
dnsport=$TESTNS_PORT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
    -out "$dir/ca.pem" -days 365 -subj "/CN=Red Segura CA" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
cat >"$dir/domains" <<'EOF'
member.test         trusted:redsegura defer subject=mx.member.test min_version=TLSv1.2
.member.test        trusted
libre.member.test   none
watched.test        verify monitor
EOF
mkdir "$dir/pf"
printf 'compatibility_level = 3.6\n' >"$dir/pf/main.cf"

# start NAME POLICYSOCKET RESOLVER: a daemon in the foreground, logging to NAME.log
start() {
    printf '%s\n' "Socket inet:$(free_port)@127.0.0.1" "PolicyMapSocket $2" \
        "TrustedNetwork redsegura $dir/ca.pem" "DomainTable $dir/domains" \
        "PolicyZone redsegura policy.redsegura.test" "DnsResolver 127.0.0.1@$3" \
        "DnsTimeout 500ms" "DnsRetries 0" "Syslog no" "LogLevel debug" >"$dir/$1.conf"
    "$bin" -f -c "$dir/$1.conf" >"$dir/$1.log" 2>&1 &
    pids+=($!)
    eval "${1}_pid=\$!"
}

port=$(free_port)
start inet "inet:$port@127.0.0.1" "$dnsport"
wait_listen "$port" || { cat "$dir/inet.log"; exit 1; }
map=socketmap:inet:127.0.0.1:$port:tlstrust

# q KEY WANT: postmap -q answers WANT exactly ("" = not found, exit 1).
q() {
    local out rc=0
    out=$(postmap -c "$dir/pf" -q "$1" "${3:-$map}" 2>&1) || rc=$?
    if [ -z "$2" ]; then
        [ "$rc" -eq 1 ] && [ -z "$out" ] || { echo "want not found, got rc=$rc '$out'"; return 1; }
    else
        [ "$rc" -eq 0 ] && [ "$out" = "$2" ] || { echo "want '$2', got rc=$rc '$out'"; return 1; }
    fi
}

ca=$dir/ca.pem
check "table member: secure against the network's CA, names and protocols" \
    q member.test "secure tafile=$ca match=mx.member.test protocols=>=TLSv1.2"
check "table .parent: a subdomain" q mx.a.member.test "secure tafile=$ca"
check "table exemption under the parent: NOTFOUND" q libre.member.test ""
check "table monitor: may" q watched.test "may"
check "outsider: NOTFOUND (Postfix's DANE/MTA-STS maps apply next)" q outsider.test ""
check "policy zone member, live from DNS" \
    q ministerio.test "secure tafile=$ca match=.ministerio.test protocols=>=TLSv1.2"
check "policy zone parent record" q sub.parent.test "encrypt"
check "policy zone exemption: NOTFOUND" q own.parent.test ""
check "port suffix: the domain's policy" \
    q member.test:2525 "secure tafile=$ca match=mx.member.test protocols=>=TLSv1.2"
check "[host]:port: NOTFOUND" q "[127.0.0.1]:25" ""
check ".parent key asked by Postfix after the full name: NOTFOUND" q .member.test ""
check "upper case and a trailing dot" q MEMBER.Test. \
    "secure tafile=$ca match=mx.member.test protocols=>=TLSv1.2"

# A reload changes the answers at once.
printf 'new.test verify\n' >>"$dir/domains"
kill -HUP "$inet_pid"
reloaded() {
    for _ in $(seq 50); do q new.test verify >/dev/null && return 0; sleep 0.1; done
    q new.test verify
}
check "a reload is followed" reloaded

check "malformed-request catalogue" python3 "$here/socketmap_catalogue.py" 127.0.0.1 "$port"
check "malformed requests are logged" grep -q "socketmap: .*malformed netstring length; closing" \
    "$dir/inet.log"
check "oversize requests are logged" grep -q "exceeds the limit of 512; closing" "$dir/inet.log"
check "slow clients are logged" grep -q "request not complete within 5000 ms" "$dir/inet.log"
check "still answering after the catalogue" q new.test verify

# DNS down: TEMP, so Postfix defers rather than sends without the network's policy.
closed=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sock=$dir/policy.sock
start unix "unix:$sock" "$closed"
wait_listen "$sock" || { cat "$dir/unix.log"; exit 1; }
umap=socketmap:unix:$sock:tlstrust
check "unix socket: a table member" q member.test \
    "secure tafile=$ca match=mx.member.test protocols=>=TLSv1.2" "$umap"
check "unix socket file is mode 0660" test "$(stat -c %a "$sock")" = 660
temp() {
    local out rc=0
    out=$(postmap -c "$dir/pf" -q ministerio.test "$umap" 2>&1) || rc=$?
    [ "$rc" -ne 0 ] && grep -q "temporary error: DNS lookup failed" <<<"$out" || {
        echo "rc=$rc $out"
        return 1
    }
}
check "DNS failure: TEMP" temp
check "DNS failure is logged" grep -q "socketmap: ministerio.test: TEMP: DNS lookup failed" \
    "$dir/unix.log"
check "a table member needs no DNS: still answered" q mx.a.member.test "secure tafile=$ca" "$umap"

# A clean stop: the workers end and the daemon exits 0 (under ASan: no report).
for d in unix inet; do
    pid_var=${d}_pid
    kill -TERM "${!pid_var}"
    rc=0
    wait "${!pid_var}" || rc=$?
    check "$d: stops cleanly with the socketmap running" test "$rc" -eq 0
    check "$d: no sanitizer report" bash -c "! grep -q 'Sanitizer' '$dir/$d.log'"
done
tap_finish
