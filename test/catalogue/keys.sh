#!/usr/bin/env bash
# keys.sh BIN - the configuration keys, their documentation and -n -v / -d
# (issue 10, item 5): every key the daemon knows is documented in
# tlstrust.conf(5) and every documented key exists; -n -v prints every key
# once, and what it prints is itself a configuration that loads to the same
# values; an empty configuration prints exactly the defaults of -d.
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
man=$top/man/tlstrust.conf.5
dir=$(mktemp -d /tmp/tlstrust-keys-XXXXXX)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
check() { # name command...
    local name=$1
    shift
    if "$@" >"$dir/out" 2>&1; then
        echo "ok - keys: $name"
        pass=$((pass + 1))
    else
        echo "not ok - keys: $name"
        sed 's/^/#   /' "$dir/out"
        fail=$((fail + 1))
    fi
}
same() { diff -u "$1" "$2"; }

"$bin" -d | cut -d' ' -f1 | sort >"$dir/known"
# Keys are the first word after each .TP in the KEYS and DNS sections.
awk '/^\.SH KEYS/ { on = 1 } /^\.SH EXAMPLES/ { on = 0 }
     on && prev == ".TP" { print $2 } { prev = $0 }' "$man" | sort >"$dir/documented"
check "-d lists keys (at least 20)" test "$(wc -l <"$dir/known")" -ge 20
check "every key is documented in tlstrust.conf(5), every documented key exists" \
    same "$dir/known" "$dir/documented"

# -n -v on the shipped configuration: every key once, in the order of -d.
"$bin" -n -v -c "$top/etc/tlstrust.conf" >"$dir/shipped.v"
check "-n -v on etc/tlstrust.conf exits 0" test -s "$dir/shipped.v"
cut -d' ' -f1 "$dir/shipped.v" | uniq >"$dir/shipped.keys"
"$bin" -d | cut -d' ' -f1 >"$dir/known.ordered"
check "-n -v prints every key (repeatable ones once per value)" \
    same "$dir/known.ordered" "$dir/shipped.keys"
check "-n -v shows the shipped UserID" grep -qx 'UserID tlstrust' "$dir/shipped.v"

# Round trip: the printed values are a configuration that loads to the same values.
grep ' ' "$dir/shipped.v" >"$dir/again.conf"
"$bin" -n -v -c "$dir/again.conf" >"$dir/again.v"
check "-n -v output loads again to the same values" same "$dir/shipped.v" "$dir/again.v"

# Non-default values of every type come back as set.
cat >"$dir/set.conf" <<CONF
Socket unix:$dir/m.sock
DefaultAction monitor
AuthservID mx.example.org
AuthResults yes
InternalHosts 192.0.2.0/24, 2001:db8::/32
LogLevel warn
SyslogFacility local3
OnError accept
MTADialect sendmail
DnsResolver 127.0.0.1@5353
DnsTimeout 1500ms
DnsRetries 0
PolicyZone redsegura policy.example.org
PolicyZoneDepth 5
OnDnsError ignore
DnsQueryBudget 20
CONF
"$bin" -n -v -c "$dir/set.conf" >"$dir/set.v"
for want in "Socket unix:$dir/m.sock" "DefaultAction monitor" "AuthservID mx.example.org" \
    "AuthResults yes" "InternalHosts 192.0.2.0/24" "InternalHosts 2001:db8::/32" \
    "LogLevel warning" "SyslogFacility local3" "OnError accept" "MTADialect sendmail" \
    "DnsResolver 127.0.0.1@5353" "DnsTimeout 1500ms" "DnsRetries 0" \
    "PolicyZone redsegura policy.example.org" "PolicyZoneDepth 5" "OnDnsError ignore" \
    "DnsQueryBudget 20"; do
    check "-n -v shows '$want'" grep -qxF "$want" "$dir/set.v"
done

# An empty configuration is all defaults: -n -v prints exactly -d.
: >"$dir/empty.conf"
"$bin" -n -v -c "$dir/empty.conf" >"$dir/empty.v"
"$bin" -d >"$dir/defaults"
check "empty configuration: -n -v equals -d" same "$dir/defaults" "$dir/empty.v"

echo "keys: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
