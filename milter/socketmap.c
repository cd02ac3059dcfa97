/*
 * socketmap.c - see socketmap.h. A fixed set of threads shares the
 * listening socket; each serves one connection at a time, request after
 * request, as Postfix keeps its socketmap connections open. Every wait is
 * a poll() that also watches a stop pipe, bounded by a deadline: a client
 * gets IDLE_MS to start a request and REQUEST_MS to finish one (a slow
 * client is cut off), so no client can hold a worker for long. A request
 * is read into a fixed buffer of TT_SOCKETMAP_REQUEST_MAX bytes: a longer
 * one is refused from its length prefix, before a byte of it is read.
 *
 * Keys, as Postfix asks them (smtp_tls_policy_maps, postconf(5)):
 *   domain        the policy of domain, table and policy zones (outbound.h)
 *   domain:port   the same: a port does not change whose servers they are
 *   .parent       NOTFOUND: Postfix asks parents only after the full name,
 *                 whose answer already took the table's parents and the
 *                 zones into account (an exemption stays one)
 *   [host]...     NOTFOUND: a host, not a domain of the network
 */
#define _GNU_SOURCE /* accept4 */
#include "socketmap.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "decide.h"
#include "dnspolicy.h"
#include "log.h"
#include "outbound.h"
#include "snapshot.h"
#include "socket.h"

/* A client that keeps a connection open without asking anything is closed after this. */
#define IDLE_MS 30000
/* From the first byte of a request to its last, and for writing the answer. */
#define REQUEST_MS 5000
#define WORKER_STACK (256 * 1024)

static int listen_fd = -1;
static int stop_pipe[2] = {-1, -1};
static char *spec_copy;
static pthread_t workers[TT_SOCKETMAP_WORKERS];
static size_t nworkers;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the answer ---- */

/* A copy safe for the log and for a reply: printable ASCII, cut at n bytes. */
static void printable(char *dst, size_t dstsz, const char *src, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < dstsz && i < n && src[i] != '\0'; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
    if (dstsz > 0)
        dst[i] = '\0';
}

