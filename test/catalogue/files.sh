#!/usr/bin/env bash
# files.sh BIN - the file half of the bad-input catalogue: broken domain
# tables, CA bundles and configurations must each be refused by
# "tlstrust-milter -n" with a clear message naming file (and line).
set -euo pipefail
bin=$1
dir=$(mktemp -d /tmp/tlstrust-files-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
pass=0
fail=0

mkca() { # file subject [extra openssl args]
    local f=$1 s=$2
    shift 2
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
        -out "$f" -subj "$s" "$@" 2>/dev/null
}
mkca ca.pem "/CN=Red Segura CA" -days 30 -addext basicConstraints=critical,CA:TRUE

# expect NAME EXPECTED-EXIT MESSAGE-FRAGMENT CONFIG-TEXT [TABLE-TEXT]
expect() {
    local name=$1 want=$2 fragment=$3 conf=$4 table=${5-}
    printf '%s\n' "$conf" >t.conf
    [ -n "$table" ] && printf '%b' "$table" >domains
    local out rc=0
    out=$("$bin" -n -c "$dir/t.conf" 2>&1) || rc=$?
    if { [ "$want" = 0 ] && [ "$rc" -eq 0 ]; } || { [ "$want" != 0 ] && [ "$rc" -ne 0 ]; } &&
        grep -qF -- "$fragment" <<<"$out"; then
        echo "ok - files: $name"
        pass=$((pass + 1))
    else
        echo "not ok - files: $name (exit $rc)"
        echo "#   wanted: $fragment"
        sed 's/^/#   got: /' <<<"$out" | head -5
        fail=$((fail + 1))
    fi
}

base="TrustedNetwork redsegura ca.pem"
long=$(printf 'a%.0s' $(seq 10240))
expect "table with a 10 KiB line" 1 "domains:2: line too long" "$base
DomainTable domains" "ok.test encrypt\n$long.test encrypt\n"
expect "unknown requirement" 1 "domains:1: unknown requirement 'always'" "$base
DomainTable domains" "x.test always\n"
expect "unknown attribute" 1 "domains:1: unknown attribute 'colour'" "$base
DomainTable domains" "x.test encrypt colour=red\n"
expect "duplicate key is an error" 1 "domains:3: duplicate key 'from:x.test' (first defined at line 1)" "$base
DomainTable domains" "x.test encrypt\ny.test encrypt\nX.Test. trusted\n"
rm -f domains
expect "missing table" 1 "domains: cannot open: No such file or directory" "$base
DomainTable domains"
mkdir domains
expect "table that is a directory" 1 "not a regular file" "$base
DomainTable domains"
rmdir domains
printf 'x.test encrypt\n' >domains
chmod 000 domains
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$dir"
    chmod 644 ca.pem t.conf
    printf '%s\n' "$base" "DomainTable domains" >t.conf
    rc=0
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$bin" -n -c "$dir/t.conf" 2>&1) || rc=$?
    if [ "$rc" -ne 0 ] && grep -qF "domains: cannot open: Permission denied" <<<"$out"; then
        echo "ok - files: unreadable table"
        pass=$((pass + 1))
    else
        echo "not ok - files: unreadable table (exit $rc): $out"
        fail=$((fail + 1))
    fi
else
    echo "ok - files: unreadable table # SKIP needs root and setpriv"
fi
chmod 644 domains

: >empty.pem
expect "empty CA bundle" 1 "network n: $dir/empty.pem holds no CA certificate" "TrustedNetwork n empty.pem"
printf 'garbage\x01\x02\n' >garbage.pem
expect "garbage CA bundle" 1 "holds no CA certificate" "TrustedNetwork n garbage.pem"
printf -- '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n' >broken.pem
expect "broken PEM block" 1 "unreadable PEM data" "TrustedNetwork n broken.pem"
mkca leaf.pem "/CN=mail.example.org" -days 30 -addext basicConstraints=critical,CA:FALSE
expect "non-CA certificate in a bundle" 1 "is not a CA" "TrustedNetwork n leaf.pem"
# An expired CA loads (the MTA no longer verifies with it) and is warned
# about. openssl ca is the only stock tool that can backdate a certificate.
mkdir -p ca/new
: >ca/index.txt
echo 01 >ca/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = d
[d]
dir = ca
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
default_md = sha256
policy = p
[p]
commonName = supplied
[v3]
basicConstraints = critical,CA:TRUE
CNF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout oldkey.pem \
    -out old.csr -subj "/CN=Old CA" 2>/dev/null
openssl ca -batch -config ca.cnf -selfsign -keyfile oldkey.pem -in old.csr -out old.pem \
    -startdate 20200101000000Z -enddate 20200201000000Z -extensions v3 >/dev/null 2>&1
expect "expired CA: warning, still loaded" 0 "CA \"Old CA\" in $dir/old.pem has expired" "TrustedNetwork old old.pem"
mkca soon.pem "/CN=Soon CA" -days 10 -addext basicConstraints=critical,CA:TRUE
expect "CA expiring within 30 days: warning" 0 "CA \"Soon CA\" in $dir/soon.pem expires in" "TrustedNetwork soon soon.pem"
# Sendmail reports at most 255 bytes of a one-line DN: a longer network CA
# would be matched by its cut form, the DN of any other CA so named.
ou=$(printf 'a%.0s' $(seq 60))
mkca long.pem "/C=ES/O=Red Segura/OU=$ou/OU=$ou/OU=$ou/CN=Red Segura Long Name Certification Authority 01" \
    -days 30 -addext basicConstraints=critical,CA:TRUE
longmsg="network long: $dir/long.pem: CA \"/C=ES/O=Red Segura/OU=aaaa"
expect "CA DN too long for Sendmail (MTADialect auto)" 1 "$longmsg" "TrustedNetwork long long.pem"
expect "CA DN too long for Sendmail: length and remedy" 1 \
    "one-line DN is 261 bytes, longer than Sendmail's 255-byte issuer buffer" "TrustedNetwork long long.pem"
expect "CA DN too long for Sendmail (MTADialect sendmail after the network)" 1 "MTADialect postfix" \
    "TrustedNetwork long long.pem
MTADialect sendmail"
expect "CA DN too long for Sendmail: loads with MTADialect postfix" 0 "OK" "TrustedNetwork long long.pem
MTADialect postfix"
# Postfix reports only the issuer's first CN (else O): a CA without a usable
# one never matches, and two networks' CAs so named cannot be told apart.
mkca noname.pem "/C=ES/OU=Only OU" -days 30 -addext basicConstraints=critical,CA:TRUE
expect "CA without a name Postfix reports: warning" 0 \
    "network nn: CA \"/C=ES/OU=Only OU\" in $dir/noname.pem has no CN or O that Postfix reports" \
    "TrustedNetwork nn noname.pem"
mkca twin1.pem "/O=Uno/CN=Twin CA" -days 30 -addext basicConstraints=critical,CA:TRUE
mkca twin2.pem "/O=Dos/CN=Twin CA" -days 30 -addext basicConstraints=critical,CA:TRUE
expect "two networks' CAs with one Postfix name: warning" 0 \
    "networks uno and dos: a CA in $dir/twin1.pem and a CA in $dir/twin2.pem have the same Postfix name \"Twin CA\"" \
    "TrustedNetwork uno twin1.pem
TrustedNetwork dos twin2.pem"
expect "unknown configuration key" 1 "t.conf:2: unknown key 'DomainTabel'" "$base
DomainTabel domains"
expect "shipped configuration" 0 "OK" "$base
DomainTable domains"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
