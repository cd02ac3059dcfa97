/*
 * trustnet.c - load trusted-network CA bundles with OpenSSL and derive the
 * names the MTAs report for an issuer: Postfix gives the issuer CN (or O
 * when there is no CN) as UTF-8; Sendmail gives X509_NAME_oneline() of the
 * issuer, which we compute with the same function so the strings compare
 * byte for byte.
 */
#include "trustnet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"

#define WARN_EXPIRY_DAYS 30

/* UTF-8 text of the entry at pos in name, or NULL (also for embedded NUL). */
static char *entry_utf8(const X509_NAME *name, int pos)
{
    const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, pos);
    unsigned char *u = NULL;
    char *s;
    int n;

    if (e == NULL)
        return NULL;
    n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
    if (n < 0)
        return NULL;
    if (memchr(u, '\0', (size_t)n) != NULL) {
        OPENSSL_free(u);
        return NULL;
    }
    s = strndup((const char *)u, (size_t)n);
    OPENSSL_free(u);
    return s;
}

static bool add_name(struct tt_ca *ca, char *s)
{
    char **p;
    size_t i;

    if (s == NULL)
        return true;
    for (i = 0; i < ca->npostfix; i++) {
        if (strcmp(ca->postfix_names[i], s) == 0) {
            free(s);
            return true;
        }
    }
    p = realloc(ca->postfix_names, (ca->npostfix + 1) * sizeof(*p));
    if (p == NULL) {
        free(s);
        return false;
    }
    ca->postfix_names = p;
    ca->postfix_names[ca->npostfix++] = s;
    return true;
}

/* The names Postfix can report for this CA as the issuer of a client cert. */
static bool postfix_names(struct tt_ca *ca, const X509_NAME *subj)
{
    int first = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    int last = first, pos = first;

    while (pos >= 0) {
        last = pos;
        pos = X509_NAME_get_index_by_NID(subj, NID_commonName, pos);
    }
    if (first < 0) {
        first = X509_NAME_get_index_by_NID(subj, NID_organizationName, -1);
        last = first;
    }
    if (first < 0)
        return true;
    return add_name(ca, entry_utf8(subj, first)) && add_name(ca, entry_utf8(subj, last));
}

static void ca_free(struct tt_ca *ca)
{
    size_t i;

    for (i = 0; i < ca->npostfix; i++)
        free(ca->postfix_names[i]);
    free(ca->postfix_names);
    OPENSSL_free(ca->oneline);
    free(ca->display);
}

static void network_free(struct tt_network *n)
{
    size_t i;

    for (i = 0; i < n->ncas; i++)
        ca_free(&n->cas[i]);
    free(n->cas);
    free(n->name);
    free(n->file);
}

static bool ca_from_cert(struct tt_ca *ca, X509 *x, const char *name, const char *file, time_t now)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    const ASN1_TIME *na = X509_get0_notAfter(x);
    struct tm tm;

    memset(ca, 0, sizeof(*ca));
    ca->oneline = X509_NAME_oneline(subj, NULL, 0);
    if (ca->oneline == NULL || !postfix_names(ca, subj))
        return false;
    ca->display = strdup(ca->npostfix > 0 ? ca->postfix_names[0] : ca->oneline);
    if (ca->display == NULL)
        return false;
    if (na != NULL && ASN1_TIME_to_tm(na, &tm) == 1) {
        long left;

        ca->not_after = timegm(&tm);
        left = (long)((ca->not_after - now) / 86400);
        if (ca->not_after <= now)
            tt_log(LOG_WARNING, "network %s: CA \"%s\" in %s has expired", name, ca->display, file);
        else if (left < WARN_EXPIRY_DAYS)
            tt_log(LOG_WARNING, "network %s: CA \"%s\" in %s expires in %ld days", name,
                   ca->display, file, left);
    }
    return true;
}

