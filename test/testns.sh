# shellcheck shell=bash
# testns.sh - start ldns-testns (ldnsutils) with canned answers, for the
# shell tests (dns/, daemon/, map/, e2e/). Sourced.
# The port is ours to pick: ldns-testns -r seeds its choice with the time,
# so two tests started in the same second (ctest -j2) drew the same port.
# A port that turns out to be taken makes ldns-testns exit: try another.

# testns_start DATA LOG: ldns-testns -v answering from DATA, its output in
# LOG; sets TESTNS_PORT and TESTNS_PID, or returns 1 after 8 tries.
testns_start() {
    local try i
    TESTNS_PORT=
    for ((try = 0; try < 8; try++)); do
        ldns-testns -v -p $((20000 + RANDOM % 40000)) "$1" >"$2" 2>&1 &
        TESTNS_PID=$!
        for ((i = 0; i < 50; i++)); do
            TESTNS_PORT=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$2" | head -n1)
            [[ -n $TESTNS_PORT ]] && return 0
            kill -0 "$TESTNS_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$TESTNS_PID" 2>/dev/null || true
    done
    TESTNS_PID=
    return 1
}
