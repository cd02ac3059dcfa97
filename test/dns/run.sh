#!/usr/bin/env bash
# run.sh - run one DNS test: BIN SCRIPT. Starts ldns-testns with the canned
# answers in answers.data on a random loopback port and a "resolver" that
# reads queries and never answers, then runs SCRIPT through the
# milter-protocol runner (test/milter/run.sh). The script finds the ports in
# TT_DNS_PORT and TT_DNS_BLACKHOLE, a loopback UDP port where nothing
# listens in TT_DNS_CLOSED, and the server's query log (ldns-testns -v) in
# TT_DNS_QUERYLOG. Nothing here sends DNS beyond 127.0.0.1.
set -euo pipefail

bin=$1
script=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/tlstrust-dns-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

command -v ldns-testns >/dev/null || { echo "ldns-testns not found (package ldnsutils)"; exit 1; }
# ldns-testns binds the wildcard address; the daemon under test is configured
# with DnsResolver 127.0.0.1@PORT, so every query stays on loopback.
# shellcheck source=../testns.sh
. "$here/../testns.sh"
testns_start "$here/answers.data" "$dir/testns.log" && pids+=("$TESTNS_PID")
port=$TESTNS_PORT
python3 - "$dir/blackhole.port" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    s.recvfrom(4096)  # read and drop: a resolver that never answers
PY
pids+=($!)

for _ in $(seq 1 100); do
    [ -s "$dir/blackhole.port" ] && break
    sleep 0.1
done
if [ -z "$port" ] || [ ! -s "$dir/blackhole.port" ]; then
    echo "DNS test servers did not start"; cat "$dir/testns.log"; exit 1
fi

export TT_DNS_PORT=$port
export TT_DNS_BLACKHOLE=$(cat "$dir/blackhole.port")
# Bound and closed again: a query there meets ICMP port unreachable.
export TT_DNS_CLOSED=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
export TT_DNS_QUERYLOG=$dir/testns.log
# Beside the daemon, or beside the real daemon when BIN is test/valgrind-wrap.sh.
export TT_DNS_CTL=${TLSTRUSTCTL:-$(dirname "${TLSTRUST_REAL_BIN:-$bin}")/tlstrustctl}
"$here/../milter/run.sh" "$bin" "$script"
