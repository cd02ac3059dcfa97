/*
 * helpers.c - see helpers.h. Certificates are built with the OpenSSL API
 * so the names are exactly the bytes the tests choose.
 */
#include "helpers.h"
#include "trustnet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* A new key as spec says: "ec:CURVE", "rsa:BITS" or "ed25519". */
static EVP_PKEY *new_key(const char *spec)
{
    EVP_PKEY *k = NULL;

    if (strncmp(spec, "ec:", 3) == 0)
        k = EVP_EC_gen(spec + 3);
    else if (strncmp(spec, "rsa:", 4) == 0)
        k = EVP_RSA_gen((unsigned int)atoi(spec + 4));
    else if (strcmp(spec, "ed25519") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (k == NULL) {
        fprintf(stderr, "new_key: cannot make %s\n", spec);
        exit(1);
    }
    return k;
}

static void write_pem(const char *name, X509 *x, EVP_PKEY *k)
{
    char file[128];
    FILE *f;

    snprintf(file, sizeof(file), "%s.pem", name);
    f = fopen(path_of(file), "w");
    if (f == NULL || !PEM_write_X509(f, x) || fclose(f) != 0) {
        perror(file);
        exit(1);
    }
    snprintf(file, sizeof(file), "%s.key", name);
    f = fopen(path_of(file), "w");
    if (f == NULL || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0) {
        perror(file);
        exit(1);
    }
}

static X509 *read_cert(const char *name)
{
    char file[128];
    FILE *f;
    X509 *x;

    snprintf(file, sizeof(file), "%s.pem", name);
    f = fopen(path_of(file), "r");
    x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    if (x == NULL) {
        fprintf(stderr, "read_cert: %s\n", file);
        exit(1);
    }
    return x;
}

static EVP_PKEY *read_key(const char *name)
{
    char file[128];
    EVP_PKEY *k;
    FILE *f;

    snprintf(file, sizeof(file), "%s.key", name);
    f = fopen(path_of(file), "r");
    k = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    if (k == NULL) {
        fprintf(stderr, "read_key: %s\n", file);
        exit(1);
    }
    return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL || !X509_add_ext(x, ext, -1)) {
        fprintf(stderr, "add_ext: %s\n", value);
        exit(1);
    }
    X509_EXTENSION_free(ext);
}

/* Sign x (subject CN cn, key k) by issuer/ikey, or by itself when issuer is NULL. */
static void sign_cert(X509 *x, const char *cn, EVP_PKEY *k, X509 *issuer, EVP_PKEY *ikey,
                      const char *md, long nb, long na)
{
    X509_NAME *n = X509_NAME_new();
    static long serial = 100;
    time_t now = time(NULL); /* one clock for both dates: lifetimes are exact */

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    X509_time_adj(X509_getm_notBefore(x), nb, &now);
    X509_time_adj(X509_getm_notAfter(x), na, &now);
    X509_set_pubkey(x, k);
    add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier, "hash");
    if (issuer != NULL)
        add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    if (!X509_sign(x, issuer != NULL ? ikey : k,
                   strcmp(md, "none") == 0 ? NULL : EVP_get_digestbyname(md))) {
        fprintf(stderr, "sign_cert: %s with %s\n", cn, md);
        exit(1);
    }
}

const char *th_ca(const char *name, const char *cn, const char *issuer)
{
    X509 *x = X509_new(), *ix = issuer != NULL ? read_cert(issuer) : NULL;
    EVP_PKEY *k = new_key("ec:P-256"), *ik = issuer != NULL ? read_key(issuer) : NULL;
    char file[128];

    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    sign_cert(x, cn, k, ix, ik, "sha256", -86400, 3650L * 86400);
    write_pem(name, x, k);
    X509_free(x);
    X509_free(ix);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ik);
    snprintf(file, sizeof(file), "%s.pem", name);
    return path_of(file);
}

const char *th_issue(const char *name, const char *issuer, const struct th_leaf *spec)
{
    X509 *x = X509_new(), *ix = read_cert(issuer);
    EVP_PKEY *k = new_key(spec->key != NULL ? spec->key : "ec:P-256"), *ik = read_key(issuer);
    const char *eku = spec->eku != NULL ? spec->eku : "serverAuth,clientAuth";
    const char *san = spec->san != NULL ? spec->san : "DNS:mx.member.test";
    char file[128];

    add_ext(x, ix, NID_basic_constraints, spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    if (eku[0] != '\0')
        add_ext(x, ix, NID_ext_key_usage, eku);
    if (san[0] != '\0')
        add_ext(x, ix, NID_subject_alt_name, san);
    sign_cert(x, spec->cn != NULL ? spec->cn : "mx.member.test", k, ix, ik,
              spec->md != NULL ? spec->md : "sha256", spec->not_before,
              spec->not_after != 0 ? spec->not_after : 397L * 86400);
    write_pem(name, x, k);
    X509_free(x);
    X509_free(ix);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ik);
    snprintf(file, sizeof(file), "%s.pem", name);
    return path_of(file);
}

static int udp_fd = -1;
static atomic_bool udp_stop;
static pthread_t udp_thread;
static th_udp_answer_fn udp_answer;

static void *udp_serve(void *arg)
{
    (void)arg;
    while (!atomic_load(&udp_stop)) {
        struct pollfd pfd = {.fd = udp_fd, .events = POLLIN};
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        uint8_t buf[4096];
        ssize_t n;

        if (poll(&pfd, 1, 50) != 1)
            continue;
        n = recvfrom(udp_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
        if (n > 0)
            udp_answer(udp_fd, buf, (size_t)n, &from, fromlen);
    }
    return NULL;
}

int th_udp_start(th_udp_answer_fn answer)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (udp_fd < 0 || bind(udp_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(udp_fd, (struct sockaddr *)&sin, &len) != 0)
        return -1;
    udp_answer = answer;
    atomic_store(&udp_stop, false);
    if (pthread_create(&udp_thread, NULL, udp_serve, NULL) != 0)
        return -1;
    return ntohs(sin.sin_port);
}

void th_udp_stop(void)
{
    atomic_store(&udp_stop, true);
    pthread_join(udp_thread, NULL);
    close(udp_fd);
    udp_fd = -1;
}
