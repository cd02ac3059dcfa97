#!/usr/bin/env bash
# run.sh - run one milter-protocol test: BIN SCRIPT. Makes a private
# directory with a network CA and an outside CA (real certificates, made
# now with openssl), runs the Lua script under miltertest with the daemon's
# stderr captured as its log, and shows the log when the test fails.
# A line "-- env: NAME=value" in the script sets the daemon's environment.
set -euo pipefail

bin=$1
script=$2
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$script" .lua)
dir=$(mktemp -d /tmp/tlstrust-mt-XXXXXX)
trap 'rm -rf "$dir"' EXIT

mkca() { # file subject
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/key.pem" \
        -out "$1" -days 30 -subj "$2" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
}
mkca "$dir/network.pem" "/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA"
mkca "$dir/outside.pem" "/C=US/O=Outside/CN=Outside CA"

env_args=()
while IFS= read -r line; do
    env_args+=("${line#-- env: }")
done < <(grep '^-- env: ' "$script" || true)

status=0
env "${env_args[@]}" timeout 120 miltertest -s "$script" \
    -D BIN="$bin" -D DIR="$dir" -D CA="$dir/network.pem" -D OUTSIDE_CA="$dir/outside.pem" \
    -D LOG="$dir/milter.log" -D NAME="$name" -D HERE="$here" 2>"$dir/milter.log" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- $name failed ($status); daemon log:"
    cat "$dir/milter.log"
fi
exit "$status"