bool tt_trust_add(struct tt_trust *t, const char *name, const char *file, time_t now, char *err,
                  size_t errsz)
{
    struct tt_network net, *nets;
    BIO *bio;
    X509 *x;
    unsigned long e;
    bool ok = true;

    memset(&net, 0, sizeof(net));
    if (tt_trust_find(t, name) != NULL) {
        snprintf(err, errsz, "network %s: defined twice", name);
        return false;
    }
    bio = BIO_new_file(file, "r");
    if (bio == NULL) {
        snprintf(err, errsz, "network %s: cannot read %s: %s", name, file, strerror(errno));
        ERR_clear_error();
        return false;
    }
    net.name = strdup(name);
    net.file = strdup(file);
    ok = net.name != NULL && net.file != NULL;
    while (ok && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        struct tt_ca *cas = realloc(net.cas, (net.ncas + 1) * sizeof(*cas));

        if (cas == NULL) {
            snprintf(err, errsz, "network %s: out of memory", name);
            ok = false;
        } else if (X509_check_ca(x) <= 0) {
            char subj[256];

            X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
            snprintf(err, errsz, "network %s: %s: certificate %.200s is not a CA", name, file,
                     subj);
            net.cas = cas;
            ok = false;
        } else {
            net.cas = cas;
            if (!ca_from_cert(&net.cas[net.ncas], x, name, file, now)) {
                ca_free(&net.cas[net.ncas]);
                snprintf(err, errsz, "network %s: out of memory", name);
                ok = false;
            } else {
                net.ncas++;
            }
        }
        X509_free(x);
    }
    /* The loop ends on end of file (no more PEM start lines) or on a broken block. */
    e = ERR_peek_last_error();
    if (ok && e != 0 &&
        !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
        snprintf(err, errsz, "network %s: %s: unreadable PEM data (%s)", name, file,
                 ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown error");
        ok = false;
    }
    ERR_clear_error();
    BIO_free(bio);
    if (ok && net.ncas == 0) {
        snprintf(err, errsz, "network %s: %s holds no CA certificate", name, file);
        ok = false;
    }
    if (ok) {
        nets = realloc(t->nets, (t->nnets + 1) * sizeof(*nets));
        if (nets == NULL) {
            snprintf(err, errsz, "network %s: out of memory", name);
            ok = false;
        } else {
            t->nets = nets;
            t->nets[t->nnets++] = net;
            return true;
        }
    }
    network_free(&net);
    return false;
}

/* Sendmail can report this CA's DN in full, not cut to the prefix of another's. */
static bool fits_sendmail(const struct tt_ca *ca)
{
    return strlen(ca->oneline) <= TT_SENDMAIL_DN_MAX;
}

bool tt_trust_check_dialect(const struct tt_trust *t, enum tt_dialect dialect, char *err,
                            size_t errsz)
{
    size_t i, j;

    if (t == NULL || dialect == TT_DIALECT_POSTFIX)
        return true;
    for (i = 0; i < t->nnets; i++) {
        const struct tt_network *n = &t->nets[i];

        for (j = 0; j < n->ncas; j++) {
            if (fits_sendmail(&n->cas[j]))
                continue;
            snprintf(err, errsz,
                     "network %s: %s: CA \"%.160s...\": one-line DN is %zu bytes, longer than "
                     "Sendmail's %d-byte issuer buffer; Sendmail would report it cut short, as "
                     "the DN of another CA (set MTADialect postfix if only Postfix uses this "
                     "milter)",
                     n->name, n->file, n->cas[j].oneline, strlen(n->cas[j].oneline),
                     TT_SENDMAIL_DN_MAX);
            return false;
        }
    }
    return true;
}

static bool ca_matches(const struct tt_ca *ca, enum tt_dialect dialect, const char *issuer)
{
    size_t i;

    /* Never by a cut form: it is also the full DN of any CA named like the cut. */
    if (dialect == TT_DIALECT_SENDMAIL)
        return fits_sendmail(ca) && strcmp(ca->oneline, issuer) == 0;
    if (dialect != TT_DIALECT_POSTFIX)
        return false;
    for (i = 0; i < ca->npostfix; i++)
        if (strcmp(ca->postfix_names[i], issuer) == 0)
            return true;
    return false;
}

const struct tt_network *tt_trust_match(const struct tt_trust *t, enum tt_dialect dialect,
                                        const char *issuer, const char *network)
{
    size_t i, j;

    if (t == NULL || issuer == NULL || *issuer == '\0')
        return NULL;
    for (i = 0; i < t->nnets; i++) {
        const struct tt_network *n = &t->nets[i];

        if (network != NULL && strcmp(n->name, network) != 0)
            continue;
        for (j = 0; j < n->ncas; j++)
            if (ca_matches(&n->cas[j], dialect, issuer))
                return n;
    }
    return NULL;
}

const struct tt_network *tt_trust_find(const struct tt_trust *t, const char *name)
{
    size_t i;

    for (i = 0; t != NULL && i < t->nnets; i++)
        if (strcmp(t->nets[i].name, name) == 0)
            return &t->nets[i];
    return NULL;
}

void tt_trust_free(struct tt_trust *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->nnets; i++)
        network_free(&t->nets[i]);
    free(t->nets);
    t->nets = NULL;
    t->nnets = 0;
}
