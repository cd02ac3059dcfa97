/*
 * certcheck.c - see certcheck.h. Each criterion is one function that
 * fills in one line of the report; the reasons name what was found so an
 * administrator can fix the certificate request without other tools.
 */
#include "certcheck.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void set_line(struct tt_cc_report *rep, enum tt_cc_item item, enum tt_cc_status st,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_line(struct tt_cc_report *rep, enum tt_cc_item item, enum tt_cc_status st,
                     const char *fmt, ...)
{
    struct tt_cc_line *l = &rep->line[item];
    va_list ap;

    l->checked = true;
    l->status = st;
    va_start(ap, fmt);
    vsnprintf(l->reason, sizeof(l->reason), fmt, ap);
    va_end(ap);
}

/* Append s to buf (size sz) with anything but printable ASCII shown as '?': reasons reach a
 * terminal. */
static void append_printable(char *buf, size_t sz, const char *s, size_t n)
{
    size_t len = strlen(buf), i;

    for (i = 0; i < n && len + 1 < sz; i++)
        buf[len++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[len] = '\0';
}

/*
 * Read a whole file into a memory BIO, at most TT_CC_FILE_MAX bytes: the
 * files are an administrator's, but bounded all the same. NULL with err set
 * when unreadable or too large. The buffer is wiped (it may be a key).
 */
static BIO *read_file(const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;
    BIO *bio = NULL;

    if (f == NULL) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(TT_CC_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    n = fread(buf, 1, TT_CC_FILE_MAX + 1, f);
    if (ferror(f))
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
    else if (n > TT_CC_FILE_MAX)
        snprintf(err, errsz, "%s: larger than %d bytes", path, TT_CC_FILE_MAX);
    else {
        bio = BIO_new(BIO_s_mem());
        if (bio == NULL || BIO_write(bio, buf, (int)n) != (int)n) {
            BIO_free(bio);
            bio = NULL;
            snprintf(err, errsz, "%s: out of memory", path);
        }
    }
    fclose(f);
    OPENSSL_cleanse(buf, TT_CC_FILE_MAX + 1);
    free(buf);
    return bio;
}

/* Every certificate of a PEM file (other PEM blocks skipped), at most TT_CC_CHAIN_MAX. */
static STACK_OF(X509) * read_certs(const char *path, char *err, size_t errsz)
{
    BIO *bio = read_file(path, err, errsz);
    STACK_OF(X509) * sk;
    X509 *x;

    if (bio == NULL)
        return NULL;
    sk = sk_X509_new_null();
    while (sk != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (sk_X509_num(sk) >= TT_CC_CHAIN_MAX || !sk_X509_push(sk, x)) {
            X509_free(x);
            snprintf(err, errsz, "%s: more than %d certificates", path, TT_CC_CHAIN_MAX);
            sk_X509_pop_free(sk, X509_free);
            sk = NULL;
        }
    }
    ERR_clear_error(); /* the end of the file reads as an error */
    BIO_free(bio);
    if (sk != NULL && sk_X509_num(sk) == 0) {
        snprintf(err, errsz, "%s: no PEM certificate", path);
        sk_X509_free(sk);
        sk = NULL;
    }
    return sk;
}

/* Never prompt for a passphrase: an MTA cannot use an encrypted key either. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static EVP_PKEY *read_key(const char *path, char *err, size_t errsz)
{
    BIO *bio = read_file(path, err, errsz);
    EVP_PKEY *k;

    if (bio == NULL)
        return NULL;
    k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    ERR_clear_error();
    BIO_free(bio);
    if (k == NULL)
        snprintf(err, errsz, "%s: no unencrypted PEM private key", path);
    return k;
}

/* "2026-11-29 12:00:00 UTC" */
static void format_time(const ASN1_TIME *t, char *buf, size_t sz)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(buf, sz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, sz, "(unreadable date)");
}

/*
 * The certificate's own dates are the expiry criterion's business: here
 * only the chain is judged, so the leaf's time errors are let through.
 */
static int chain_verify_cb(int ok, X509_STORE_CTX *ctx)
{
    int e = X509_STORE_CTX_get_error(ctx);

    if (!ok && X509_STORE_CTX_get_error_depth(ctx) == 0 &&
        (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID))
        return 1;
    return ok;
}

/*
 * The network's bundle is the only trust: no default paths, and no
 * partial chains, since the MTAs' OpenSSL needs a path to a root as well.
 */
static enum tt_cc_rc check_chain(const struct tt_cc_request *rq, STACK_OF(X509) * certs,
                                 struct tt_cc_report *rep, char *err, size_t errsz)
{
    STACK_OF(X509) *cas = read_certs(rq->ca_file, err, errsz);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    enum tt_cc_rc rc = TT_CC_NO_MEMORY;
    char name[256];
    int i;

    if (cas == NULL) {
        rc = TT_CC_BAD_BUNDLE;
        goto out;
    }
    if (untrusted == NULL || store == NULL || ctx == NULL)
        goto out;
    for (i = 0; i < sk_X509_num(cas); i++)
        if (!X509_STORE_add_cert(store, sk_X509_value(cas, i)))
            goto out;
    for (i = 1; i < sk_X509_num(certs); i++)
        if (!sk_X509_push(untrusted, sk_X509_value(certs, i)))
            goto out;
    X509_STORE_set_verify_cb(store, chain_verify_cb);
    if (!X509_STORE_CTX_init(ctx, store, sk_X509_value(certs, 0), untrusted))
        goto out;
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), rq->now);
    if (X509_check_ca(sk_X509_value(certs, 0)) != 0) {
        /* A CA's certificate would let its holder issue "members" of its own. */
        set_line(rep, TT_CC_CHAIN, TT_CC_FAIL, "is a CA certificate, not a member's");
    } else if (X509_verify_cert(ctx) == 1) {
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
        X509 *anchor = sk_X509_value(chain, sk_X509_num(chain) - 1);

        X509_NAME_oneline(X509_get_subject_name(anchor), name, sizeof(name));
        set_line(rep, TT_CC_CHAIN, TT_CC_PASS, "chains to %s of network %s (path of %d)", name,
                 rq->network, sk_X509_num(chain));
    } else {
        int e = X509_STORE_CTX_get_error(ctx);
        X509 *at = X509_STORE_CTX_get_current_cert(ctx);

        name[0] = '\0';
        if (at != NULL)
            X509_NAME_oneline(X509_get_subject_name(at), name, sizeof(name));
        set_line(rep, TT_CC_CHAIN, TT_CC_FAIL, "does not chain to network %s: %s at depth %d%s%s",
                 rq->network, X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx),
                 name[0] != '\0' ? " " : "", name);
    }
    ERR_clear_error();
    rc = TT_CC_OK;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    sk_X509_pop_free(cas, X509_free);
    return rc;
}

