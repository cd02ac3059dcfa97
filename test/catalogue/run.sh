#!/usr/bin/env bash
# run.sh BIN - the protocol half of the bad-input catalogue: start the
# daemon on a private unix socket and run catalogue.py against it.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/tlstrust-cat-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/key.pem" \
    -out "$dir/ca.pem" -days 30 -subj "/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
printf 'tru.test trusted reject\n' >"$dir/domains"
cat >"$dir/tlstrust.conf" <<CONF
Socket unix:$dir/sock
TrustedNetwork redsegura ca.pem
DomainTable domains
AuthservID mx.receiver.test
AuthResults yes
Syslog no
LogLevel info
CONF
"$bin" -f -c "$dir/tlstrust.conf" 2>"$dir/log" &
pid=$!
# Up to 30 s: BIN may be test/valgrind-wrap.sh.
for _ in $(seq 300); do [ -S "$dir/sock" ] && break; sleep 0.1; done
status=0
python3 "$here/catalogue.py" "unix:$dir/sock" || status=$?
kill "$pid"
wait "$pid" || true
pid=
[ "$status" -eq 0 ] || { echo "--- daemon log:"; tail -50 "$dir/log"; }
exit "$status"
