/*
 * helpers.h - shared fixtures for the unit tests: a private temporary
 * directory, files written into it, and real CA certificates made with
 * OpenSSL at test time.
 */
#ifndef TT_TEST_HELPERS_H
#define TT_TEST_HELPERS_H

#include <stdbool.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stddef.h>

/* A fresh directory for this test binary (removed at exit). */
const char *th_tmpdir(void);
/* Write content to tmpdir/name and return the full path (static buffer per call slot). */
const char *th_write(const char *name, const char *content);

/*
 * Append a self-signed certificate to tmpdir/name. subject is a list of
 * "TYPE=value" entries separated by '|' (UTF-8 allowed), e.g.
 * "C=ES|O=Red Segura|CN=Red Segura CA". ca: basicConstraints CA:TRUE.
 * days may be negative (already expired). Returns the full path.
 */
const char *th_cert(const char *name, const char *subject, bool ca, int days);

/*
 * One name attribute with exact bytes, for names th_cert() cannot make
 * (NULs, control characters, past the usual length bounds, other string
 * types). type is an OpenSSL ASN.1 string type such as V_ASN1_UTF8STRING
 * or V_ASN1_BMPSTRING; len is the byte count, -1 for strlen(bytes).
 */
struct th_attr {
    const char *field; /* "CN", "O", "OU", ... */
    int type;
    const char *bytes;
    int len;
};
/* As th_cert(), with the subject given attribute by attribute. */
const char *th_cert_attrs(const char *name, const struct th_attr *attrs, size_t nattrs, bool ca,
                          int days);

/* Capture stderr (where tt_log writes in the tests) until th_stderr_end(), which returns it. */
void th_stderr_begin(void);
const char *th_stderr_end(void);

/*
 * Make a CA with subject (th_cert syntax) and load it into t as network
 * "redsegura": the common fixture of the tests. 0, or -1 with the error
 * printed.
 */
struct tt_trust;
int th_trust_redsegura(struct tt_trust *t, const char *subject);

/*
 * A certificate authority with its key kept (tmpdir/name.pem and
 * name.key), to issue certificates from with th_issue(). issuer NULL:
 * self-signed root; else an intermediate signed by that CA.
 */
const char *th_ca(const char *name, const char *cn, const char *issuer);

/* What th_issue() puts in a certificate. Zero fields take the defaults. */
struct th_leaf {
    const char *cn;  /* subject CN (default "mx.member.test") */
    const char *san; /* subjectAltName, e.g. "DNS:a.test,DNS:b.test"; "" none */
    const char *eku; /* extendedKeyUsage (default "serverAuth,clientAuth"); "" none */
    const char *key; /* "ec:P-256" (default), "ec:P-521", "rsa:BITS", "ed25519" */
    const char *md;  /* signature digest (default "sha256") */
    long not_before; /* seconds from now (default 0) */
    long not_after;  /* seconds from now (default 397 days) */
    bool ca;         /* basicConstraints CA:TRUE */
};

/*
 * Issue a certificate from the CA named issuer (th_ca) to tmpdir/name.pem,
 * its key to tmpdir/name.key. Returns the certificate's path.
 */
const char *th_issue(const char *name, const char *issuer, const struct th_leaf *spec);

/*
 * A UDP server on 127.0.0.1 for the DNS tests: a thread hands every
 * datagram to answer(), which replies on fd. th_udp_start returns the
 * server's port, or -1; one server at a time.
 */
typedef void (*th_udp_answer_fn)(int fd, const uint8_t *query, size_t n,
                                 const struct sockaddr_storage *from, socklen_t fromlen);
int th_udp_start(th_udp_answer_fn answer);
void th_udp_stop(void);

#endif