/* Public CAs are dropping clientAuth: a member needs both from the network's CA for mutual TLS. */
static void check_eku(X509 *x, struct tt_cc_report *rep)
{
    uint32_t xku = X509_get_extended_key_usage(x);
    bool server, client;

    if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0) {
        set_line(rep, TT_CC_EKU, TT_CC_FAIL,
                 "no extendedKeyUsage extension: serverAuth and clientAuth must be named");
        return;
    }
    server = (xku & XKU_SSL_SERVER) != 0;
    client = (xku & XKU_SSL_CLIENT) != 0;
    if (server && client)
        set_line(rep, TT_CC_EKU, TT_CC_PASS, "extendedKeyUsage has serverAuth and clientAuth");
    else
        set_line(rep, TT_CC_EKU, TT_CC_FAIL,
                 "extendedKeyUsage lacks %s%s%s (members send with it as TLS clients and "
                 "receive with it as servers)",
                 server ? "" : "serverAuth", !server && !client ? " and " : "",
                 client ? "" : "clientAuth");
}

/* The dNSName entries of the SAN, for the messages; false when there is none. */
static bool san_dns_names(X509 *x, char *buf, size_t sz)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int i, n = 0;

    buf[0] = '\0';
    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

        if (g->type != GEN_DNS)
            continue;
        if (n++ > 0)
            append_printable(buf, sz, ", ", 2);
        append_printable(buf, sz, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                         (size_t)ASN1_STRING_length(g->d.dNSName));
    }
    GENERAL_NAMES_free(gens);
    return n > 0;
}

/*
 * Clients match the SAN only (RFC 6125), so the subject CN is never
 * looked at; a wildcard covers one whole leftmost label.
 */
static void check_san(const struct tt_cc_request *rq, X509 *x, struct tt_cc_report *rep)
{
    char names[TT_CC_REASON_MAX / 2], missing[TT_CC_REASON_MAX / 4] = "";
    unsigned int flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
    size_t i, nmissing = 0;

    if (!san_dns_names(x, names, sizeof(names))) {
        set_line(rep, TT_CC_SAN, TT_CC_FAIL,
                 "no DNS names in subjectAltName (clients do not match the subject CN)");
        return;
    }
    for (i = 0; i < rq->nhosts; i++) {
        if (X509_check_host(x, rq->hosts[i], strlen(rq->hosts[i]), flags, NULL) == 1)
            continue;
        if (nmissing++ > 0)
            append_printable(missing, sizeof(missing), ", ", 2);
        append_printable(missing, sizeof(missing), rq->hosts[i], strlen(rq->hosts[i]));
    }
    if (nmissing > 0)
        set_line(rep, TT_CC_SAN, TT_CC_FAIL, "subjectAltName does not cover %s (it has %s)",
                 missing, names);
    else if (rq->nhosts == 0)
        set_line(rep, TT_CC_SAN, TT_CC_PASS, "subjectAltName %s (no -H names to check)", names);
    else
        set_line(rep, TT_CC_SAN, TT_CC_PASS, "subjectAltName covers all %zu name(s): %s",
                 rq->nhosts, names);
}