/* The domain a key stands for, canonical; false: not a domain of ours to judge. */
static bool key_domain(const char *key, char *dom, size_t domsz)
{
    char buf[TT_SOCKETMAP_REQUEST_MAX + 1];
    char *colon;

    if (key[0] == '.' || key[0] == '[')
        return false;
    snprintf(buf, sizeof(buf), "%s", key);
    colon = strrchr(buf, ':');
    if (colon != NULL) {
        if (colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return false;
        *colon = '\0';
    }
    return tt_domain_canonical(buf, dom, domsz);
}

void tt_socketmap_answer(const char *data, size_t len, char *reply, size_t replysz)
{
    const size_t nl = sizeof(TT_SOCKETMAP_NAME) - 1;
    char key[TT_SOCKETMAP_REQUEST_MAX + 1], dom[TT_DNSNAME_MAX], shown[300], err[600];
    char policy[TT_OUTBOUND_MAX];
    struct tt_snapshot *snap;
    const struct tt_config *cfg;
    const struct tt_rule *rule;
    const struct tt_dnsrule *dnsrule;
    struct tt_dnsmsg *m;
    enum tt_dnsp_status st;
    size_t i;

    printable(shown, sizeof(shown), data, len);
    for (i = 0; i < len; i++)
        if ((unsigned char)data[i] < 0x20 || data[i] == 0x7f) {
            tt_log(LOG_WARNING, "socketmap: request with a control byte refused: \"%s\"", shown);
            snprintf(reply, replysz, "PERM control character in request");
            return;
        }
    if (len <= nl || memcmp(data, TT_SOCKETMAP_NAME, nl) != 0 || data[nl] != ' ') {
        tt_log(LOG_WARNING, "socketmap: request for an unknown map refused: \"%s\"", shown);
        snprintf(reply, replysz, "PERM unknown map (this is map " TT_SOCKETMAP_NAME ")");
        return;
    }
    if (len - nl - 1 == 0 || len - nl - 1 >= sizeof(key)) {
        tt_log(LOG_WARNING, "socketmap: request without a key refused");
        snprintf(reply, replysz, "PERM no key");
        return;
    }
    memcpy(key, data + nl + 1, len - nl - 1);
    key[len - nl - 1] = '\0';
    if (!key_domain(key, dom, sizeof(dom))) {
        tt_log(LOG_DEBUG,
               "socketmap: %s: not a domain name (a parent is answered at the full name): NOTFOUND",
               shown + nl + 1);
        snprintf(reply, replysz, "NOTFOUND ");
        return;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        snprintf(reply, replysz, "TEMP out of memory");
        return;
    }
    snap = tt_snapshot_get();
    cfg = tt_snapshot_config(snap);
    m->dns = tt_snapshot_dns(snap);
    st = tt_domain_rule(cfg, m, "socketmap", dom, &rule, &dnsrule);
    if (st != TT_DNSP_OK) {
        printable(shown, sizeof(shown), m->failed, sizeof(m->failed));
        tt_log(LOG_WARNING, "socketmap: %s: TEMP: DNS lookup failed: %s", dom, shown);
        snprintf(reply, replysz, "TEMP DNS lookup failed: %s", shown);
    } else {
        switch (tt_outbound_postfix(cfg, rule, policy, sizeof(policy), err, sizeof(err))) {
        case TT_OUT_POLICY:
            tt_log(LOG_DEBUG, "socketmap: %s: OK %s (rule %s)", dom, policy, rule->key);
            snprintf(reply, replysz, "OK %s", policy);
            break;
        case TT_OUT_NONE:
            tt_log(LOG_DEBUG, "socketmap: %s: NOTFOUND%s%s", dom,
                   rule != NULL ? " (exempt by " : "", rule != NULL ? rule->key : "");
            snprintf(reply, replysz, "NOTFOUND ");
            break;
        default:
            /* A policy that cannot be written must not become "no policy". */
            tt_log(LOG_ERR, "socketmap: %s: TEMP: %s", dom, err);
            snprintf(reply, replysz, "TEMP policy cannot be written for Postfix");
        }
    }
    tt_snapshot_put(snap);
    free(m);
}

/* ---- the connection ---- */

enum rd { RD_OK, RD_EOF, RD_TIMEOUT, RD_STOP, RD_ERROR };

/* Wait until fd is ready (events) or the deadline passes or a stop comes. */
static enum rd wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = stop_pipe[0], .events = POLLIN}};
        long long left = deadline - now_ms();
        int r;

        if (left <= 0)
            return RD_TIMEOUT;
        r = poll(p, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return RD_ERROR;
        if (p[1].revents != 0)
            return RD_STOP;
        if (p[0].revents != 0)
            return RD_OK;
    }
}

/* Read exactly n bytes before the deadline. */
static enum rd read_full(int fd, char *buf, size_t n, long long deadline)
{
    size_t got = 0;

    while (got < n) {
        enum rd w = wait_fd(fd, POLLIN, deadline);
        ssize_t r;

        if (w != RD_OK)
            return w;
        r = recv(fd, buf + got, n - got, MSG_DONTWAIT);
        if (r == 0)
            return RD_EOF;
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return RD_ERROR;
        }
        got += (size_t)r;
    }
    return RD_OK;
}

static bool write_full(int fd, const char *buf, size_t n)
{
    long long deadline = now_ms() + REQUEST_MS;
    size_t put = 0;

    while (put < n) {
        ssize_t r;

        if (wait_fd(fd, POLLOUT, deadline) != RD_OK)
            return false;
        r = send(fd, buf + put, n - put, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r < 0)
            return false;
        put += (size_t)r;
    }
    return true;
}

static bool send_reply(int fd, const char *reply)
{
    char frame[TT_OUTBOUND_MAX + 700];
    int n = snprintf(frame, sizeof(frame), "%zu:%s,", strlen(reply), reply);

    return n > 0 && (size_t)n < sizeof(frame) && write_full(fd, frame, (size_t)n);
}

