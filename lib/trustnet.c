/*
 * trustnet.c - load trusted-network CA bundles with OpenSSL and derive the
 * names the MTAs report for an issuer: Postfix gives the issuer's first CN
 * (else its first O) as UTF-8, by its own rules (postfix_issuer_name());
 * Sendmail gives X509_NAME_oneline() of the issuer, which we compute with
 * the same function so the strings compare byte for byte.
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

/* Postfix's CCERT_BUFSIZ (src/tls/tls.h): a name must be shorter. */
#define POSTFIX_CCERT_BUFSIZ 256

/* A C0 control or DEL: what Postfix's ISASCII(c) && !ISPRINT(c) refuses. */
static bool has_ascii_control(const unsigned char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/*
 * The first nid attribute of name as Postfix's tls_text_name()
 * (src/tls/tls_verify.c, Postfix 3.7) accepts it: converted to UTF-8 by
 * OpenSSL, trailing NULs dropped, then refused when CCERT_BUFSIZ bytes or
 * longer or when it holds a NUL or an ASCII control character. Later
 * attributes of the same type are never looked at. *out is NULL when the
 * attribute is missing or refused; false only when out of memory.
 */
static bool postfix_text_name(const X509_NAME *name, int nid, char **out)
{
    int pos = X509_NAME_get_index_by_NID(name, nid, -1);
    const X509_NAME_ENTRY *e = pos >= 0 ? X509_NAME_get_entry(name, pos) : NULL;
    unsigned char *u = NULL;
    int n;
    bool ok = true;

    *out = NULL;
    if (e == NULL || (n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e))) < 0)
        return true;
    while (n > 0 && u[n - 1] == '\0')
        n--;
    if (n < POSTFIX_CCERT_BUFSIZ && memchr(u, '\0', (size_t)n) == NULL &&
        !has_ascii_control(u, (size_t)n)) {
        *out = strndup((const char *)u, (size_t)n);
        ok = *out != NULL;
    }
    OPENSSL_free(u);
    return ok;
}

/*
 * What Postfix sends as {cert_issuer} for a certificate this CA issued:
 * tls_issuer_CN() takes the CN, and the O only when the CN is missing or
 * refused. An empty CN is taken as it is (no fallback), and Postfix then
 * sends an empty macro. postfix_name stays NULL when there is no usable
 * name: such a CA never matches under Postfix.
 */
static bool postfix_issuer_name(struct tt_ca *ca, const X509_NAME *subj)
{
    if (!postfix_text_name(subj, NID_commonName, &ca->postfix_name))
        return false;
    if (ca->postfix_name == NULL &&
        !postfix_text_name(subj, NID_organizationName, &ca->postfix_name))
        return false;
    if (ca->postfix_name != NULL && ca->postfix_name[0] == '\0') {
        free(ca->postfix_name);
        ca->postfix_name = NULL;
    }
    return true;
}

static void ca_free(struct tt_ca *ca)
{
    free(ca->postfix_name);
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
    if (ca->oneline == NULL || !postfix_issuer_name(ca, subj))
        return false;
    ca->display = strdup(ca->postfix_name != NULL ? ca->postfix_name : ca->oneline);
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

/* Warn about CAs Postfix cannot name, and about CAs Postfix cannot tell apart. */
static void warn_postfix_names(const struct tt_trust *t)
{
    size_t i, j, k, l;

    for (i = 0; i < t->nnets; i++) {
        const struct tt_network *n = &t->nets[i];

        for (j = 0; j < n->ncas; j++) {
            const struct tt_ca *a = &n->cas[j];

            if (a->postfix_name == NULL) {
                tt_log(LOG_WARNING,
                       "network %s: CA \"%s\" in %s has no CN or O that Postfix reports (missing, "
                       "empty, 256 bytes or longer, or with a NUL or control character): under "
                       "Postfix it never makes a session trusted",
                       n->name, a->display, n->file);
                continue;
            }
            for (k = i + 1; k < t->nnets; k++)
                for (l = 0; l < t->nets[k].ncas; l++)
                    if (t->nets[k].cas[l].postfix_name != NULL &&
                        strcmp(a->postfix_name, t->nets[k].cas[l].postfix_name) == 0)
                        tt_log(LOG_WARNING,
                               "networks %s and %s: a CA in %s and a CA in %s have the same "
                               "Postfix name \"%s\": Postfix reports only that name, so their "
                               "certificates count for both networks",
                               n->name, t->nets[k].name, n->file, t->nets[k].file, a->postfix_name);
        }
    }
}

bool tt_trust_check_dialect(const struct tt_trust *t, enum tt_dialect dialect, char *err,
                            size_t errsz)
{
    size_t i, j;

    if (t == NULL)
        return true;
    if (dialect == TT_DIALECT_POSTFIX) {
        warn_postfix_names(t);
        return true;
    }
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
    if (dialect == TT_DIALECT_AUTO)
        warn_postfix_names(t);
    return true;
}

static bool ca_matches(const struct tt_ca *ca, enum tt_dialect dialect, const char *issuer)
{
    /* Never by a cut form: it is also the full DN of any CA named like the cut. */
    if (dialect == TT_DIALECT_SENDMAIL)
        return fits_sendmail(ca) && strcmp(ca->oneline, issuer) == 0;
    return dialect == TT_DIALECT_POSTFIX && ca->postfix_name != NULL &&
           strcmp(ca->postfix_name, issuer) == 0;
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

bool tt_network_name_ok(const char *name)
{
    return name[0] != '\0' &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
               strlen(name);
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
