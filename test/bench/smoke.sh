#!/usr/bin/env bash
# smoke.sh - the benchmark harness works: MILTERLOAD TLSTRUST NOOP TABLEBENCH RAW.
# Starts tlstrust-milter (a generated table, a network CA made now with
# openssl) and the no-op milter on unix sockets in a private directory,
# drives each with milterload for about 2 s with all five client kinds,
# checks tlstrust's levels and a policy refusal, and loads a small table
# with tablebench. Asserts correct replies only, never timing.
set -euo pipefail

load=$1
tlstrust=$2
noop=$3
tablebench=$4
raw=$5
dir=$(mktemp -d /tmp/tlstrust-bench-smoke-XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

fail() {
    echo "not ok - bench_smoke: $*"
    for f in "$dir"/*.log; do
        [ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
    exit 1
}

wait_socket() { # path pid
    local i
    for ((i = 0; i < 100; i++)); do
        [ -S "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
    -out "$dir/network.pem" -days 365 -subj "/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
"$tablebench" generate 2000 "$dir/domains"
echo "from:refused.example encrypt reject" >>"$dir/domains"
cat >"$dir/tlstrust.conf" <<EOF
Socket          unix:$dir/tlstrust.sock
TrustedNetwork  redsegura network.pem
DomainTable     domains
AuthservID      mx.receiver.test
Syslog          no
LogLevel        warning
EOF

"$tlstrust" -f -c "$dir/tlstrust.conf" 2>"$dir/tlstrust.log" &
pids+=($!)
wait_socket "$dir/tlstrust.sock" "${pids[-1]}" || fail "tlstrust-milter did not start"
"$noop" -p "unix:$dir/noop.sock" 2>"$dir/noop.log" &
pids+=($!)
wait_socket "$dir/noop.sock" "${pids[-1]}" || fail "noop-milter did not start"
"$raw" -p "unix:$dir/raw.sock" 2>"$dir/raw.log" &
pids+=($!)
wait_socket "$dir/raw.sock" "${pids[-1]}" || fail "raw-milter did not start"

run() { # name args...
    local name=$1
    shift
    if "$load" "$@" >"$dir/$name.out" 2>"$dir/$name.log"; then
        echo "ok - bench_smoke: $name: $(grep '^RESULT' "$dir/$name.out" | cut -c1-120)"
    else
        cat "$dir/$name.out"
        fail "$name: milterload exited non-zero"
    fi
}

"$load" --help | grep -q -- '--expect-reject' || fail "milterload --help"
senders=sender@sender.example,a@mx.bench-parent.example,b@member.example,c@nowhere.example
run tlstrust -s "unix:$dir/tlstrust.sock" -c 8 -t 3 -r 2 -d 2 --check-level -f "$senders"
run noop -s "unix:$dir/noop.sock" -c 8 -t 3 -r 2 -d 2
run raw -s "unix:$dir/raw.sock" -c 8 -t 3 -r 2 -d 2
run refused -s "unix:$dir/tlstrust.sock" -c 2 -n 20 -m plain -f a@refused.example --expect-reject
# A milter that refuses what it should tag fails the run.
if "$load" -s "unix:$dir/tlstrust.sock" -c 1 -n 2 -m plain -f a@refused.example \
    >"$dir/wrong.out" 2>"$dir/wrong.log"; then
    fail "milterload accepted a refusal it did not expect"
fi
echo "ok - bench_smoke: an unexpected refusal fails the run"
# Idle connections parked after HELO, then released.
run hold -s "unix:$dir/tlstrust.sock" -c 20 --hold helo --hold-time 0.2
"$tablebench" bench "$dir/domains" --ca "$dir/network.pem" --lookups 1000 >"$dir/table.out" ||
    fail "tablebench bench"
grep -q '^RESULT entries=2001 ' "$dir/table.out" || fail "tablebench: $(cat "$dir/table.out")"
echo "ok - bench_smoke: tablebench"
kill -0 "${pids[0]}" 2>/dev/null || fail "tlstrust-milter died"
echo "1 passed, 0 failed"
