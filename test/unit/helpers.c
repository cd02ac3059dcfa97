/*
 * helpers.c - see helpers.h. Certificates are built with the OpenSSL API
 * so the names are exactly the bytes the tests choose.
 */
#include "helpers.h"
#include "trustnet.h"

#include <fcntl.h>
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

/* Sign a self-signed certificate named n and append it to tmpdir/name; frees n. */
static const char *write_cert(const char *name, X509_NAME *n, bool ca, int days)
{
    const char *p = path_of(name);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    FILE *f;

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

const char *th_cert(const char *name, const char *subject, bool ca, int days)
{
    X509_NAME *n = X509_NAME_new();
    char buf[1024], *tok, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", subject);
    for (tok = strtok_r(buf, "|", &save); tok != NULL; tok = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(tok, '=');

        *eq = '\0';
        X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0);
    }
    return write_cert(name, n, ca, days);
}

const char *th_cert_attrs(const char *name, const struct th_attr *attrs, size_t nattrs, bool ca,
                          int days)
{
    X509_NAME *n = X509_NAME_new();
    size_t i;

    for (i = 0; i < nattrs; i++) {
        /* A plain ASN.1 type (not MBSTRING_*): the bytes are stored as they are. */
        if (!X509_NAME_add_entry_by_txt(n, attrs[i].field, attrs[i].type,
                                        (const unsigned char *)attrs[i].bytes, attrs[i].len, -1,
                                        0)) {
            fprintf(stderr, "th_cert_attrs: cannot add %s\n", attrs[i].field);
            exit(1);
        }
    }
    return write_cert(name, n, ca, days);
}

static int saved_stderr = -1;

void th_stderr_begin(void)
{
    char path[512];
    int fd;

    snprintf(path, sizeof(path), "%s/stderr.txt", th_tmpdir());
    fflush(stderr);
    saved_stderr = dup(2);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved_stderr < 0 || fd < 0 || dup2(fd, 2) < 0) {
        perror(path);
        exit(1);
    }
    close(fd);
}

const char *th_stderr_end(void)
{
    static char text[16384];
    char path[512];
    size_t n = 0;
    FILE *f;

    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    saved_stderr = -1;
    snprintf(path, sizeof(path), "%s/stderr.txt", th_tmpdir());
    f = fopen(path, "r");
    if (f != NULL) {
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
    }
    text[n] = '\0';
    /* Show it all the same, for whoever reads the test log. */
    fputs(text, stderr);
    return text;
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
