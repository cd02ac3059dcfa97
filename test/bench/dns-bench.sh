#!/usr/bin/env bash
# dns-bench.sh BUILD_DIR - the cost of a cached and of an uncached DNS
# policy decision at MAIL FROM, against ldns-testns on loopback with the
# canned answers of test/dns/answers.data. Prints a Markdown table.
set -euo pipefail
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/tlstrust-dnsbench-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
# ldns-testns -r sometimes picks a port it cannot bind and exits: try another.
port=
for _ in 1 2 3 4 5; do
    ldns-testns -r "$top/test/dns/answers.data" >"$dir/testns.log" 2>&1 &
    pid=$!
    for _ in $(seq 50); do
        port=$(sed -n 's/.*Listening on port \([0-9]*\).*/\1/p' "$dir/testns.log" | head -1)
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] && break
done
[ -n "${port:-}" ] || { echo "dns-bench: ldns-testns did not start" >&2; exit 1; }
for kind in cached uncached; do
    cat >"$dir/$kind.conf" <<CONF
DnsResolver 127.0.0.1@$port
PolicyZone redsegura policy.redsegura.test
PolicyZoneRequireDNSSEC no
Syslog no
LogLevel error
CONF
done
echo "DnsCacheSize 1" >>"$dir/uncached.conf"
"$build/test/bench/dnsbench" "$dir/cached.conf" "$dir/uncached.conf" 20000
