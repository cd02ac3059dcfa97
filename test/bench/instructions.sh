#!/usr/bin/env bash
# instructions.sh - user-space instructions per message of one or more
# tlstrust-milter builds, counted by callgrind (repeatable, whatever else
# the machine is doing; the kernel's share is not counted). Each daemon
# serves milterload twice, N1 then N2 transactions, and the difference
# divided by the difference in messages cancels start-up and shutdown.
#
#   usage: test/bench/instructions.sh MILTERLOAD TABLEBENCH NAME=BINARY...
#   env:   N1 (2000), N2 (10000)
set -euo pipefail
load=$1 tablebench=$2
shift 2
N1=${N1:-2000} N2=${N2:-10000}
dir=$(mktemp -d /tmp/tlstrust-instr-XXXXXX)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
    -out "$dir/network.pem" -days 365 -subj "/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
"$tablebench" generate 1000 "$dir/domains"
mkdir "$dir/state"
cat >"$dir/tlstrust.conf" <<CONF
Socket          unix:$dir/milter.sock
TrustedNetwork  redsegura network.pem
DomainTable     domains
AuthservID      mx.receiver.test
Syslog          no
LogLevel        warning
StateDatabase   state/state.db
CONF
senders=sender@sender.example,a@mx.bench-parent.example,b@member.example,c@nowhere.example

# run BINARY N: prints "instructions messages"
run() {
    local pid i got
    rm -f "$dir/milter.sock" "$dir"/state/*
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$1" -f -c "$dir/tlstrust.conf" \
        2>"$dir/vg.log" &
    pid=$!
    for ((i = 0; i < 200; i++)); do
        [ -S "$dir/milter.sock" ] && break
        sleep 0.1
    done
    got=$("$load" -s "unix:$dir/milter.sock" -c 4 -n "$2" -t 2 -f "$senders" |
        sed -n 's/^RESULT messages=\([0-9]*\) tagged=\([0-9]*\).*/\1 \2/p')
    kill -TERM "$pid"
    wait "$pid" || true
    read -r m t <<<"$got"
    [ "$m" = "$t" ] && [ "$m" -gt 0 ] || { echo "instructions.sh: $1: $got" >&2; exit 1; }
    echo "$(awk '/Collected/ {print $NF}' "$dir/vg.log") $m"
}

for spec in "$@"; do
    read -r i1 m1 < <(run "${spec#*=}" "$N1")
    read -r i2 m2 < <(run "${spec#*=}" "$N2")
    echo "RESULT milter=${spec%%=*} instructions_per_message=$(((i2 - i1) / (m2 - m1)))"
done
