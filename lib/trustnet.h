/*
 * trustnet.h - trusted networks: named sets of CA certificates read from
 * PEM bundles, and the names under which each MTA can report those CAs.
 */
#ifndef TT_TRUSTNET_H
#define TT_TRUSTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "types.h"

/*
 * Sendmail writes X509_NAME_oneline() of the issuer into a MAXNAME (256)
 * byte buffer for {cert_issuer}: a longer DN arrives cut after its last
 * whole attribute that fits, and would be the DN of some other CA.
 */
#define TT_SENDMAIL_DN_MAX 255

struct tt_ca {
    char *postfix_name; /* Postfix's {cert_issuer} for it; NULL: it has none */
    char *oneline;      /* X509_NAME_oneline() of the subject, unbounded */
    char *display;      /* postfix_name, else oneline: printable, for messages */
    time_t not_after;
};

struct tt_network {
    char *name;
    char *file;
    struct tt_ca *cas;
    size_t ncas;
};

struct tt_trust {
    struct tt_network *nets;
    size_t nnets;
};

/*
 * Read the PEM bundle file as network name. Every certificate must be a
 * CA; an unreadable, empty or garbled bundle, or one holding a non-CA
 * certificate, is an error written to err. CAs that expired or expire
 * within 30 days (relative to now) are logged as warnings.
 */
bool tt_trust_add(struct tt_trust *t, const char *name, const char *file, time_t now, char *err,
                  size_t errsz);

/*
 * Check the loaded networks against the MTA(s) that dialect allows (auto:
 * both). Sendmail: a CA whose one-line DN does not fit Sendmail's buffer
 * is an error written to err (Sendmail would report it cut short, the same
 * as a CA whose DN is the cut form). Postfix: a CA without a name Postfix
 * reports, and two CAs of different networks with the same Postfix name,
 * are logged as warnings. The configuration calls this once all its lines
 * are read, when MTADialect is known.
 */
bool tt_trust_check_dialect(const struct tt_trust *t, enum tt_dialect dialect, char *err,
                            size_t errsz);

/*
 * Find the network whose CA matches the issuer name as the MTA reported
 * it (already xtext-decoded for Sendmail). network restricts the search to
 * one network (NULL: any). Returns NULL when no CA matches. Under Sendmail
 * a CA whose DN is longer than TT_SENDMAIL_DN_MAX never matches.
 */
const struct tt_network *tt_trust_match(const struct tt_trust *t, enum tt_dialect dialect,
                                        const char *issuer, const char *network);

const struct tt_network *tt_trust_find(const struct tt_trust *t, const char *name);

/* A network name: letters, digits, '-', '_' and '.' (it appears unquoted in the tag). */
bool tt_network_name_ok(const char *name);
void tt_trust_free(struct tt_trust *t);

#endif
