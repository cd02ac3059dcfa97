/*
 * helpers.c - see helpers.h. Certificates are built with the OpenSSL API
 * so the names are exactly the bytes the tests choose.
 */
#include "helpers.h"
#include "trustnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static char dir[256];

static void cleanup(void)
{
    char cmd[300];

    if (dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "warning: could not remove %s\n", dir);
    }
}

const char *th_tmpdir(void)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/tlstrust-unit-XXXXXX");
        if (mkdtemp(dir) == NULL) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(cleanup);
    }
    return dir;
}

static const char *path_of(const char *name)
{
    static char paths[8][512];
    static int slot;
    char *p = paths[slot++ % 8];

    snprintf(p, 512, "%s/%s", th_tmpdir(), name);
    return p;
}

const char *th_write(const char *name, const char *content)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "w");

    if (f == NULL || fputs(content, f) < 0 || fclose(f) != 0) {
        perror(p);
        exit(1);
    }
    return p;
}

const char *th_cert(const char *name, const char *subject, bool ca, int days)
{
    const char *p = path_of(name);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    char buf[1024], *tok, *save = NULL;
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    FILE *f;

    snprintf(buf, sizeof(buf), "%s", subject);
    for (tok = strtok_r(buf, "|", &save); tok != NULL; tok = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(tok, '=');

        *eq = '\0';
        X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0);
    }
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    if (days >= 0) {
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
    } else {
        X509_gmtime_adj(X509_getm_notBefore(x), (long)(days - 30) * 86400);
        X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
    }
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
                              ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, key, EVP_sha256());
    f = fopen(p, "a");
    if (f == NULL || !PEM_write_X509(f, x) || fclose(f) != 0) {
        perror(p);
        exit(1);
    }
    X509_NAME_free(n);
    X509_free(x);
    EVP_PKEY_free(key);
    return p;
}

int th_trust_redsegura(struct tt_trust *t, const char *subject)
{
    char err[512];

    if (tt_trust_add(t, "redsegura", th_cert("net.pem", subject, true, 365), time(NULL), err,
                     sizeof(err)))
        return 0;
    fprintf(stderr, "fixture: %s\n", err);
    return -1;
}