/* A malformed frame: say so once, log it, and close (the stream cannot be resynchronised). */
static void refuse(int fd, const char *peer, const char *why)
{
    char reply[200];

    tt_log(LOG_WARNING, "socketmap: %s: %s; closing the connection", peer, why);
    snprintf(reply, sizeof(reply), "PERM %s", why);
    (void)send_reply(fd, reply);
}

/* Requests until the client closes, idles, errs or sends a malformed frame. */
static void serve(int fd, const char *peer)
{
    char data[TT_SOCKETMAP_REQUEST_MAX + 1], reply[TT_OUTBOUND_MAX + 700], why[160];

    for (;;) {
        long long deadline;
        size_t len = 0, digits = 0;
        enum rd r;
        char c;

        /* The first byte may be long in coming: Postfix keeps the connection for later. */
        r = wait_fd(fd, POLLIN, now_ms() + IDLE_MS);
        if (r != RD_OK)
            return;
        deadline = now_ms() + REQUEST_MS;
        for (;;) {
            r = read_full(fd, &c, 1, deadline);
            if (r == RD_EOF && digits == 0)
                return; /* closed between requests: the normal end */
            if (r == RD_TIMEOUT) {
                tt_log(LOG_WARNING, "socketmap: %s: request not complete within %d ms; closing",
                       peer, REQUEST_MS);
                return;
            }
            if (r != RD_OK) {
                if (r == RD_EOF)
                    tt_log(LOG_WARNING, "socketmap: %s: connection closed inside a request", peer);
                return;
            }
            if (c == ':' && digits > 0)
                break;
            if (c < '0' || c > '9' || digits >= 7 || (digits == 1 && len == 0)) {
                refuse(fd, peer, "malformed netstring length");
                return;
            }
            len = len * 10 + (size_t)(c - '0');
            digits++;
        }
        if (len > TT_SOCKETMAP_REQUEST_MAX) {
            snprintf(why, sizeof(why), "request of %zu bytes exceeds the limit of %d", len,
                     TT_SOCKETMAP_REQUEST_MAX);
            refuse(fd, peer, why);
            return;
        }
        r = read_full(fd, data, len, deadline);
        if (r == RD_OK)
            r = read_full(fd, &c, 1, deadline);
        if (r == RD_TIMEOUT)
            tt_log(LOG_WARNING, "socketmap: %s: request not complete within %d ms; closing", peer,
                   REQUEST_MS);
        else if (r == RD_EOF)
            tt_log(LOG_WARNING, "socketmap: %s: connection closed inside a request", peer);
        if (r != RD_OK)
            return;
        if (c != ',') {
            refuse(fd, peer, "malformed netstring (no ',' after the data)");
            return;
        }
        tt_socketmap_answer(data, len, reply, sizeof(reply));
        if (!send_reply(fd, reply))
            return;
    }
}

static void peer_name(int fd, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[NI_MAXHOST], port[NI_MAXSERV];

    snprintf(out, outsz, "local client");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family != AF_UNIX &&
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(out, outsz, "[%s]:%s", host, port);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        char peer[NI_MAXHOST + NI_MAXSERV + 4]; /* "[host]:port" */
        int fd;

        if (wait_fd(listen_fd, POLLIN, now_ms() + 3600 * 1000LL) == RD_STOP)
            return NULL;
        /* The listener is non-blocking: another worker may have taken the connection. */
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            continue;
        peer_name(fd, peer, sizeof(peer));
        serve(fd, peer);
        close(fd);
    }
}

/* ---- the socket ---- */

static int bind_unix(const char *path, char *err, size_t errsz)
{
    struct sockaddr_un sun;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errsz, "PolicyMapSocket %s: path too long", path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0) {
        /* bind() creates the file 0660 whatever the caller's umask. */
        mode_t old = umask(0117);
        int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));

        umask(old);
        if (r == 0)
            return fd;
        close(fd);
    }
    snprintf(err, errsz, "PolicyMapSocket %s: %s", path, strerror(errno));
    return -1;
}

