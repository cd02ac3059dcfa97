#!/usr/bin/env bash
# export.sh TLSTRUSTCTL [MAKEMAP] - tlstrustctl export postfix|sendmail fed to
# the real tools: postmap builds the table and postmap -q reads it back;
# makemap hash builds the access map and makemap -u dumps it. makemap is
# taken from MAKEMAP, PATH, or the e2e lab's Sendmail package cache.
set -euo pipefail
ctl=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=test/tap.sh
. "$here/../tap.sh"
makemap=${2:-$(command -v makemap || true)}
for c in "${TLSTRUST_E2E_CACHE:-}" "$repo/build/e2e-cache"; do
    [ -z "$makemap" ] && [ -n "$c" ] && [ -x "$c/sendmail/usr/libexec/sendmail/makemap" ] &&
        makemap=$c/sendmail/usr/libexec/sendmail/makemap
done
dir=$(mktemp -d /tmp/tlstrust-export-XXXXXX)
trap 'rm -rf "$dir"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
    -out "$dir/ca.pem" -days 365 -subj "/C=ES/O=Red Segura/CN=Red Segura CA" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
cat >"$dir/domains" <<'EOF'
member.test         trusted:redsegura defer subject=mx.member.test,*.member.test min_version=TLSv1.2
.member.test        trusted reject
libre.member.test   none
watched.test        verify monitor
enc.test            encrypt min_bits=128
to:local.test       trusted
EOF
printf 'TrustedNetwork redsegura %s/ca.pem\nDomainTable %s/domains\nSyslog no\n' "$dir" "$dir" \
    >"$dir/t.conf"
mkdir "$dir/pf"
printf 'compatibility_level = 3.6\n' >"$dir/pf/main.cf"
ca=$dir/ca.pem

"$ctl" -c "$dir/t.conf" export postfix >"$dir/pf/tls_policy"
check "postmap accepts the export" postmap -c "$dir/pf" "hash:$dir/pf/tls_policy"
q() { # KEY WANT ("" = not found)
    local out rc=0
    out=$(postmap -c "$dir/pf" -q "$1" "hash:$dir/pf/tls_policy" 2>&1) || rc=$?
    if [ -z "$2" ]; then [ "$rc" -eq 1 ] || { echo "rc=$rc '$out'"; return 1; }
    else [ "$out" = "$2" ] || { echo "rc=$rc '$out'"; return 1; }; fi
}
check "postmap -q member" q member.test \
    "secure tafile=$ca match=mx.member.test:.member.test protocols=>=TLSv1.2"
check "postmap -q .parent key" q .member.test "secure tafile=$ca"
check "postmap -q exemption under the parent" q libre.member.test "may"
check "postmap -q monitor" q watched.test "may"
check "postmap -q encrypt" q enc.test "encrypt ciphers=high"
check "postmap -q to: rules are not exported" q local.test ""
bad() {
    printf 'TrustedNetwork redsegura %s/ca,1.pem\nDomainTable %s/domains\nSyslog no\n' "$dir" \
        "$dir" >"$dir/bad.conf"
    cp "$ca" "$dir/ca,1.pem"
    local rc=0
    "$ctl" -c "$dir/bad.conf" export postfix >/dev/null 2>"$dir/err" || rc=$?
    [ "$rc" -eq 78 ] && grep -q "tafile" "$dir/err"
}
check "a bundle path Postfix cannot take: exit 78" bad
check "export with an unknown MTA: usage" bash -c "! '$ctl' -c '$dir/t.conf' export exim 2>/dev/null"

if [ -z "$makemap" ]; then
    echo "ok - makemap # SKIP makemap not found (no sendmail-bin, no e2e cache)"
    tap_finish
    exit
fi
: >"$dir/sendmail.cf"
"$ctl" -c "$dir/t.conf" export sendmail >"$dir/access"
check "makemap hash accepts the export" "$makemap" -C "$dir/sendmail.cf" hash "$dir/access" \
    <"$dir/access"
"$makemap" -C "$dir/sendmail.cf" -u hash "$dir/access" >"$dir/dump" 2>&1 || true
has() { grep -qxF "$1" "$dir/dump" || { echo "not in the map: $1"; cat "$dir/dump"; return 1; }; }
check "makemap -u: member" has $'tls_rcpt:member.test\tTEMP+VERIFY+CITag:TLSTRUST_redsegura'
check "makemap -u: .parent" has $'tls_rcpt:.member.test\tPERM+VERIFY+CITag:TLSTRUST'
check "makemap -u: exemption" has $'tls_rcpt:libre.member.test\tOK'
check "makemap -u: exact key kept off its subdomains" has $'tls_rcpt:.enc.test\tOK'
check "makemap -u: issuer entry as Sendmail writes {cert_issuer}" \
    has $'tlstrust_redsegura:/c=es/o=red+20segura/cn=red+20segura+20ca\tOK'
tap_finish
