# assert.sh - the e2e suites' shared assertions (run.sh, network.sh), sourced
# after lab.sh: each prints why it failed and returns non-zero.

want_true() { # MESSAGE COMMAND...: COMMAND succeeds, else MESSAGE
    local msg=$1
    shift
    "$@" && return 0
    echo "$msg"
    return 1
}

# want_log FILE ERE [SECONDS]: a line of FILE matches ERE within SECONDS (default 5).
want_log() {
    local i
    for ((i = 0; i < ${3:-5} * 10; i++)); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "no line matching /$2/ in $1; last lines:"
    tail -n 15 "$1" 2>/dev/null | sed 's/^/  | /'
    return 1
}

# want_no_msg MTA ID: nothing was delivered (Postfix) or queued (Sendmail).
want_no_msg() {
    local f
    f=$(lab_msg_file "$1" "$2" 0)
    [[ -z $f ]] && return 0
    echo "a message was stored although it should have been refused: $f"
    return 1
}

# want_tag MTA ID [ERE | !ERE]...: the stored message (waited for up to
# 20 s) has exactly one X-TLS-Trust header, matching every ERE and none of
# the !ERE.
want_tag() {
    local mta=$1 id=$2 tags n re
    shift 2
    if [[ -z $(lab_msg_file "$mta" "$id" 20) ]]; then
        echo "no stored message for $mta-$id"
        return 1
    fi
    tags=$(lab_header "$mta" "$id" X-TLS-Trust 0)
    n=$(grep -c . <<<"$tags" || true)
    if [[ $n != 1 ]]; then
        echo "want exactly one X-TLS-Trust header, got $n:"
        printf '  %s\n' "$tags"
        return 1
    fi
    for re; do
        if [[ $re == '!'* ]]; then
            if grep -Eq -- "${re#!}" <<<"$tags"; then
                echo "tag must not match /${re#!}/: $tags"
                return 1
            fi
        elif ! grep -Eq -- "$re" <<<"$tags"; then
            echo "tag does not match /$re/: $tags"
            return 1
        fi
    done
}

# Tag regex builders: a bare level, a key=value, a quoted value containing ERE.
lvl() { printf '^[[:space:]]*%s[[:space:]]*(;|$)' "$1"; }
kv() { printf '(^|;)[[:space:]]*%s[[:space:]]*(;|$)' "$1"; }
qv() { printf '(^|;)[[:space:]]*%s="([^"\\]|\\.)*%s([^"\\]|\\.)*"' "$1" "$2"; }
re_escape() { sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$1"; }
