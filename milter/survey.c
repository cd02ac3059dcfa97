/*
 * survey.c - tlstrustctl survey. The MX of each domain come from the
 * configured resolver; every MX host is probed once, by one worker, one
 * connection at a time with a pause between them, and at most
 * TT_SURVEY_PARALLEL hosts at once. A probe is a first STARTTLS session
 * that takes the chain (with DANE set up from the TLSA records), then one
 * session per other TLS version to learn which are accepted. Every read is
 * bounded in length, in lines and by the connection's deadline. What
 * cannot be judged (timeouts, 4xx, refused connections, DNS failures) is
 * "inconclusive", never "fail": a server that rate-limits the prober is
 * not a server without TLS.
 */
#include "survey.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"

#define MAX_ADDRS 4
#define MAX_TLSA 16
#define TLSA_DATA_MAX 2048
#define CHAIN_CERTS_MAX 16
#define REASON_MAX 400
#define NAME_MAX_LEN 256

/* One MX host and the domains it serves in this run. */
struct task {
    char host[NAME_MAX_LEN];
    int port;
    char **domains;
    size_t ndomains, cap;
};

/* What one MX host offered: shared by the rows of every domain it serves. */
struct hostprobe {
    enum tt_probe_result result;
    char reason[REASON_MAX];
    char address[INET6_ADDRSTRLEN];
    enum tt_tri starttls;
    unsigned int versions;
    char *subject, *issuer, *chain_pem;
    char network[NAME_MAX_LEN];
    enum tt_tri system_verify, name_match;
    bool has_not_after, expired;
    int64_t not_after, days_left;
    int tlsa_count;
    enum tt_tri tlsa_ad, dane;
    const char *level;
};

struct tlsa {
    uint8_t usage, selector, mtype;
    unsigned char data[TLSA_DATA_MAX];
    size_t len;
};

struct run {
    const struct tt_survey_opts *o;
    struct task *tasks;
    size_t ntasks, next;
    X509_STORE **net_stores; /* one per TrustedNetwork, in cfg->trust order */
    X509_STORE *system_store;
    int64_t started;
    pthread_mutex_t lock; /* the task counter, the store, stdout and the tally */
    unsigned int n_ok, n_fail, n_inconclusive;
    bool store_failed;
};

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------ SMTP over a socket or TLS */

struct conn {
    int fd;
    SSL *ssl;
    double deadline;
    char buf[TT_SURVEY_LINE_MAX + 3];
    size_t len;
};

enum io { IO_OK, IO_TIMEOUT, IO_CLOSED, IO_ERROR, IO_PROTOCOL };

static const char *io_name(enum io e)
{
    switch (e) {
    case IO_TIMEOUT:
        return "timed out";
    case IO_CLOSED:
        return "connection closed";
    case IO_PROTOCOL:
        return "garbled reply";
    default:
        return "connection error";
    }
}

static int remaining_ms(const struct conn *c)
{
    double left = c->deadline - now_mono();

    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Wait for fd to be readable or writable until the deadline. */
static enum io wait_fd(struct conn *c, short events)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    int ms, rc;

    for (;;) {
        ms = remaining_ms(c);
        if (ms == 0)
            return IO_TIMEOUT;
        rc = poll(&p, 1, ms);
        if (rc > 0)
            return IO_OK;
        if (rc == 0)
            return IO_TIMEOUT;
        if (errno != EINTR)
            return IO_ERROR;
    }
}

static enum io conn_write(struct conn *c, const char *s)
{
    size_t n = strlen(s), off = 0;

    while (off < n) {
        ssize_t w = send(c->fd, s + off, n - off, MSG_NOSIGNAL);

        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            enum io e = wait_fd(c, POLLOUT);

            if (e != IO_OK)
                return e;
            continue;
        }
        return IO_ERROR;
    }
    return IO_OK;
}

/* One line (without CRLF) into line; at most TT_SURVEY_LINE_MAX bytes. */
static enum io read_line(struct conn *c, char *line, size_t linesz)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        ssize_t r;

        if (nl != NULL) {
            size_t n = (size_t)(nl - c->buf);
            size_t keep = n > 0 && c->buf[n - 1] == '\r' ? n - 1 : n;

            if (keep >= linesz)
                return IO_PROTOCOL;
            memcpy(line, c->buf, keep);
            line[keep] = '\0';
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return IO_OK;
        }
        if (c->len >= TT_SURVEY_LINE_MAX + 2)
            return IO_PROTOCOL;
        r = recv(c->fd, c->buf + c->len, TT_SURVEY_LINE_MAX + 2 - c->len, 0);
        if (r > 0) {
            c->len += (size_t)r;
            continue;
        }
        if (r == 0)
            return IO_CLOSED;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            enum io e = wait_fd(c, POLLIN);

            if (e != IO_OK)
                return e;
            continue;
        }
        return IO_ERROR;
    }
}

