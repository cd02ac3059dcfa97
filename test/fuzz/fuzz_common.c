/*
 * fuzz_common.c - see fuzz_common.h. The CA certificates are made with the
 * OpenSSL API, as the unit tests do, so the names are exactly these bytes.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"

void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "\n*** property violated at %s:%d: %s\n", file, line, what);
    abort();
}

char *fz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* One stream at a time: the targets are single-threaded. */
static char *stream_copy;

FILE *fz_open(const uint8_t *data, size_t size)
{
    FILE *f;

    stream_copy = fz_strdup(data, size);
    f = fmemopen(stream_copy, size, "r");
    if (f == NULL)
        abort();
    return f;
}

void fz_close(FILE *f)
{
    fclose(f);
    free(stream_copy);
    stream_copy = NULL;
}

void fz_quiet(void)
{
    /* Below LOG_EMERG (0): tt_log_enabled() is false for every level. */
    tt_log_set_level(-1);
}

void fz_write_ca(const char *path, const char *subject)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    char buf[256], *tok, *save = NULL;
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    FILE *f;

    if (key == NULL || x == NULL || n == NULL)
        abort();
    snprintf(buf, sizeof(buf), "%s", subject);
    for (tok = strtok_r(buf, "|", &save); tok != NULL; tok = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(tok, '=');

        *eq = '\0';
        if (!X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0))
            abort();
    }
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!X509_sign(x, key, EVP_sha256()))
        abort();
    f = fopen(path, "a");
    if (f == NULL || !PEM_write_X509(f, x) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    X509_NAME_free(n);
    X509_free(x);
    EVP_PKEY_free(key);
}

const struct tt_trust *fz_trust(void)
{
    static struct tt_trust trust;
    static bool ready;
    char dir[] = "/tmp/tlstrust-fuzz-XXXXXX", red[64], uni[64], err[600];
    time_t now = time(NULL);

    if (ready)
        return &trust;
    fz_quiet();
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    snprintf(red, sizeof(red), "%s/redsegura.pem", dir);
    snprintf(uni, sizeof(uni), "%s/universidad.pem", dir);
    fz_write_ca(red, "C=ES|O=Red Segura|CN=Red Segura CA");
    fz_write_ca(red, "C=ES|O=Red Segura|OU=Test|CN=Red Segura Intermedia \xC3\x91");
    fz_write_ca(red, "C=ES|O=Red Segura Ra\xC3\xADz");
    fz_write_ca(uni, "C=ES|O=Universidad|CN=Universidad CA");
    if (!tt_trust_add(&trust, "redsegura", red, now, err, sizeof(err)) ||
        !tt_trust_add(&trust, "universidad", uni, now, err, sizeof(err))) {
        fprintf(stderr, "fuzz trust store: %s\n", err);
        abort();
    }
    /* The store keeps everything in memory: the files are no longer needed. */
    unlink(red);
    unlink(uni);
    rmdir(dir);
    ready = true;
    return &trust;
}

bool fz_is_quoted(const char *s, size_t n)
{
    size_t i;

    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return false;
    for (i = 1; i < n - 1; i++) {
        char c = s[i];

        if (c == '\r' || c == '\n' || c == '\0' || c == '"')
            return false;
        if (c == '\\') {
            /* The escaped character must lie inside, before the closing quote. */
            if (i + 1 >= n - 1)
                return false;
            c = s[++i];
            if (c == '\r' || c == '\n' || c == '\0')
                return false;
        }
    }
    return true;
}
