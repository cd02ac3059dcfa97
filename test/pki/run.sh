#!/usr/bin/env bash
# The network's PKI script and tlstrustctl cert-check together, with the
# real tools each output feeds: scripts/pki issues members, good and bad;
# cert-check judges them; a revoked member shows in the CRL (openssl crl,
# openssl verify -crl_check) and in the check_ccert_access table (postmap -q
# on a postmap'd copy, keys computed independently with openssl x509).
#
# Usage: test/pki/run.sh TLSTRUSTCTL
set -euo pipefail
ctl=${1:?usage: run.sh TLSTRUSTCTL}
top=$(cd "$(dirname "$0")/../.." && pwd)
pki=$top/scripts/pki
work=$(mktemp -d /tmp/tlstrust-pki-XXXXXX)
trap 'rm -rf "$work"' EXIT
d=$work/ca

failures=0
ok() { echo "ok: $*"; }
bad() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
# expect_check WHAT RC LINE-REGEX cert-check-args...: exit status and one line of the output.
expect_check() {
    local what=$1 want=$2 re=$3 out rc=0
    shift 3
    out=$("$ctl" -c "$work/tlstrust.conf" cert-check "$@" 2>&1) || rc=$?
    if [ "$rc" -eq "$want" ] && grep -Eq -- "$re" <<<"$out"; then
        ok "$what (exit $rc)"
    else
        bad "$what: exit $rc (want $want), no line /$re/ in:"
        sed 's/^/    /' <<<"$out"
    fi
}

# The network: an offline root and an issuing intermediate.
"$pki" -d "$d" init-root "/C=ES/O=Red Segura/CN=Red Segura Root CA" >/dev/null
"$pki" -d "$d" init-intermediate "/C=ES/O=Red Segura/CN=Red Segura Issuing CA 1" >/dev/null
printf 'TrustedNetwork redsegura %s\n' "$d/network.pem" >"$work/tlstrust.conf"
m=$d/members

# 1. A member as the script issues it meets every criterion.
"$pki" -d "$d" issue good mx.good.test helo.good.test >/dev/null
expect_check "member: every criterion passes" 0 '^result: pass \(0 failed, 0 warnings\)$' \
    -H mx.good.test -H helo.good.test "$m/good.pem" "$m/good.key"
out=$("$ctl" -c "$work/tlstrust.conf" cert-check -H mx.good.test "$m/good-chain.pem" "$m/good.key") || true
n=$(grep -c '^pass ' <<<"$out" || true)
[ "$n" -eq 8 ] && ok "member: 8 criteria pass with the chain file" || bad "member: $n pass lines in: $out"

# 2. Certificates the script can be told to make, and the line each fails on.
"$pki" -d "$d" issue --eku serverAuth serveronly mx.so.test >/dev/null
expect_check "serverAuth only" 1 '^fail eku: extendedKeyUsage lacks clientAuth' "$m/serveronly.pem"
"$pki" -d "$d" issue --key rsa:1024 rsa1024 mx.rsa.test >/dev/null
expect_check "RSA 1024" 1 '^fail key: RSA 1024 bits: below 2048$' "$m/rsa1024.pem"
"$pki" -d "$d" issue --key rsa:2048 rsa2048 mx.rsa.test >/dev/null
expect_check "RSA 2048 warns, passes" 0 '^warn key: RSA 2048 bits' "$m/rsa2048.pem"
"$pki" -d "$d" issue --days 730 twoyears mx.two.test >/dev/null
expect_check "two-year validity" 1 '^fail lifetime: valid for 730 days: at most 398$' "$m/twoyears.pem"
"$pki" -d "$d" issue --md sha1 sha1 mx.sha1.test >/dev/null
expect_check "SHA-1 signature" 1 '^fail signature: sha1WithRSAEncryption: SHA1 is broken' "$m/sha1.pem"
"$pki" -d "$d" issue --key ec:P-384 p384 mx.p384.test >/dev/null
expect_check "ECDSA P-384" 0 '^pass key: ECDSA secp384r1$' "$m/p384.pem" "$m/p384.key"
expect_check "SAN misses a -H name" 1 '^fail san: subjectAltName does not cover mx2.good.test' \
    -H mx.good.test -H mx2.good.test "$m/good.pem"
expect_check "another member's key" 1 '^fail keymatch: ' "$m/good.pem" "$m/p384.key"
# A certificate of another network's CA.
"$pki" -d "$work/other" init-root "/CN=Other Root" >/dev/null
"$pki" -d "$work/other" init-intermediate "/CN=Other Issuing" >/dev/null
"$pki" -d "$work/other" issue outsider mx.out.test >/dev/null
expect_check "another network's member" 1 '^fail chain: does not chain to network redsegura' \
    "$work/other/members/outsider-chain.pem"