/*
 * A whole reply: its code, its first line in first, and whether an EHLO
 * keyword line says STARTTLS (starttls may be NULL). At most
 * TT_SURVEY_REPLY_LINES lines, all with the same code.
 */
static enum io read_reply(struct conn *c, int *code, char *first, size_t firstsz, bool *starttls)
{
    char line[TT_SURVEY_LINE_MAX + 1];
    int i;

    for (i = 0; i < TT_SURVEY_REPLY_LINES; i++) {
        enum io e = read_line(c, line, sizeof(line));
        int this;

        if (e != IO_OK)
            return e;
        if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
            line[2] < '0' || line[2] > '9' || (line[3] != '\0' && line[3] != ' ' && line[3] != '-'))
            return IO_PROTOCOL;
        this = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (i == 0) {
            *code = this;
            snprintf(first, firstsz, "%s", line);
        } else if (this != *code) {
            return IO_PROTOCOL;
        }
        if (starttls != NULL && i > 0 && line[3] != '\0' &&
            strncasecmp(line + 4, "STARTTLS", 8) == 0 && (line[12] == '\0' || line[12] == ' '))
            *starttls = true;
        if (line[3] != '-')
            return IO_OK;
    }
    return IO_PROTOCOL;
}

/* Connect to addr:port before the deadline; the socket is left non-blocking. */
static enum io conn_open(struct conn *c, const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int err = 0;
    socklen_t errlen = sizeof(err);
    enum io e;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)(void *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)(void *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)(void *)&ss)->sin_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)(void *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)(void *)&ss)->sin6_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in6);
    } else {
        return IO_ERROR;
    }
    c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return IO_ERROR;
    if (connect(c->fd, (struct sockaddr *)&ss, len) == 0)
        return IO_OK;
    if (errno != EINPROGRESS)
        return errno == ECONNREFUSED ? IO_CLOSED : IO_ERROR;
    e = wait_fd(c, POLLOUT);
    if (e != IO_OK)
        return e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0 || err != 0)
        return err == ECONNREFUSED ? IO_CLOSED : IO_ERROR;
    return IO_OK;
}

