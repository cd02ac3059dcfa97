/*
 * certcheck.h - judge a member's server certificate against the network's
 * criteria (doc/certificates.md): what tlstrustctl cert-check prints. Each
 * criterion gives pass, warn or fail with a reason; only a fail makes the
 * certificate unfit.
 */
#ifndef TT_CERTCHECK_H
#define TT_CERTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* The criteria, in the order they are printed. */
enum tt_cc_item {
    TT_CC_CHAIN,     /* chains to the network's CA bundle */
    TT_CC_EKU,       /* extendedKeyUsage names serverAuth and clientAuth */
    TT_CC_SAN,       /* the SAN covers every -H name */
    TT_CC_KEY,       /* RSA >= 2048 (warn < 3072), ECDSA P-256 or P-384 */
    TT_CC_SIGNATURE, /* not SHA-1 (nor anything weaker) */
    TT_CC_LIFETIME,  /* notAfter - notBefore at most 398 days */
    TT_CC_EXPIRY,    /* valid now, and for 30 more days (else warn) */
    TT_CC_KEYMATCH,  /* the private key, when given, is the certificate's */
    TT_CC_NITEMS
};

enum tt_cc_status { TT_CC_PASS, TT_CC_WARN, TT_CC_FAIL };

#define TT_CC_MAX_LIFETIME_DAYS 398
#define TT_CC_RENEW_DAYS 30
#define TT_CC_RSA_MIN_BITS 2048
#define TT_CC_RSA_GOOD_BITS 3072
/* Bounds on what is read: a PEM file, and the certificates in it. */
#define TT_CC_FILE_MAX (1024 * 1024)
#define TT_CC_CHAIN_MAX 16
#define TT_CC_REASON_MAX 512

struct tt_cc_line {
    bool checked; /* false: not judged (keymatch without a key) */
    enum tt_cc_status status;
    char reason[TT_CC_REASON_MAX];
};

struct tt_cc_report {
    struct tt_cc_line line[TT_CC_NITEMS];
};

struct tt_cc_request {
    const char *cert_file;    /* PEM: the certificate, then any intermediates */
    const char *key_file;     /* PEM private key, or NULL */
    const char *ca_file;      /* the network's CA bundle (PEM) */
    const char *network;      /* its name, for the messages */
    const char *const *hosts; /* names the SAN must cover (A-labels) */
    size_t nhosts;
    time_t now;
};

enum tt_cc_rc {
    TT_CC_OK,         /* report filled in */
    TT_CC_BAD_INPUT,  /* the certificate or key file is unreadable or holds none */
    TT_CC_BAD_BUNDLE, /* the network's bundle cannot be read */
    TT_CC_NO_MEMORY
};

/*
 * Judge the certificate. On TT_CC_OK every criterion of rep is filled in
 * (keymatch only when a key was given); otherwise err says why.
 */
enum tt_cc_rc tt_certcheck(const struct tt_cc_request *rq, struct tt_cc_report *rep, char *err,
                           size_t errsz);

const char *tt_cc_item_name(enum tt_cc_item item);
const char *tt_cc_status_name(enum tt_cc_status st);
/* True when some criterion failed. */
bool tt_cc_failed(const struct tt_cc_report *rep);
/* One "STATUS CRITERION: reason" line per judged criterion, then a summary line. */
void tt_cc_print(const struct tt_cc_report *rep, FILE *out);

#endif
