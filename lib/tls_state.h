/*
 * tls_state.h - the TLS state of one SMTP session as the MTA reports it in
 * milter macros, and its classification into a trust level.
 */
#ifndef TT_TLS_STATE_H
#define TT_TLS_STATE_H

#include <stdbool.h>

#include "trustnet.h"
#include "types.h"

/* Longest certificate name kept; longer ones are cut and never match a CA. */
#define TT_NAME_MAX 1024

/* Raw macro values as libmilter returns them; NULL when not sent. */
struct tt_macros {
    const char *mta_version; /* v */
    const char *tls_version; /* {tls_version} */
    const char *cipher;      /* {cipher} */
    const char *cipher_bits; /* {cipher_bits} */
    const char *cert_subject;
    const char *cert_issuer;
    const char *cn_subject; /* Sendmail only */
    const char *cn_issuer;  /* Sendmail only */
    const char *verify;     /* Sendmail only */
};

struct tt_tls {
    bool tls;
    enum tt_dialect dialect;
    char version[32];
    char cipher[128];
    int bits; /* -1 when absent or not a number */
    char verify[24];
    bool verified;
    bool issuer_usable;       /* decoded cleanly and not cut: may match a CA */
    char issuer[TT_NAME_MAX]; /* as matched: Postfix CN/O, Sendmail decoded DN */
    char issuer_display[TT_NAME_MAX];
    char subject_cn[TT_NAME_MAX]; /* host name used for subject= patterns */
    enum tt_level level;
    char network[64];    /* matched network name, empty when none */
    const char *anomaly; /* why the macros looked wrong, for the log; NULL if fine */
};

/*
 * Fill s from the macros. dialect is the configured one; TT_DIALECT_AUTO
 * picks Sendmail when {verify} is present or v is not Postfix's. The
 * result is classified against trust (which may be NULL: no networks).
 */
void tt_tls_capture(struct tt_tls *s, const struct tt_macros *m, enum tt_dialect dialect,
                    const struct tt_trust *trust);

/* Protocol version as a number: TLSv1 -> 10 ... TLSv1.3 -> 13, 0 if unknown. */
int tt_tls_version_number(const char *v);
/* The name of a number on that scale ("TLSv1.2"), and the reason a rule needing it gives. */
const char *tt_tls_version_name(int num);
const char *tt_tls_version_required(int num);

/* Host name pattern match, case-insensitive: exact, or "*.example.org" for
 * exactly one more leftmost label ("mx.example.org", not "a.mx.example.org"). */
bool tt_host_match(const char *pattern, const char *host);

#endif