static void conn_close(struct conn *c)
{
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* How far a session got. */
enum session {
    S_TLS_READY,    /* STARTTLS answered 220 */
    S_NO_STARTTLS,  /* EHLO answered 250 without STARTTLS */
    S_REFUSED,      /* a 5xx to STARTTLS */
    S_INCONCLUSIVE, /* timeout, 4xx, closed, garbled, unreachable */
};

/* A server's reply line for a reason: printable ASCII, the rest as '?', cut to fit. */
static void printable(const char *in, char *out, size_t outsz)
{
    size_t i;

    for (i = 0; in[i] != '\0' && i + 1 < outsz; i++)
        out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
    out[i] = '\0';
}

/* Connect, read the greeting, EHLO, STARTTLS. reason says what happened. */
static enum session smtp_to_starttls(const struct tt_survey_opts *o, struct conn *c,
                                     char (*addrs)[INET6_ADDRSTRLEN], size_t naddrs, int port,
                                     char *used, char *reason, size_t reasonsz)
{
    char first[TT_SURVEY_LINE_MAX + 1], cmd[NAME_MAX_LEN + 16], esc[200];
    bool starttls = false;
    enum io e = IO_ERROR;
    size_t i;
    int code;

    for (i = 0; i < naddrs; i++) {
        conn_close(c);
        e = conn_open(c, addrs[i], port);
        if (e == IO_OK) {
            snprintf(used, INET6_ADDRSTRLEN, "%s", addrs[i]);
            break;
        }
    }
    if (e != IO_OK) {
        snprintf(reason, reasonsz, "connect: %s",
                 e == IO_CLOSED ? "connection refused" : io_name(e));
        return S_INCONCLUSIVE;
    }
    e = read_reply(c, &code, first, sizeof(first), NULL);
    if (e != IO_OK) {
        snprintf(reason, reasonsz, "greeting: %s", io_name(e));
        return S_INCONCLUSIVE;
    }
    printable(first, esc, sizeof(esc));
    if (code != 220) {
        /* A 5xx greeting refuses this client, not TLS: it says nothing of the MX's TLS. */
        snprintf(reason, reasonsz, "greeting %s", esc);
        return S_INCONCLUSIVE;
    }
    snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", o->ehlo_name);
    e = conn_write(c, cmd);
    if (e == IO_OK)
        e = read_reply(c, &code, first, sizeof(first), &starttls);
    if (e != IO_OK) {
        snprintf(reason, reasonsz, "EHLO: %s", io_name(e));
        return S_INCONCLUSIVE;
    }
    printable(first, esc, sizeof(esc));
    if (code != 250) {
        /* Like a 5xx greeting, a refused EHLO is about this client, not about TLS. */
        snprintf(reason, reasonsz, "EHLO answered %s", esc);
        return S_INCONCLUSIVE;
    }
    if (!starttls) {
        snprintf(reason, reasonsz, "STARTTLS not offered");
        return S_NO_STARTTLS;
    }
    e = conn_write(c, "STARTTLS\r\n");
    if (e == IO_OK)
        e = read_reply(c, &code, first, sizeof(first), NULL);
    if (e != IO_OK) {
        snprintf(reason, reasonsz, "STARTTLS: %s", io_name(e));
        return S_INCONCLUSIVE;
    }
    printable(first, esc, sizeof(esc));
    if (code != 220) {
        snprintf(reason, reasonsz, "STARTTLS answered %s", esc);
        return code >= 500 ? S_REFUSED : S_INCONCLUSIVE;
    }
    /* Bytes after the 220 would be taken for the server's handshake: refuse them. */
    if (c->len > 0) {
        snprintf(reason, reasonsz, "data after the STARTTLS reply");
        return S_INCONCLUSIVE;
    }
    return S_TLS_READY;
}

enum hs { HS_OK, HS_FAILED, HS_TIMEOUT };

static enum hs tls_handshake(struct conn *c, char *reason, size_t reasonsz)
{
    for (;;) {
        int rc, err;
        enum io e;

        ERR_clear_error();
        rc = SSL_connect(c->ssl);
        if (rc == 1)
            return HS_OK;
        err = SSL_get_error(c->ssl, rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            e = wait_fd(c, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
            if (e == IO_TIMEOUT) {
                snprintf(reason, reasonsz, "TLS handshake timed out");
                return HS_TIMEOUT;
            }
            if (e != IO_OK)
                break;
            continue;
        }
        break;
    }
    {
        unsigned long e = ERR_peek_last_error();
        char buf[256];

        if (e != 0)
            ERR_error_string_n(e, buf, sizeof(buf));
        else
            snprintf(buf, sizeof(buf), "connection closed");
        snprintf(reason, reasonsz, "TLS handshake failed: %s", buf);
    }
    return HS_FAILED;
}

/* A polite end: QUIT in TLS when it is up, never waiting long for the answer. */
static void smtp_quit(struct conn *c)
{
    if (c->ssl != NULL) {
        (void)SSL_write(c->ssl, "QUIT\r\n", 6);
        (void)SSL_shutdown(c->ssl);
    } else if (c->fd >= 0) {
        (void)send(c->fd, "QUIT\r\n", 6, MSG_NOSIGNAL);
    }
}

/* ------------------------------------------------------------ TLS */

static const int tls_versions[4] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};

/*
 * A client context for one version (0: any); security level 0 so that old
 * versions and weak keys can still be seen and reported, never trusted:
 * nothing of this session decides anything but the report.
 */
static SSL_CTX *client_ctx(int version, bool dane)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_security_level(ctx, 0);
    if (SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0") != 1 ||
        SSL_CTX_set_min_proto_version(ctx, version != 0 ? version : TLS1_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, version != 0 ? version : TLS1_3_VERSION) != 1 ||
        (dane && (SSL_CTX_set_default_verify_paths(ctx) != 1 || SSL_CTX_dane_enable(ctx) <= 0))) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

static char *name_text(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL, *data;
    long n;

    if (b == NULL)
        return NULL;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_get_mem_data(b, &data);
        if (n >= 0 && (size_t)n < TT_STORE_TEXT_MAX) {
            s = malloc((size_t)n + 1);
            if (s != NULL) {
                memcpy(s, data, (size_t)n);
                s[n] = '\0';
            }
        }
    }
    BIO_free(b);
    return s;
}

static char *chain_pem(STACK_OF(X509) * chain)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL, *data;
    long n;
    int i;

    if (b == NULL)
        return NULL;
    for (i = 0; i < sk_X509_num(chain) && i < CHAIN_CERTS_MAX; i++)
        if (PEM_write_bio_X509(b, sk_X509_value(chain, i)) != 1)
            break;
    n = BIO_get_mem_data(b, &data);
    if (n > 0 && (size_t)n <= TT_STORE_CHAIN_MAX) {
        s = malloc((size_t)n + 1);
        if (s != NULL) {
            memcpy(s, data, (size_t)n);
            s[n] = '\0';
        }
    }
    BIO_free(b);
    return s;
}

/*
 * Does leaf chain to store (with the server's other certificates as
 * untrusted intermediates)? Time is not checked here: expiry is reported
 * on its own, so an expired member still shows which CA it belongs to.
 */
static bool chains_to(X509_STORE *store, X509 *leaf, STACK_OF(X509) * chain)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = false;

    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, chain) != 1)
        goto out;
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
    ok = X509_verify_cert(ctx) == 1;
out:
    X509_STORE_CTX_free(ctx);
    return ok;
}