static int bind_inet(const char *rest, bool v6, char *err, size_t errsz)
{
    struct addrinfo hints, *ai = NULL;
    char port[16], *host;
    const char *at = strchr(rest, '@');
    int fd = -1, one = 1, r;

    snprintf(port, sizeof(port), "%.*s", at != NULL ? (int)(at - rest) : (int)strlen(rest), rest);
    host = at != NULL ? strdup(at + 1) : NULL;
    if (host != NULL && host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = v6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    r = getaddrinfo(host, port, &hints, &ai);
    free(host);
    if (r != 0) {
        snprintf(err, errsz, "PolicyMapSocket inet%s:%s: %s", v6 ? "6" : "", rest, gai_strerror(r));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
                    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        snprintf(err, errsz, "PolicyMapSocket inet%s:%s: %s", v6 ? "6" : "", rest, strerror(errno));
    freeaddrinfo(ai);
    return fd;
}

bool tt_socketmap_open(const char *spec, uid_t uid, gid_t gid, bool chown_it, char *err,
                       size_t errsz)
{
    const char *path = tt_socket_unix_path(spec);

    if (!tt_socket_safe_dir(spec, err, errsz) || !tt_socket_prepare(spec, err, errsz))
        return false;
    if (path != NULL)
        listen_fd = bind_unix(path, err, errsz);
    else if (strncmp(spec, "inet6:", 6) == 0)
        listen_fd = bind_inet(spec + 6, true, err, errsz);
    else
        listen_fd = bind_inet(spec + 5, false, err, errsz);
    if (listen_fd < 0)
        return false;
    if (listen(listen_fd, 64) != 0) {
        snprintf(err, errsz, "PolicyMapSocket %s: listen: %s", spec, strerror(errno));
        close(listen_fd);
        listen_fd = -1;
        return false;
    }
    if (!tt_socket_secure(spec, uid, gid, chown_it, err, errsz)) {
        close(listen_fd);
        listen_fd = -1;
        return false;
    }
    spec_copy = strdup(spec);
    return true;
}

bool tt_socketmap_start(char *err, size_t errsz)
{
    pthread_attr_t attr;

    if (listen_fd < 0)
        return true;
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errsz, "PolicyMapSocket: pipe: %s", strerror(errno));
        return false;
    }
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, WORKER_STACK) != 0) {
        snprintf(err, errsz, "PolicyMapSocket: thread attributes");
        return false;
    }
    for (nworkers = 0; nworkers < TT_SOCKETMAP_WORKERS; nworkers++)
        if (pthread_create(&workers[nworkers], &attr, worker, NULL) != 0)
            break;
    pthread_attr_destroy(&attr);
    if (nworkers == 0) {
        snprintf(err, errsz, "PolicyMapSocket: cannot start a worker thread");
        return false;
    }
    tt_log(LOG_NOTICE, "socketmap %s serving map " TT_SOCKETMAP_NAME " on %s (%zu workers)",
           nworkers < TT_SOCKETMAP_WORKERS ? "partly started:" : "started:", spec_copy, nworkers);
    return true;
}

void tt_socketmap_stop(void)
{
    const char *path;
    size_t i;

    if (listen_fd < 0)
        return;
    if (stop_pipe[1] >= 0 && write(stop_pipe[1], "x", 1) < 0)
        tt_log(LOG_WARNING, "socketmap: cannot signal the workers: %s", strerror(errno));
    for (i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    nworkers = 0;
    close(listen_fd);
    listen_fd = -1;
    path = tt_socket_unix_path(spec_copy);
    /* After the drop to UserID the file is usually root's directory's: left, as the milter's. */
    if (path != NULL && unlink(path) != 0 && errno != ENOENT)
        tt_log(LOG_DEBUG, "socketmap: %s left in place: %s", path, strerror(errno));
    free(spec_copy);
    spec_copy = NULL;
}