# 3. Exit statuses of the command itself.
expect_check "unreadable certificate" 66 'No such file' "$m/none.pem"
expect_check "key file without a key" 66 'no unencrypted PEM private key' "$m/good.pem" "$m/good.pem"
expect_check "unknown network" 78 'no TrustedNetwork nosuch' -n nosuch "$m/good.pem"
expect_check "bad -H name" 64 'is not a host name' -H 'a b' "$m/good.pem"
expect_check "no certificate" 64 'usage:'

# 4. Revocation: the CRL for Sendmail and OpenSSL, the table for Postfix.
"$pki" -d "$d" issue revoked mx.rev.test >/dev/null
"$pki" -d "$d" revoke revoked keyCompromise >/dev/null
"$pki" -d "$d" root-crl >/dev/null
"$pki" -d "$d" crl >/dev/null
serial=$(openssl x509 -in "$m/revoked.pem" -noout -serial | cut -d= -f2)
if openssl crl -in "$d/crl/int.crl.pem" -noout -text | grep -q "Serial Number: $serial"; then
    ok "openssl crl: the CRL lists serial $serial"
else
    bad "openssl crl: serial $serial not in the CRL"
fi
# Sendmail reads the first CRL of its confCRL file: it must be the intermediate's.
crl_issuer=$(openssl crl -in "$d/crl/int.crl.pem" -noout -issuer -nameopt RFC2253 | cut -d= -f2-)
int_subject=$(openssl x509 -in "$d/int/ca.pem" -noout -subject -nameopt RFC2253 | cut -d= -f2-)
[ "$crl_issuer" = "$int_subject" ] && ok "the Sendmail CRL file starts with the intermediate's CRL" ||
    bad "CRL issuer '$crl_issuer' is not the intermediate '$int_subject'"
verify() { # CRL-OPTION CRLFILE CERT
    openssl verify "$1" -CAfile "$d/network.pem" -untrusted "$d/int/ca.pem" -CRLfile "$2" "$3" 2>&1
}
for mode in "-crl_check $d/crl/int.crl.pem" "-crl_check_all $d/crl/all.crl.pem"; do
    set -- $mode
    if out=$(verify "$1" "$2" "$m/revoked.pem"); then
        bad "openssl verify $1 accepts the revoked certificate: $out"
    elif grep -q "certificate revoked" <<<"$out"; then
        ok "openssl verify $1: the revoked certificate is refused as revoked"
    else
        bad "openssl verify $1: refused for another reason: $out"
    fi
    if out=$(verify "$1" "$2" "$m/good.pem"); then
        ok "openssl verify $1: a current member still verifies"
    else
        bad "openssl verify $1 refuses a current member: $out"
    fi
done

# Postfix: the digest its 3.6+ compatibility level defaults to, and the table
# looked up with the fingerprint as openssl computes it (not as the script did).
pf=$work/postfix
mkdir -p "$pf"
printf 'compatibility_level = 3.6\n' >"$pf/main.cf"
digest=$(postconf -c "$pf" -x -h smtpd_tls_fingerprint_digest 2>/dev/null)
[ "$digest" = sha256 ] && ok "Postfix at compatibility_level 3.6: smtpd_tls_fingerprint_digest is sha256" ||
    bad "Postfix's default digest is '$digest', the table is sha256"
cp "$d/postfix/revoked-ccert" "$pf/revoked-ccert"
postmap -c "$pf" "hash:$pf/revoked-ccert"
fp() { openssl x509 -in "$1" -noout -fingerprint "-$2" | cut -d= -f2; }
if out=$(postmap -c "$pf" -q "$(fp "$m/revoked.pem" sha256)" "hash:$pf/revoked-ccert") &&
    [[ $out == "REJECT 5.7.1 "* ]]; then
    ok "postmap -q: the revoked certificate's sha256 fingerprint is refused: $out"
else
    bad "postmap -q: no REJECT for the revoked certificate's fingerprint ($out)"
fi
pkfp=$(openssl x509 -in "$m/revoked.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -c | sed 's/.*= //' | tr a-f A-F)
if out=$(postmap -c "$pf" -q "$pkfp" "hash:$pf/revoked-ccert") && [[ $out == "REJECT "* ]]; then
    ok "postmap -q: keyCompromise also refuses the public key fingerprint"
else
    bad "postmap -q: no entry for the compromised public key ($pkfp)"
fi
rc=0
postmap -c "$pf" -q "$(fp "$m/good.pem" sha256)" "hash:$pf/revoked-ccert" >/dev/null || rc=$?
[ "$rc" -eq 1 ] && ok "postmap -q: a current member is not in the table" || bad "postmap -q: current member: exit $rc"
# Older configurations (md5): the table in their digest.
"$pki" -d "$d" ccert-access md5 >"$pf/revoked-md5"
postmap -c "$pf" "hash:$pf/revoked-md5"
if postmap -c "$pf" -q "$(fp "$m/revoked.pem" md5)" "hash:$pf/revoked-md5" >/dev/null; then
    ok "postmap -q: the md5 table holds the revoked certificate"
else
    bad "postmap -q: the md5 table lacks the revoked certificate"
fi

echo "pki: $failures failure(s)"
[ "$failures" -eq 0 ]