static int64_t days_until(int64_t t, int64_t now)
{
    int64_t s = t - now;

    return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

/* The chain of the first session: names, expiry, which CAs it chains to. */
static void judge_chain(struct run *r, const char *host, SSL *ssl, struct hostprobe *hp)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    const struct tt_trust *trust = &r->o->cfg->trust;
    struct in6_addr a6;
    struct tm tm;
    size_t i;

    if (leaf == NULL)
        return;
    hp->subject = name_text(X509_get_subject_name(leaf));
    hp->issuer = name_text(X509_get_issuer_name(leaf));
    if (chain != NULL)
        hp->chain_pem = chain_pem(chain);
    if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1) {
        hp->has_not_after = true;
        hp->not_after = (int64_t)timegm(&tm);
        hp->days_left = days_until(hp->not_after, (int64_t)time(NULL));
        hp->expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0;
    }
    if (inet_pton(AF_INET, host, &a6) == 1 || inet_pton(AF_INET6, host, &a6) == 1)
        hp->name_match = X509_check_ip_asc(leaf, host, 0) == 1 ? TT_TRI_YES : TT_TRI_NO;
    else
        hp->name_match = X509_check_host(leaf, host, 0, 0, NULL) == 1 ? TT_TRI_YES : TT_TRI_NO;
    for (i = 0; i < trust->nnets; i++)
        if (r->net_stores[i] != NULL && chains_to(r->net_stores[i], leaf, chain)) {
            snprintf(hp->network, sizeof(hp->network), "%s", trust->nets[i].name);
            break;
        }
    hp->system_verify =
        r->system_store != NULL && chains_to(r->system_store, leaf, chain) ? TT_TRI_YES : TT_TRI_NO;
}

/* ------------------------------------------------------------ DNS */

/* Addresses of host (an address itself, or its A then AAAA records). false: none, reason says why.
 */
