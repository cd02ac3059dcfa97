# shellcheck shell=bash
# tap.sh - sourced by the shell test suites (e2e, filters, package): one TAP
# line per check, and the closing "N passed, N failed" line that CI reads.
T_N=0 T_PASS=0 T_FAIL=0

# check NAME COMMAND [ARGS...]: one TAP line; the command's output is shown
# as diagnostics when it fails.
check() {
    local name=$1 out
    shift
    T_N=$((T_N + 1))
    if out=$("$@" 2>&1); then
        echo "ok $T_N - $name"
        T_PASS=$((T_PASS + 1))
    else
        echo "not ok $T_N - $name"
        T_FAIL=$((T_FAIL + 1))
        [[ -n $out ]] && printf '#   %s\n' "${out//$'\n'/$'\n'#   }"
    fi
    return 0
}

# tap_finish: the plan and the closing line; false when a check failed.
tap_finish() {
    echo "1..$T_N"
    echo "$T_PASS passed, $T_FAIL failed"
    ((T_FAIL == 0))
}
