#!/usr/bin/env bash
# Make the e2e test PKI with openssl into DIR (created if missing).
# Generated at test time and never committed.
#
# Usage: test/e2e/pki.sh DIR
#
# Outputs in DIR:
#   network.pem        trusted-network bundle for the milter: root + intermediate + no-CN CA
#   aliada.pem         a second trusted network's bundle ("Rede Aliada CA")
#   mta-cafile.pem     the MTAs' CAfile: both networks' CAs + the outside CA
#   server.pem/.key    mx.receiver.test, issued by the network root
#   client-NAME.pem/.key for NAME in:
#     root      mail.ministerio.test, issued by the network root
#     int       relay.sub.ministerio.test, issued by the intermediate
#     nocn      mail.nocn.test, issued by a network CA whose subject has no CN
#     subj      mail.subj.test, issued by the network root (matches subject=*.subj.test)
#     rogue     mail.ministerio.test, issued by a rogue CA whose DN is identical to the root's
#     outside   mail.outside.test, issued by a CA the MTAs trust but the network does not
#     aliada    mail.aliada.test, issued by the second network's CA
#     enc       spaces, '+', '(', '/', '"' and UTF-8 in O and CN, issued by the intermediate
#     inject    CR LF and a fake header inside the CN, issued by the intermediate
set -euo pipefail

dir=${1:?usage: pki.sh DIR}
mkdir -p "$dir"
cd "$dir"

readonly ROOT_DN='/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA'
days=3650

# RSA 2048 everywhere: both MTAs' TLS stacks take it without extra configuration.
newkey() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
    chmod 600 "$1"
}

# Extension sections, one file for all certificates.
cat >ext.cnf <<'EOF'
[req]
distinguished_name = dn
[dn]

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[subca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx.receiver.test

# No authorityKeyIdentifier on client certificates: path building then goes by
# issuer DN alone, so the rogue-CA certificate is refused by its signature, not
# by a key-identifier mismatch.
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = none
EOF

# selfsigned_ca NAME DN
selfsigned_ca() {
    newkey "$1.key"
    openssl req -new -x509 -utf8 -key "$1.key" -subj "$2" -days "$days" \
        -config ext.cnf -extensions ca -set_serial "0x$(openssl rand -hex 8)" -out "$1.pem"
}

# issue NAME DN ISSUER SECTION
issue() {
    newkey "$1.key"
    openssl req -new -utf8 -key "$1.key" -subj "$2" -config ext.cnf -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days "$days" -extfile ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
}

# Certificate authorities.
selfsigned_ca root "$ROOT_DN"
issue int '/C=ES/O=Red Segura/OU=Test/CN=Red Segura Intermedia CA' root subca
# A network CA with no CN: Postfix then reports the issuer's O, Sendmail
# reports {cn_issuer} as BadCertificateUnknown.
selfsigned_ca nocnca '/C=ES/O=Red Segura Sin CN/OU=Test'
# Same DN byte for byte as the network root, different key.
selfsigned_ca rogue "$ROOT_DN"
selfsigned_ca outside '/C=FR/O=Outside Org/CN=Outside CA'
# A second trusted network, to tell networks apart.
selfsigned_ca aliadaca '/C=PT/O=Rede Aliada/CN=Rede Aliada CA'

cmp -s <(openssl x509 -in root.pem -noout -subject -nameopt RFC2253) \
    <(openssl x509 -in rogue.pem -noout -subject -nameopt RFC2253) ||
    { echo "pki.sh: rogue DN differs from root DN" >&2; exit 1; }

# Server certificate for the receiving MTAs.
issue server '/C=ES/O=Receiver/CN=mx.receiver.test' root server

# Client certificates.
issue client-root '/C=ES/O=Ministerio/CN=mail.ministerio.test' root client
issue client-int '/C=ES/O=Ministerio/CN=relay.sub.ministerio.test' int client
issue client-nocn '/C=ES/O=Nocn/CN=mail.nocn.test' nocnca client
issue client-subj '/C=ES/O=Subj/CN=mail.subj.test' root client
issue client-rogue '/C=ES/O=Ministerio/CN=mail.ministerio.test' rogue client
issue client-outside '/C=FR/O=Outside Org/CN=mail.outside.test' outside client
issue client-aliada '/C=PT/O=Aliada/CN=mail.aliada.test' aliadaca client
# -subj needs '+' and '/' escaped with a backslash; the stored values are
#   O  = Red "Segura" + (Pruebas) / Ñandú
#   CN = José "mx" + (uno) / ministerio.test
issue client-enc '/C=ES/O=Red "Segura" \+ (Pruebas) \/ Ñandú/CN=José "mx" \+ (uno) \/ ministerio.test' int client
# CR LF inside the CN: must never become a header line.
issue client-inject $'/C=ES/O=Inject/CN=evil.test\r\nX-Injected: yes' int client

# Bundles.
cat root.pem int.pem nocnca.pem >network.pem
cp aliadaca.pem aliada.pem
cat network.pem aliada.pem outside.pem >mta-cafile.pem
# Client chain files (leaf + intermediate) for clients that send their chain.
cat client-int.pem int.pem >client-int-chain.pem

# Sanity: every member verifies against the network, rogue and outside do not.
for c in root int nocn subj enc inject; do
    openssl verify -CAfile network.pem "client-$c.pem" >/dev/null
done
for c in rogue outside aliada; do
    if openssl verify -CAfile network.pem "client-$c.pem" >/dev/null 2>&1; then
        echo "pki.sh: client-$c unexpectedly verifies against the network" >&2
        exit 1
    fi
done
openssl verify -CAfile mta-cafile.pem client-outside.pem >/dev/null
openssl verify -CAfile aliada.pem client-aliada.pem >/dev/null
openssl verify -CAfile mta-cafile.pem server.pem >/dev/null

# CA keys are not needed after this; keep them only for debugging a failed run.
chmod 600 ./*.key