static bool host_addresses(const struct tt_survey_opts *o, const char *host,
                           char (*addrs)[INET6_ADDRSTRLEN], size_t *naddrs, bool *dns_failed,
                           char *reason, size_t reasonsz)
{
    static const uint16_t types[2] = {TT_DNS_A, TT_DNS_AAAA};
    unsigned char buf[sizeof(struct in6_addr)];
    size_t t, i;

    *naddrs = 0;
    *dns_failed = false;
    /* An address stands for itself, written the canonical way. */
    if (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1) {
        int family = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;

        *naddrs = inet_ntop(family, buf, addrs[0], INET6_ADDRSTRLEN) != NULL ? 1 : 0;
        return *naddrs == 1;
    }
    for (t = 0; t < 2; t++) {
        const struct tt_dns_answer *a = tt_dns_lookup(o->dns, host, types[t], NULL);

        if (a == NULL)
            continue;
        if (a->status == TT_DNS_OK) {
            for (i = 0; i < a->n && *naddrs < MAX_ADDRS; i++)
                if (strlen(a->rdata[i]) < INET6_ADDRSTRLEN)
                    snprintf(addrs[(*naddrs)++], INET6_ADDRSTRLEN, "%s", a->rdata[i]);
        } else if (a->status != TT_DNS_NODATA && a->status != TT_DNS_NXDOMAIN) {
            *dns_failed = true;
            snprintf(reason, reasonsz, "%s lookup of %s: %s", tt_dns_type_name(types[t]), host,
                     tt_dns_status_name(a->status));
        }
        tt_dns_answer_put(a);
    }
    if (*naddrs == 0 && !*dns_failed)
        snprintf(reason, reasonsz, "%s has no address", host);
    return *naddrs > 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "... TLSA 3 1 1 AB CD..." (ldns' presentation form) into t; false when it is not that. */
static bool tlsa_parse(const char *rr, struct tlsa *t)
{
    const char *p = strstr(rr, "TLSA");
    unsigned int u, s, m;
    int used = 0;

    if (p == NULL || sscanf(p + 4, " %u %u %u %n", &u, &s, &m, &used) != 3 || used == 0 ||
        u > 255 || s > 255 || m > 255)
        return false;
    t->usage = (uint8_t)u;
    t->selector = (uint8_t)s;
    t->mtype = (uint8_t)m;
    t->len = 0;
    for (p += 4 + used; *p != '\0' && *p != '\n'; p++) {
        int hi, lo;

        if (*p == ' ' || *p == '\t')
            continue;
        hi = hexval(p[0]);
        lo = p[1] != '\0' ? hexval(p[1]) : -1;
        if (hi < 0 || lo < 0 || t->len == sizeof(t->data))
            return false;
        t->data[t->len++] = (unsigned char)(hi * 16 + lo);
        p++;
    }
    return t->len > 0;
}

/* _25._tcp.HOST TLSA: the SMTP port's records (RFC 7672), whatever port --mx reaches. */
static size_t tlsa_lookup(const struct tt_survey_opts *o, const char *host, struct tlsa *out,
                          struct hostprobe *hp)
{
    char name[NAME_MAX_LEN + 16];
    const struct tt_dns_answer *a;
    size_t i, n = 0;

    hp->tlsa_count = -1;
    snprintf(name, sizeof(name), "_25._tcp.%s", host);
    a = tt_dns_lookup(o->dns, name, TT_DNS_TLSA, NULL);
    if (a == NULL)
        return 0;
    if (a->status == TT_DNS_OK || a->status == TT_DNS_NODATA || a->status == TT_DNS_NXDOMAIN) {
        hp->tlsa_count = a->status == TT_DNS_OK ? (int)a->n : 0;
        hp->tlsa_ad = a->ad ? TT_TRI_YES : TT_TRI_NO;
    }
    for (i = 0; a->status == TT_DNS_OK && i < a->n && n < MAX_TLSA; i++)
        if (tlsa_parse(a->rdata[i], &out[n]))
            n++;
    tt_dns_answer_put(a);
    return n;
}

/* The domain's MTA-STS TXT record (v=STSv1), or NULL. */
static char *mta_sts_lookup(const struct tt_survey_opts *o, const char *domain)
{
    char name[NAME_MAX_LEN + 16];
    const struct tt_dns_answer *a;
    char *s = NULL;
    size_t i;

    snprintf(name, sizeof(name), "_mta-sts.%s", domain);
    a = tt_dns_lookup(o->dns, name, TT_DNS_TXT, NULL);
    if (a == NULL)
        return NULL;
    for (i = 0; a->status == TT_DNS_OK && i < a->n && s == NULL; i++)
        if (strncmp(a->rdata[i], "v=STSv1", 7) == 0)
            s = strndup(a->rdata[i], TT_STORE_TEXT_MAX);
    tt_dns_answer_put(a);
    return s;
}

/* ------------------------------------------------------------ one host */

static void set_result(struct hostprobe *hp, enum tt_probe_result res, const char *reason)
{
    hp->result = res;
    if (reason != NULL && reason != hp->reason)
        snprintf(hp->reason, sizeof(hp->reason), "%s", reason);
}

/* The session that takes the chain, with DANE from the TLSA records. */
static void first_session(struct run *r, const struct task *t, char (*addrs)[INET6_ADDRSTRLEN],
                          size_t naddrs, const struct tlsa *tlsa, size_t ntlsa,
                          struct hostprobe *hp)
{
    const struct tt_survey_opts *o = r->o;
    struct conn c = {.fd = -1, .deadline = now_mono() + o->timeout_s};
    char reason[REASON_MAX];
    SSL_CTX *ctx = client_ctx(0, true);
    enum session s;
    enum hs h;
    size_t i;
    int usable = 0;

    if (ctx == NULL) {
        set_result(hp, TT_PROBE_INCONCLUSIVE, "cannot set up TLS (out of memory?)");
        return;
    }
    s = smtp_to_starttls(o, &c, addrs, naddrs, t->port, hp->address, reason, sizeof(reason));
    switch (s) {
    case S_NO_STARTTLS:
        hp->starttls = TT_TRI_NO;
        hp->level = "none";
        set_result(hp, TT_PROBE_FAIL, reason);
        goto out;
    case S_REFUSED:
        hp->starttls = TT_TRI_YES;
        hp->level = "none";
        set_result(hp, TT_PROBE_FAIL, reason);
        goto out;
    case S_INCONCLUSIVE:
        set_result(hp, TT_PROBE_INCONCLUSIVE, reason);
        goto out;
    case S_TLS_READY:
        break;
    }
    hp->starttls = TT_TRI_YES;
    c.ssl = SSL_new(ctx);
    if (c.ssl == NULL || SSL_set_fd(c.ssl, c.fd) != 1 ||
        SSL_set_tlsext_host_name(c.ssl, t->host) != 1 || SSL_dane_enable(c.ssl, t->host) <= 0) {
        set_result(hp, TT_PROBE_INCONCLUSIVE, "cannot set up TLS (out of memory?)");
        goto out;
    }
    for (i = 0; i < ntlsa; i++)
        if (SSL_dane_tlsa_add(c.ssl, tlsa[i].usage, tlsa[i].selector, tlsa[i].mtype, tlsa[i].data,
                              tlsa[i].len) > 0)
            usable++;
    h = tls_handshake(&c, reason, sizeof(reason));
    if (h != HS_OK) {
        hp->level = h == HS_FAILED ? "none" : "";
        set_result(hp, h == HS_FAILED ? TT_PROBE_FAIL : TT_PROBE_INCONCLUSIVE, reason);
        goto out;
    }
    for (i = 0; i < 4; i++)
        if (SSL_version(c.ssl) == tls_versions[i])
            hp->versions |= 1u << i;
    judge_chain(r, t->host, c.ssl, hp);
    if (usable > 0)
        hp->dane = SSL_get_verify_result(c.ssl) == X509_V_OK &&
                           SSL_get0_dane_authority(c.ssl, NULL, NULL) >= 0
                       ? TT_TRI_YES
                       : TT_TRI_NO;
    smtp_quit(&c);
    /* The level a sender that checks would give this MX, as the filter's levels go. */
    if (!hp->expired && hp->name_match == TT_TRI_YES && hp->network[0] != '\0')
        hp->level = "trusted";
    else if ((!hp->expired && hp->name_match == TT_TRI_YES && hp->system_verify == TT_TRI_YES) ||
             (hp->dane == TT_TRI_YES && hp->tlsa_ad == TT_TRI_YES))
        hp->level = "verified";
    else
        hp->level = "encrypted";
    if (hp->dane == TT_TRI_NO && hp->tlsa_ad == TT_TRI_YES)
        set_result(hp, TT_PROBE_FAIL, "DNSSEC-signed TLSA records, and none matches the chain");
    else if (hp->expired)
        set_result(hp, TT_PROBE_FAIL, "the certificate has expired");
    else
        set_result(hp, TT_PROBE_OK, "");
out:
    conn_close(&c);
    SSL_CTX_free(ctx);
}

/* One session per TLS version not seen yet: accepted when the handshake completes. */
static void version_sessions(struct run *r, const struct task *t, char (*addrs)[INET6_ADDRSTRLEN],
                             size_t naddrs, struct hostprobe *hp)
{
    const struct tt_survey_opts *o = r->o;
    size_t v;

    for (v = 0; v < 4; v++) {
        struct conn c = {.fd = -1};
        char reason[REASON_MAX], used[INET6_ADDRSTRLEN];
        SSL_CTX *ctx;

        if ((hp->versions >> v) & 1)
            continue;
        ctx = client_ctx(tls_versions[v], false);
        if (ctx == NULL)
            continue; /* this OpenSSL cannot speak it at all */
        pause_ms(o->delay_ms);
        c.deadline = now_mono() + o->timeout_s;
        if (smtp_to_starttls(o, &c, addrs, naddrs, t->port, used, reason, sizeof(reason)) ==
                S_TLS_READY &&
            (c.ssl = SSL_new(ctx)) != NULL && SSL_set_fd(c.ssl, c.fd) == 1 &&
            SSL_set_tlsext_host_name(c.ssl, t->host) == 1 &&
            tls_handshake(&c, reason, sizeof(reason)) == HS_OK) {
            hp->versions |= 1u << v;
            smtp_quit(&c);
        }
        conn_close(&c);
        SSL_CTX_free(ctx);
    }
}

static void probe_host(struct run *r, const struct task *t, struct hostprobe *hp)
{
    char addrs[MAX_ADDRS][INET6_ADDRSTRLEN];
    struct tlsa *tlsa = calloc(MAX_TLSA, sizeof(*tlsa));
    size_t naddrs, ntlsa = 0;
    bool dns_failed;

    hp->starttls = hp->system_verify = hp->name_match = TT_TRI_UNKNOWN;
    hp->tlsa_ad = hp->dane = TT_TRI_UNKNOWN;
    hp->tlsa_count = -1;
    hp->level = "";
    if (tlsa == NULL) {
        set_result(hp, TT_PROBE_INCONCLUSIVE, "out of memory");
        return;
    }
    if (!host_addresses(r->o, t->host, addrs, &naddrs, &dns_failed, hp->reason,
                        sizeof(hp->reason))) {
        hp->result = dns_failed ? TT_PROBE_INCONCLUSIVE : TT_PROBE_FAIL;
        free(tlsa);
        return;
    }
    ntlsa = tlsa_lookup(r->o, t->host, tlsa, hp);
    first_session(r, t, addrs, naddrs, tlsa, ntlsa, hp);
    if (hp->starttls == TT_TRI_YES && hp->versions != 0)
        version_sessions(r, t, addrs, naddrs, hp);
    free(tlsa);
}

/* ------------------------------------------------------------ rows and lines */

static void print_line(FILE *out, const struct tt_probe *p)
{
    static const char *const vn[4] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    char q[TT_STORE_TEXT_MAX + 16];
    size_t i;
    bool first = true;

    if (p->mx[0] != '\0')
        fprintf(out, "%s %s:%d", p->domain, p->mx, p->port);
    else
        fprintf(out, "%s -", p->domain); /* no MX to probe */
    fprintf(out, " %s level=%s starttls=%s versions=", tt_probe_result_name(p->result),
            p->level != NULL && p->level[0] != '\0' ? p->level : "-",
            p->starttls == TT_TRI_UNKNOWN ? "-"
            : p->starttls == TT_TRI_YES   ? "yes"
                                          : "no");
    for (i = 0; i < 4; i++)
        if ((p->versions >> i) & 1) {
            fprintf(out, "%s%s", first ? "" : ",", vn[i]);
            first = false;
        }
    fprintf(out, "%s network=%s system=%s name=%s", first ? "-" : "",
            p->network != NULL && p->network[0] != '\0' ? p->network : "-",
            p->system_verify == TT_TRI_UNKNOWN ? "-"
            : p->system_verify == TT_TRI_YES   ? "yes"
                                               : "no",
            p->name_match == TT_TRI_UNKNOWN ? "-"
            : p->name_match == TT_TRI_YES   ? "yes"
                                            : "no");
    if (p->has_not_after)
        fprintf(out, " days=%lld", (long long)p->days_left);
    if (p->tlsa_count >= 0)
        fprintf(out, " tlsa=%d ad=%s dane=%s", p->tlsa_count,
                p->tlsa_ad == TT_TRI_YES ? "yes" : "no",
                p->dane == TT_TRI_UNKNOWN ? "-"
                : p->dane == TT_TRI_YES   ? "yes"
                                          : "no");
    else
        fputs(" tlsa=?", out);
    if (p->mta_sts != NULL) {
        tt_escape_quoted(p->mta_sts, strlen(p->mta_sts), q, sizeof(q));
        fprintf(out, " mta-sts=%s", q);
    }
    if (p->subject != NULL) {
        tt_escape_quoted(p->subject, strlen(p->subject), q, sizeof(q));
        fprintf(out, " subject=%s", q);
    }
    if (p->reason != NULL && p->reason[0] != '\0') {
        tt_escape_quoted(p->reason, strlen(p->reason), q, sizeof(q));
        fprintf(out, " reason=%s", q);
    }
    fputc('\n', out);
}

/* Store and print one row; the tally sets the exit status. Under r->lock. */
static void emit(struct run *r, const struct tt_probe *p)
{
    char err[512];

    pthread_mutex_lock(&r->lock);
    if (!tt_store_add_probe(r->o->store, p, err, sizeof(err))) {
        fprintf(stderr, "tlstrustctl: %s\n", err);
        r->store_failed = true;
    }
    print_line(r->o->out, p);
    fflush(r->o->out);
    if (p->result == TT_PROBE_OK)
        r->n_ok++;
    else if (p->result == TT_PROBE_FAIL)
        r->n_fail++;
    else
        r->n_inconclusive++;
    pthread_mutex_unlock(&r->lock);
}

static void emit_host(struct run *r, const struct task *t, const struct hostprobe *hp)
{
    size_t i;

    for (i = 0; i < t->ndomains; i++) {
        char *sts = mta_sts_lookup(r->o, t->domains[i]);
        struct tt_probe p = {
            .run = r->started,
            .time = (int64_t)time(NULL),
            .domain = t->domains[i],
            .mx = t->host,
            .address = hp->address,
            .port = t->port,
            .result = hp->result,
            .reason = hp->reason,
            .level = hp->level,
            .starttls = hp->starttls,
            .versions = hp->versions,
            .subject = hp->subject,
            .issuer = hp->issuer,
            .chain_pem = hp->chain_pem,
            .network = hp->network,
            .system_verify = hp->system_verify,
            .name_match = hp->name_match,
            .has_not_after = hp->has_not_after,
            .not_after = hp->not_after,
            .days_left = hp->days_left,
            .tlsa_count = hp->tlsa_count,
            .tlsa_ad = hp->tlsa_ad,
            .dane = hp->dane,
            .mta_sts = sts,
        };

        emit(r, &p);
        free(sts);
    }
}

static void *worker(void *arg)
{
    struct run *r = arg;

    for (;;) {
        struct hostprobe hp;
        struct task *t;

        pthread_mutex_lock(&r->lock);
        t = r->next < r->ntasks ? &r->tasks[r->next++] : NULL;
        pthread_mutex_unlock(&r->lock);
        if (t == NULL)
            return NULL;
        memset(&hp, 0, sizeof(hp));
        probe_host(r, t, &hp);
        emit_host(r, t, &hp);
        free(hp.subject);
        free(hp.issuer);
        free(hp.chain_pem);
    }
}

/* ------------------------------------------------------------ the run */

static struct task *task_for(struct run *r, const char *host, int port)
{
    struct task *t;
    size_t i;

    for (i = 0; i < r->ntasks; i++)
        if (r->tasks[i].port == port && strcasecmp(r->tasks[i].host, host) == 0)
            return &r->tasks[i];
    t = realloc(r->tasks, (r->ntasks + 1) * sizeof(*t));
    if (t == NULL)
        return NULL;
    r->tasks = t;
    t = &r->tasks[r->ntasks++];
    memset(t, 0, sizeof(*t));
    snprintf(t->host, sizeof(t->host), "%s", host);
    t->port = port;
    return t;
}

static bool task_add_domain(struct task *t, char *domain)
{
    if (t->ndomains == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        char **d = realloc(t->domains, cap * sizeof(*d));

        if (d == NULL)
            return false;
        t->domains = d;
        t->cap = cap;
    }
    t->domains[t->ndomains++] = domain;
    return true;
}

/*
 * The MX hosts of domain as tasks. A domain whose MX cannot be had gets
 * its row now: a failed lookup is inconclusive, a null MX (RFC 7505) a
 * domain that takes no mail (fail), no MX at all means the domain itself
 * (RFC 5321 5.1).
 */
static bool plan_domain(struct run *r, char *domain)
{
    const struct tt_dns_answer *a = tt_dns_lookup(r->o->dns, domain, TT_DNS_MX, NULL);
    struct tt_probe p = {.run = r->started,
                         .domain = domain,
                         .mx = "",
                         .address = "",
                         .reason = "",
                         .port = 25,
                         .level = "",
                         .network = "",
                         .starttls = TT_TRI_UNKNOWN,
                         .system_verify = TT_TRI_UNKNOWN,
                         .name_match = TT_TRI_UNKNOWN,
                         .tlsa_count = -1,
                         .tlsa_ad = TT_TRI_UNKNOWN,
                         .dane = TT_TRI_UNKNOWN};
    char reason[REASON_MAX];
    size_t i;
    bool ok = true;

    if (a == NULL)
        return false;
    if (a->status == TT_DNS_OK && a->n == 1 && strcmp(a->rdata[0], ".") == 0) {
        p.result = TT_PROBE_FAIL;
        p.reason = "null MX (RFC 7505): the domain takes no mail";
    } else if (a->status == TT_DNS_OK) {
        for (i = 0; i < a->n && i < TT_SURVEY_MAX_MX && ok; i++) {
            struct task *t =
                strlen(a->rdata[i]) < NAME_MAX_LEN ? task_for(r, a->rdata[i], 25) : NULL;

            ok = t != NULL && task_add_domain(t, domain);
        }
        tt_dns_answer_put(a);
        return ok;
    } else if (a->status == TT_DNS_NODATA) {
        struct task *t = task_for(r, domain, 25);

        tt_dns_answer_put(a);
        return t != NULL && task_add_domain(t, domain);
    } else {
        snprintf(reason, sizeof(reason), "MX lookup: %s", tt_dns_status_name(a->status));
        p.result = a->status == TT_DNS_NXDOMAIN ? TT_PROBE_FAIL : TT_PROBE_INCONCLUSIVE;
        p.reason = reason;
    }
    p.time = (int64_t)time(NULL);
    emit(r, &p);
    tt_dns_answer_put(a);
    return true;
}

static X509_STORE *load_store(const char *file)
{
    X509_STORE *s = X509_STORE_new();

    if (s == NULL)
        return NULL;
    if ((file != NULL ? X509_STORE_load_file(s, file) : X509_STORE_set_default_paths(s)) != 1) {
        X509_STORE_free(s);
        return NULL;
    }
    return s;
}

int tt_survey_run(const struct tt_survey_opts *o, char **domains, size_t ndomains)
{
    struct run r = {.o = o, .started = (int64_t)time(NULL)};
    pthread_t th[TT_SURVEY_PARALLEL];
    size_t i, nth = 0;
    int rc;

    /* A server that closes mid-write must not kill the run: writes then fail with EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&r.lock, NULL);
    r.net_stores = calloc(o->cfg->trust.nnets + 1, sizeof(*r.net_stores));
    if (r.net_stores == NULL)
        return 71;
    for (i = 0; i < o->cfg->trust.nnets; i++) {
        r.net_stores[i] = load_store(o->cfg->trust.nets[i].file);
        if (r.net_stores[i] == NULL)
            tt_log(LOG_WARNING, "network %s: cannot load %s", o->cfg->trust.nets[i].name,
                   o->cfg->trust.nets[i].file);
    }
    r.system_store = load_store(o->system_ca_file);
    for (i = 0; i < ndomains; i++) {
        bool ok;

        if (o->mx_host != NULL) {
            struct task *t = task_for(&r, o->mx_host, o->mx_port);

            ok = t != NULL && task_add_domain(t, domains[i]);
        } else {
            ok = plan_domain(&r, domains[i]);
        }
        if (!ok) {
            fprintf(stderr, "tlstrustctl: out of memory\n");
            r.store_failed = true;
            break;
        }
    }
    for (i = 0; i < TT_SURVEY_PARALLEL && i < r.ntasks; i++) {
        if (pthread_create(&th[nth], NULL, worker, &r) != 0)
            break;
        nth++;
    }
    if (nth == 0 && r.ntasks > 0)
        worker(&r);
    for (i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < r.ntasks; i++)
        free(r.tasks[i].domains);
    free(r.tasks);
    for (i = 0; i < o->cfg->trust.nnets; i++)
        X509_STORE_free(r.net_stores[i]);
    free(r.net_stores);
    X509_STORE_free(r.system_store);
    pthread_mutex_destroy(&r.lock);
    if (r.store_failed)
        rc = 70;
    else if (r.n_fail > 0)
        rc = 1;
    else if (r.n_inconclusive > 0)
        rc = 2;
    else
        rc = 0;
    return rc;
}