static void check_key(X509 *x, struct tt_cc_report *rep)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    char group[64] = "";
    int bits;

    if (pk == NULL) {
        set_line(rep, TT_CC_KEY, TT_CC_FAIL, "the public key cannot be decoded");
        return;
    }
    bits = EVP_PKEY_get_bits(pk);
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        if (bits < TT_CC_RSA_MIN_BITS)
            set_line(rep, TT_CC_KEY, TT_CC_FAIL, "RSA %d bits: below %d", bits, TT_CC_RSA_MIN_BITS);
        else if (bits < TT_CC_RSA_GOOD_BITS)
            set_line(rep, TT_CC_KEY, TT_CC_WARN, "RSA %d bits: use %d or more at the next renewal",
                     bits, TT_CC_RSA_GOOD_BITS);
        else
            set_line(rep, TT_CC_KEY, TT_CC_PASS, "RSA %d bits", bits);
        return;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) != 1)
            snprintf(group, sizeof(group), "(unnamed curve)");
        if (strcmp(group, SN_X9_62_prime256v1) == 0 || strcmp(group, SN_secp384r1) == 0)
            set_line(rep, TT_CC_KEY, TT_CC_PASS, "ECDSA %s", group);
        else
            set_line(rep, TT_CC_KEY, TT_CC_FAIL, "ECDSA on %s: only P-256 or P-384", group);
        return;
    default:
        set_line(rep, TT_CC_KEY, TT_CC_FAIL,
                 "%s key: only RSA (2048 bits or more) or ECDSA P-256/P-384",
                 OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
    }
}

/* SHA-1 and older digests: collisions are practical, a CA must not sign with them. */
static bool weak_digest(int mdnid)
{
    return mdnid == NID_sha1 || mdnid == NID_md5 || mdnid == NID_md5_sha1 || mdnid == NID_md4 ||
           mdnid == NID_md2 || mdnid == NID_mdc2;
}

static void check_signature(X509 *x, struct tt_cc_report *rep)
{
    int mdnid = NID_undef, pknid = NID_undef, secbits = -1, signid = X509_get_signature_nid(x);
    uint32_t flags = 0;
    const char *alg = signid != NID_undef ? OBJ_nid2ln(signid) : "unknown algorithm";

    if (!X509_get_signature_info(x, &mdnid, &pknid, &secbits, &flags)) {
        set_line(rep, TT_CC_SIGNATURE, TT_CC_FAIL, "%s: the signature algorithm is not known", alg);
        return;
    }
    if (weak_digest(mdnid))
        set_line(rep, TT_CC_SIGNATURE, TT_CC_FAIL, "%s: %s is broken for signatures", alg,
                 OBJ_nid2sn(mdnid));
    else
        set_line(rep, TT_CC_SIGNATURE, TT_CC_PASS, "%s", alg);
}

/* The CA/Browser Forum's bound, which the network follows: shorter lives mean fresher keys and
 * names. */
static void check_lifetime(X509 *x, struct tt_cc_report *rep)
{
    int days = 0, secs = 0;

    if (!ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x))) {
        set_line(rep, TT_CC_LIFETIME, TT_CC_FAIL, "the validity dates cannot be read");
        return;
    }
    if (days < 0 || secs < 0)
        set_line(rep, TT_CC_LIFETIME, TT_CC_FAIL, "notAfter is before notBefore");
    else if (days > TT_CC_MAX_LIFETIME_DAYS || (days == TT_CC_MAX_LIFETIME_DAYS && secs > 0))
        set_line(rep, TT_CC_LIFETIME, TT_CC_FAIL, "valid for %d days: at most %d", days,
                 TT_CC_MAX_LIFETIME_DAYS);
    else
        set_line(rep, TT_CC_LIFETIME, TT_CC_PASS, "valid for %d days (at most %d)", days,
                 TT_CC_MAX_LIFETIME_DAYS);
}

static void check_expiry(const struct tt_cc_request *rq, X509 *x, struct tt_cc_report *rep)
{
    ASN1_TIME *now = ASN1_TIME_set(NULL, rq->now);
    const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
    char date[64];
    int days = 0, secs = 0;

    if (now == NULL || !ASN1_TIME_diff(&days, &secs, now, na)) {
        set_line(rep, TT_CC_EXPIRY, TT_CC_FAIL, "the validity dates cannot be read");
        ASN1_TIME_free(now);
        return;
    }
    if (ASN1_TIME_compare(nb, now) > 0) {
        format_time(nb, date, sizeof(date));
        set_line(rep, TT_CC_EXPIRY, TT_CC_FAIL, "not valid before %s", date);
    } else if (days < 0 || secs < 0 || (days == 0 && secs == 0)) {
        format_time(na, date, sizeof(date));
        set_line(rep, TT_CC_EXPIRY, TT_CC_FAIL, "expired on %s", date);
    } else if (days < TT_CC_RENEW_DAYS) {
        format_time(na, date, sizeof(date));
        set_line(rep, TT_CC_EXPIRY, TT_CC_WARN, "expires on %s, in %d days: renew now", date, days);
    } else {
        format_time(na, date, sizeof(date));
        set_line(rep, TT_CC_EXPIRY, TT_CC_PASS, "expires on %s, in %d days", date, days);
    }
    ASN1_TIME_free(now);
}

static void check_keymatch(X509 *x, EVP_PKEY *key, struct tt_cc_report *rep)
{
    if (EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1)
        set_line(rep, TT_CC_KEYMATCH, TT_CC_PASS, "the private key is the certificate's");
    else
        set_line(rep, TT_CC_KEYMATCH, TT_CC_FAIL,
                 "the private key does not match the certificate's public key");
    ERR_clear_error();
}

enum tt_cc_rc tt_certcheck(const struct tt_cc_request *rq, struct tt_cc_report *rep, char *err,
                           size_t errsz)
{
    STACK_OF(X509) * certs;
    EVP_PKEY *key = NULL;
    enum tt_cc_rc rc;
    X509 *x;

    memset(rep, 0, sizeof(*rep));
    certs = read_certs(rq->cert_file, err, errsz);
    if (certs == NULL)
        return TT_CC_BAD_INPUT;
    if (rq->key_file != NULL && (key = read_key(rq->key_file, err, errsz)) == NULL) {
        sk_X509_pop_free(certs, X509_free);
        return TT_CC_BAD_INPUT;
    }
    x = sk_X509_value(certs, 0);
    rc = check_chain(rq, certs, rep, err, errsz);
    if (rc == TT_CC_OK) {
        check_eku(x, rep);
        check_san(rq, x, rep);
        check_key(x, rep);
        check_signature(x, rep);
        check_lifetime(x, rep);
        check_expiry(rq, x, rep);
        if (key != NULL)
            check_keymatch(x, key, rep);
    } else if (rc == TT_CC_NO_MEMORY) {
        snprintf(err, errsz, "out of memory");
    }
    EVP_PKEY_free(key);
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

const char *tt_cc_item_name(enum tt_cc_item item)
{
    static const char *const names[TT_CC_NITEMS] = {
        [TT_CC_CHAIN] = "chain",
        [TT_CC_EKU] = "eku",
        [TT_CC_SAN] = "san",
        [TT_CC_KEY] = "key",
        [TT_CC_SIGNATURE] = "signature",
        [TT_CC_LIFETIME] = "lifetime",
        [TT_CC_EXPIRY] = "expiry",
        [TT_CC_KEYMATCH] = "keymatch",
    };

    return item < TT_CC_NITEMS ? names[item] : "?";
}

const char *tt_cc_status_name(enum tt_cc_status st)
{
    return st == TT_CC_PASS ? "pass" : st == TT_CC_WARN ? "warn" : "fail";
}

bool tt_cc_failed(const struct tt_cc_report *rep)
{
    int i;

    for (i = 0; i < TT_CC_NITEMS; i++)
        if (rep->line[i].checked && rep->line[i].status == TT_CC_FAIL)
            return true;
    return false;
}

void tt_cc_print(const struct tt_cc_report *rep, FILE *out)
{
    int i, nfail = 0, nwarn = 0;

    for (i = 0; i < TT_CC_NITEMS; i++) {
        const struct tt_cc_line *l = &rep->line[i];

        if (!l->checked)
            continue;
        fprintf(out, "%s %s: %s\n", tt_cc_status_name(l->status), tt_cc_item_name(i), l->reason);
        nfail += l->status == TT_CC_FAIL;
        nwarn += l->status == TT_CC_WARN;
    }
    fprintf(out, "result: %s (%d failed, %d warning%s)\n",
            nfail > 0   ? "fail"
            : nwarn > 0 ? "pass with warnings"
                        : "pass",
            nfail, nwarn, nwarn == 1 ? "" : "s");
}
