/*
 * dns.c - stub resolver and shared cache. Queries are built and parsed by
 * libldns; the transport is ours so that every attempt has a hard timeout
 * and each server its own port: UDP on a connected socket (answers from
 * elsewhere are never seen), TCP when the answer is truncated. The cache is
 * a chained hash table under one mutex, with an LRU list; an entry whose
 * query is in flight makes identical lookups wait on a condition variable
 * instead of sending their own packet.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "address.h"

#define NAME_MAX_LEN 256
#define UDP_BUF 4096
#define EDNS_SIZE 1232

struct box {
    struct tt_dns_answer a; /* first: the public pointer is the box's */
    atomic_int refs;
};

struct centry {
    struct centry *next;                /* hash chain */
    struct centry *lru_prev, *lru_next; /* most recent at the head */
    char name[NAME_MAX_LEN];
    uint16_t type;
    uint32_t hash;
    struct box *answer; /* NULL while in flight */
    double expires;     /* monotonic seconds */
    bool inflight;
    unsigned int waiters;
};

struct tt_dns {
    struct tt_dns_conf conf;
    pthread_mutex_t lock;
    pthread_cond_t done;
    struct centry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    struct centry *lru_head, *lru_tail;
    struct tt_dns_stats stats;
    /* The server that gave the last answer: lookups start there, so a dead first one costs once. */
    atomic_uint first_server;
    atomic_uint refs; /* the snapshots (and tools) that use this resolver */
};

/* Every resolver's counts summed, for tt_dns_totals: they outlive the resolvers. */
static struct {
    atomic_ulong lookups, sent, hits, joined, failures;
} totals;

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *tt_dns_status_name(enum tt_dns_status s)
{
    static const char *names[] = {
        "NOERROR", "NODATA", "NXDOMAIN", "SERVFAIL", "timeout", "connection refused", "error"};

    return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "error";
}

const char *tt_dns_type_name(uint16_t type)
{
    switch (type) {
    case TT_DNS_A:
        return "A";
    case TT_DNS_MX:
        return "MX";
    case TT_DNS_TXT:
        return "TXT";
    case TT_DNS_AAAA:
        return "AAAA";
    case TT_DNS_TLSA:
        return "TLSA";
    default:
        return "?";
    }
}

void tt_dns_conf_init(struct tt_dns_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->timeout_ms = TT_DNS_DEFAULT_TIMEOUT_MS;
    conf->retries = TT_DNS_DEFAULT_RETRIES;
    conf->cache_size = TT_DNS_DEFAULT_CACHE;
}

bool tt_dns_conf_add_server(struct tt_dns_conf *conf, const char *spec, char *err, size_t errsz)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *at = strrchr(spec, '@');
    size_t n = at != NULL ? (size_t)(at - spec) : strlen(spec);
    long port = 53;
    struct sockaddr_storage *ss;

    if (conf->nservers == TT_DNS_MAX_SERVERS) {
        snprintf(err, errsz, "too many resolvers (max %d)", TT_DNS_MAX_SERVERS);
        return false;
    }
    if (n == 0 || n >= sizeof(host)) {
        snprintf(err, errsz, "invalid resolver address '%s'", spec);
        return false;
    }
    memcpy(host, spec, n);
    host[n] = '\0';
    if (at != NULL) {
        char *end;

        errno = 0;
        port = strtol(at + 1, &end, 10);
        if (at[1] < '0' || at[1] > '9' || *end != '\0' || errno != 0 || port < 1 || port > 65535) {
            snprintf(err, errsz, "invalid resolver port in '%s'", spec);
            return false;
        }
    }
    ss = &conf->servers[conf->nservers];
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)(void *)ss)->sin_addr) == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        conf->server_len[conf->nservers] = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)(void *)ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        conf->server_len[conf->nservers] = sizeof(*sin6);
    } else {
        snprintf(err, errsz, "invalid resolver address '%s' (IPv4 or IPv6, optional @PORT)", host);
        return false;
    }
    conf->nservers++;
    return true;
}

static bool read_resolv_conf(struct tt_dns_conf *conf, char *err, size_t errsz)
{
    FILE *f = fopen("/etc/resolv.conf", "r");
    char line[512];

    if (f != NULL) {
        while (fgets(line, sizeof(line), f) != NULL && conf->nservers < TT_DNS_MAX_SERVERS) {
            char kw[32], addr[128];

            /* resolv.conf has no ports; a scoped address (fe80::1%eth0) is skipped. */
            if (sscanf(line, "%31s %127s", kw, addr) == 2 && strcmp(kw, "nameserver") == 0 &&
                strchr(addr, '%') == NULL && strchr(addr, '@') == NULL) {
                char e[128];

                (void)tt_dns_conf_add_server(conf, addr, e, sizeof(e));
            }
        }
        fclose(f);
    }
    if (conf->nservers == 0) {
        snprintf(err, errsz, "no DnsResolver given and no nameserver in /etc/resolv.conf");
        return false;
    }
    return true;
}

bool tt_dns_conf_complete(struct tt_dns_conf *conf, char *err, size_t errsz)
{
    if (conf->nservers > 0)
        return true;
    conf->from_resolv_conf = true;
    return read_resolv_conf(conf, err, errsz);
}

bool tt_dns_conf_equal(const struct tt_dns_conf *a, const struct tt_dns_conf *b)
{
    size_t i;

    if (a->nservers != b->nservers || a->timeout_ms != b->timeout_ms || a->retries != b->retries ||
        a->cache_size != b->cache_size)
        return false;
    for (i = 0; i < a->nservers; i++)
        if (a->server_len[i] != b->server_len[i] ||
            memcmp(&a->servers[i], &b->servers[i], a->server_len[i]) != 0)
            return false;
    return true;
}

struct tt_dns *tt_dns_new(const struct tt_dns_conf *conf, char *err, size_t errsz)
{
    struct tt_dns *d = calloc(1, sizeof(*d));
    size_t nb = 64;

    if (d == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    d->conf = *conf;
    if (d->conf.cache_size == 0)
        d->conf.cache_size = 1;
    if (!tt_dns_conf_complete(&d->conf, err, errsz)) {
        free(d);
        return NULL;
    }
    while (nb < d->conf.cache_size && nb < ((size_t)1 << 24))
        nb *= 2;
    d->buckets = calloc(nb, sizeof(*d->buckets));
    if (d->buckets == NULL) {
        snprintf(err, errsz, "out of memory");
        free(d);
        return NULL;
    }
    d->nbuckets = nb;
    atomic_init(&d->first_server, 0);
    atomic_init(&d->refs, 1);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->done, NULL);
    return d;
}

static void box_free(struct box *b)
{
    size_t i;

    for (i = 0; i < b->a.n; i++)
        free(b->a.rdata[i]);
    free(b->a.rdata);
    free(b);
}

void tt_dns_answer_put(const struct tt_dns_answer *a)
{
    struct box *b = (struct box *)(uintptr_t)a;

    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
        box_free(b);
}

static const struct tt_dns_answer *box_ref(struct box *b)
{
    atomic_fetch_add(&b->refs, 1);
    return &b->a;
}

struct tt_dns *tt_dns_ref(struct tt_dns *d)
{
    atomic_fetch_add(&d->refs, 1);
    return d;
}

const struct tt_dns_conf *tt_dns_conf_of(const struct tt_dns *d)
{
    return &d->conf;
}

void tt_dns_free(struct tt_dns *d)
{
    struct centry *e, *next;

    if (d == NULL || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    for (e = d->lru_head; e != NULL; e = next) {
        next = e->lru_next;
        if (e->answer != NULL)
            tt_dns_answer_put(&e->answer->a);
        free(e);
    }
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->done);
    free(d->buckets);
    free(d);
}

long tt_dns_bound_ms(const struct tt_dns_conf *conf)
{
    return (long)conf->timeout_ms * (conf->retries + 1);
}

size_t tt_dns_server_count(const struct tt_dns_conf *conf)
{
    return conf->nservers;
}

bool tt_dns_server_loopback(const struct tt_dns_conf *conf, size_t i, char *addr, size_t addrsz)
{
    const struct sockaddr_storage *ss = &conf->servers[i];
    char host[INET6_ADDRSTRLEN];
    uint16_t port;
    bool loop;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ss;

        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
        loop = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)ss;
        const uint8_t *b = sin6->sin6_addr.s6_addr;

        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        port = ntohs(sin6->sin6_port);
        loop = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
               (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127);
    }
    if (port == 53)
        snprintf(addr, addrsz, "%s", host);
    else
        snprintf(addr, addrsz, "%s@%u", host, port);
    return loop;
}

void tt_dns_totals(struct tt_dns_stats *out)
{
    out->lookups = atomic_load_explicit(&totals.lookups, memory_order_relaxed);
    out->sent = atomic_load_explicit(&totals.sent, memory_order_relaxed);
    out->hits = atomic_load_explicit(&totals.hits, memory_order_relaxed);
    out->joined = atomic_load_explicit(&totals.joined, memory_order_relaxed);
    out->failures = atomic_load_explicit(&totals.failures, memory_order_relaxed);
    out->evictions = 0;
}

void tt_dns_get_stats(struct tt_dns *d, struct tt_dns_stats *out)
{
    pthread_mutex_lock(&d->lock);
    *out = d->stats;
    pthread_mutex_unlock(&d->lock);
}

/* ---- transport ---- */

static struct box *box_new(enum tt_dns_status st)
{
    struct box *b = calloc(1, sizeof(*b));

    if (b != NULL) {
        b->a.status = st;
        atomic_init(&b->refs, 1);
    }
    return b;
}

static int remaining_ms(double deadline)
{
    double left = deadline - now_mono();

    return left <= 0 ? 0 : (int)(left * 1000.0) + 1;
}

/* The query on the wire, and what its answer must echo. */
struct query {
    const uint8_t *wire;
    size_t wlen;
    uint16_t id;
    const ldns_rdf *qname;
    uint16_t type;
};

/*
 * An answer to our query: QR set, our id, and exactly one question with our
 * name (case-insensitively), type and class IN. Anything else is not taken,
 * even on our connected socket.
 */
static bool answers_query(const ldns_pkt *p, const struct query *q)
{
    const ldns_rr_list *qs = ldns_pkt_question(p);
    const ldns_rr *rr;

    if (!ldns_pkt_qr(p) || ldns_pkt_id(p) != q->id || qs == NULL || ldns_rr_list_rr_count(qs) != 1)
        return false;
    rr = ldns_rr_list_rr(qs, 0);
    return ldns_rr_get_type(rr) == q->type && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
           ldns_dname_compare(ldns_rr_owner(rr), q->qname) == 0;
}

/* Parse an answer; NULL unless it is one to q. */
static ldns_pkt *parse_answer(const uint8_t *buf, size_t n, const struct query *q)
{
    ldns_pkt *ans = NULL;

    if (n < 12 || ldns_wire2pkt(&ans, buf, n) != LDNS_STATUS_OK)
        return NULL;
    if (!answers_query(ans, q)) {
        ldns_pkt_free(ans);
        return NULL;
    }
    return ans;
}

/*
 * One UDP exchange; returns the first answer to q (others are dropped), or
 * NULL, with *refused set when the server's port was unreachable.
 */
static ldns_pkt *udp_exchange(const struct sockaddr_storage *to, socklen_t tolen,
                              const struct query *q, double deadline, bool *refused)
{
    uint8_t buf[UDP_BUF];
    int fd = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ldns_pkt *ans = NULL;

    if (fd < 0)
        return NULL;
    if (connect(fd, (const struct sockaddr *)to, tolen) != 0 ||
        send(fd, q->wire, q->wlen, 0) != (ssize_t)q->wlen) {
        *refused = errno == ECONNREFUSED;
        close(fd);
        return NULL;
    }
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ms = remaining_ms(deadline);
        ssize_t n;

        if (ms == 0 || poll(&pfd, 1, ms) <= 0)
            break;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            /* On a connected socket, ICMP port unreachable comes back as ECONNREFUSED. */
            *refused = errno == ECONNREFUSED;
            break;
        }
        if ((ans = parse_answer(buf, (size_t)n, q)) != NULL)
            break;
    }
    close(fd);
    return ans;
}

static bool io_wait(int fd, short ev, double deadline)
{
    struct pollfd pfd = {.fd = fd, .events = ev};
    int ms = remaining_ms(deadline);

    return ms > 0 && poll(&pfd, 1, ms) == 1 && (pfd.revents & (ev | POLLHUP)) != 0;
}

/*
 * One TCP exchange (after a truncated UDP answer), non-blocking under the
 * same deadline; *refused is set when the connection was refused.
 */
static ldns_pkt *tcp_exchange(const struct sockaddr_storage *to, socklen_t tolen,
                              const struct query *q, double deadline, bool *refused)
{
    int fd = socket(to->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    uint8_t *out = NULL, *in = NULL, len[2];
    size_t off = 0, need;
    ldns_pkt *ans = NULL;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);

    if (fd < 0)
        return NULL;
    if (connect(fd, (const struct sockaddr *)to, tolen) != 0 && errno != EINPROGRESS) {
        *refused = errno == ECONNREFUSED;
        goto out;
    }
    if (!io_wait(fd, POLLOUT, deadline) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
        soerr != 0) {
        *refused = soerr == ECONNREFUSED;
        goto out;
    }
    out = malloc(q->wlen + 2);
    if (out == NULL)
        goto out;
    out[0] = (uint8_t)(q->wlen >> 8);
    out[1] = (uint8_t)q->wlen;
    memcpy(out + 2, q->wire, q->wlen);
    while (off < q->wlen + 2) {
        ssize_t n = send(fd, out + off, q->wlen + 2 - off, MSG_NOSIGNAL);

        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno == EAGAIN && io_wait(fd, POLLOUT, deadline))
            continue;
        else
            goto out;
    }
    for (off = 0; off < 2;) {
        ssize_t n = recv(fd, len + off, 2 - off, 0);

        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno == EAGAIN && io_wait(fd, POLLIN, deadline))
            continue;
        else
            goto out;
    }
    need = (size_t)len[0] << 8 | len[1];
    if (need < 12 || (in = malloc(need)) == NULL)
        goto out;
    for (off = 0; off < need;) {
        ssize_t n = recv(fd, in + off, need - off, 0);

        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno == EAGAIN && io_wait(fd, POLLIN, deadline))
            continue;
        else
            goto out;
    }
    ans = parse_answer(in, need, q);
out:
    free(out);
    free(in);
    close(fd);
    return ans;
}

static char *rdata_string(const ldns_rr *rr, uint16_t type)
{
    size_t i, total = 0;
    char *s, *w;

    if (type == TT_DNS_TXT) {
        for (i = 0; i < ldns_rr_rd_count(rr); i++) {
            const ldns_rdf *rdf = ldns_rr_rdf(rr, i);

            if (ldns_rdf_size(rdf) > 0)
                total += ldns_rdf_size(rdf) - 1;
        }
        s = w = malloc(total + 1);
        if (s == NULL)
            return NULL;
        /* RFC 7208 style: the character-strings are joined without separator. */
        for (i = 0; i < ldns_rr_rd_count(rr); i++) {
            const ldns_rdf *rdf = ldns_rr_rdf(rr, i);

            if (ldns_rdf_size(rdf) > 0) {
                memcpy(w, ldns_rdf_data(rdf) + 1, ldns_rdf_size(rdf) - 1);
                w += ldns_rdf_size(rdf) - 1;
            }
        }
        *w = '\0';
        /* A NUL inside a TXT string cannot be a policy: keep the text up to it. */
        return s;
    }
    if (type == TT_DNS_MX && ldns_rr_rd_count(rr) >= 2)
        s = ldns_rdf2str(ldns_rr_rdf(rr, 1));
    else if ((type == TT_DNS_A || type == TT_DNS_AAAA) && ldns_rr_rd_count(rr) >= 1)
        s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    else
        s = ldns_rr2str(rr);
    if (s != NULL && type == TT_DNS_MX) {
        size_t n = strlen(s);

        if (n > 1 && s[n - 1] == '.')
            s[n - 1] = '\0';
    }
    return s;
}

/*
 * RFC 2308: a negative answer lives min(SOA TTL, SOA MINIMUM), and like any
 * answer at most TT_DNS_MAX_TTL; without a SOA it is not kept.
 */
static uint32_t negative_ttl(const ldns_pkt *p)
{
    const ldns_rr_list *auth = ldns_pkt_authority(p);
    size_t i;

    for (i = 0; auth != NULL && i < ldns_rr_list_rr_count(auth); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(auth, i);

        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) >= 7) {
            uint32_t ttl = ldns_rr_ttl(rr);
            uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));

            if (min < ttl)
                ttl = min;
            return ttl < TT_DNS_MAX_TTL ? ttl : TT_DNS_MAX_TTL;
        }
    }
    return 0;
}

static struct box *make_answer(const ldns_pkt *p, uint16_t type)
{
    const ldns_rr_list *an = ldns_pkt_answer(p);
    struct box *b;
    size_t i, n = 0;
    uint32_t ttl = TT_DNS_MAX_TTL;

    switch (ldns_pkt_get_rcode(p)) {
    case LDNS_RCODE_NOERROR:
        break;
    case LDNS_RCODE_NXDOMAIN:
        b = box_new(TT_DNS_NXDOMAIN);
        if (b != NULL) {
            b->a.ad = ldns_pkt_ad(p);
            b->a.ttl = negative_ttl(p);
        }
        return b;
    default:
        return box_new(TT_DNS_SERVFAIL);
    }
    b = box_new(TT_DNS_OK);
    if (b == NULL)
        return NULL;
    b->a.ad = ldns_pkt_ad(p);
    b->a.rdata = calloc(an != NULL ? ldns_rr_list_rr_count(an) + 1 : 1, sizeof(char *));
    if (b->a.rdata == NULL) {
        free(b);
        return NULL;
    }
    /* Our name's records, or those at the end of a CNAME chain: keep every one of our type. */
    for (i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);

        if (ldns_rr_get_type(rr) != type || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
            continue;
        b->a.rdata[n] = rdata_string(rr, type);
        if (b->a.rdata[n] == NULL) {
            b->a.n = n;
            box_free(b);
            return NULL;
        }
        n++;
        if (ldns_rr_ttl(rr) < ttl)
            ttl = ldns_rr_ttl(rr);
    }
    b->a.n = n;
    if (n == 0) {
        b->a.status = TT_DNS_NODATA;
        ttl = negative_ttl(p);
    }
    b->a.ttl = ttl;
    return b;
}

/* Ask the servers in turn, from the last that answered; counts packets in *sent. */
static struct box *resolve(struct tt_dns *d, const char *name, uint16_t type, unsigned long *sent)
{
    ldns_rdf *qname = NULL;
    ldns_pkt *q = NULL;
    uint8_t *wire = NULL;
    size_t wlen = 0;
    uint16_t id;
    struct box *res = NULL, *servfail = NULL;
    struct query query;
    bool timed_out = false;
    size_t first = atomic_load(&d->first_server) % d->conf.nservers;
    int attempt;

    /* Only host-name characters reach ldns: no escapes, blanks or UTF-8 it would interpret. */
    if (!tt_is_dns_name(name, false) || ldns_str2rdf_dname(&qname, name) != LDNS_STATUS_OK)
        return box_new(TT_DNS_ERROR);
    q = ldns_pkt_query_new(qname, (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD);
    if (q == NULL) {
        ldns_rdf_deep_free(qname);
        return box_new(TT_DNS_ERROR);
    }
    if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
        id = (uint16_t)(rand() ^ (int)getpid());
    ldns_pkt_set_id(q, id);
    ldns_pkt_set_edns_udp_size(q, EDNS_SIZE);
    ldns_pkt_set_edns_do(q, true);
    if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK) {
        ldns_pkt_free(q);
        return box_new(TT_DNS_ERROR);
    }
    query = (struct query){.wire = wire, .wlen = wlen, .id = id, .qname = qname, .type = type};
    for (attempt = 0; attempt <= d->conf.retries && res == NULL; attempt++) {
        size_t s = (first + (size_t)attempt) % d->conf.nservers;
        double deadline = now_mono() + d->conf.timeout_ms / 1000.0;
        bool refused = false;
        ldns_pkt *a;

        (*sent)++;
        a = udp_exchange(&d->conf.servers[s], d->conf.server_len[s], &query, deadline, &refused);
        if (a != NULL && ldns_pkt_tc(a)) {
            ldns_pkt_free(a);
            a = tcp_exchange(&d->conf.servers[s], d->conf.server_len[s], &query, deadline,
                             &refused);
        }
        if (a == NULL) {
            timed_out |= !refused;
            continue;
        }
        res = make_answer(a, type);
        ldns_pkt_free(a);
        /* A SERVFAIL may be the zone's fault: only a real answer moves the start. */
        if (res != NULL && res->a.status != TT_DNS_SERVFAIL && s != first)
            atomic_store(&d->first_server, (unsigned int)s);
        /* SERVFAIL from one of several servers: ask the next while attempts remain. */
        if (res != NULL && res->a.status == TT_DNS_SERVFAIL && d->conf.nservers > 1 &&
            attempt < d->conf.retries) {
            if (servfail != NULL)
                box_free(servfail);
            servfail = res;
            res = NULL;
        }
    }
    free(wire);
    ldns_pkt_free(q); /* frees qname too */
    /* "connection refused" only when no attempt timed out: a refusal is no slow server. */
    if (res == NULL)
        return servfail != NULL ? servfail
                                : box_new(timed_out ? TT_DNS_TIMEOUT : TT_DNS_CONNREFUSED);
    if (servfail != NULL)
        box_free(servfail);
    return res;
}

/* ---- cache ---- */

static uint32_t hash_name(const char *name, uint16_t type)
{
    uint32_t h = 2166136261u ^ type;

    for (; *name != '\0'; name++) {
        h ^= (unsigned char)*name;
        h *= 16777619u;
    }
    return h;
}

static void lru_unlink(struct tt_dns *d, struct centry *e)
{
    if (e->lru_prev != NULL)
        e->lru_prev->lru_next = e->lru_next;
    else
        d->lru_head = e->lru_next;
    if (e->lru_next != NULL)
        e->lru_next->lru_prev = e->lru_prev;
    else
        d->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push(struct tt_dns *d, struct centry *e)
{
    e->lru_next = d->lru_head;
    e->lru_prev = NULL;
    if (d->lru_head != NULL)
        d->lru_head->lru_prev = e;
    d->lru_head = e;
    if (d->lru_tail == NULL)
        d->lru_tail = e;
}

static void entry_remove(struct tt_dns *d, struct centry *e)
{
    struct centry **pp = &d->buckets[e->hash & (d->nbuckets - 1)];

    while (*pp != NULL && *pp != e)
        pp = &(*pp)->next;
    if (*pp == e)
        *pp = e->next;
    lru_unlink(d, e);
    if (e->answer != NULL)
        tt_dns_answer_put(&e->answer->a);
    free(e);
    d->count--;
}

/* Make room for one entry: drop the least recently used entries nobody waits on. */
static void evict(struct tt_dns *d)
{
    struct centry *e = d->lru_tail;

    while (d->count >= d->conf.cache_size && e != NULL) {
        struct centry *prev = e->lru_prev;

        if (!e->inflight && e->waiters == 0) {
            entry_remove(d, e);
            d->stats.evictions++;
        }
        e = prev;
    }
}

const struct tt_dns_answer *tt_dns_lookup(struct tt_dns *d, const char *name, uint16_t type,
                                          bool *hit)
{
    char key[NAME_MAX_LEN];
    struct centry *e;
    struct box *b;
    unsigned long sent = 0;
    uint32_t h;
    size_t i, n = strlen(name);

    if (hit != NULL)
        *hit = false;
    if (n == 0 || n >= sizeof(key) - 1) {
        b = box_new(TT_DNS_ERROR);
        return b != NULL ? &b->a : NULL;
    }
    for (i = 0; i <= n; i++)
        key[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
    if (n > 1 && key[n - 1] == '.')
        key[--n] = '\0';
    h = hash_name(key, type);

    pthread_mutex_lock(&d->lock);
    d->stats.lookups++;
    atomic_fetch_add_explicit(&totals.lookups, 1, memory_order_relaxed);
    for (e = d->buckets[h & (d->nbuckets - 1)]; e != NULL; e = e->next)
        if (e->hash == h && e->type == type && strcmp(e->name, key) == 0)
            break;
    if (e != NULL && e->inflight) {
        e->waiters++;
        d->stats.joined++;
        atomic_fetch_add_explicit(&totals.joined, 1, memory_order_relaxed);
        while (e->inflight)
            pthread_cond_wait(&d->done, &d->lock);
        e->waiters--;
        if (e->answer != NULL) {
            const struct tt_dns_answer *a = box_ref(e->answer);

            if (e->expires <= now_mono() && e->waiters == 0)
                entry_remove(d, e); /* not cacheable (TTL 0 or an error): shared once */
            pthread_mutex_unlock(&d->lock);
            if (hit != NULL)
                *hit = true;
            return a;
        }
        /* The resolving thread ran out of memory: the last waiter drops it, each goes itself. */
        if (e->waiters == 0)
            entry_remove(d, e);
        e = NULL;
    } else if (e != NULL && e->expires > now_mono()) {
        const struct tt_dns_answer *a = box_ref(e->answer);

        d->stats.hits++;
        atomic_fetch_add_explicit(&totals.hits, 1, memory_order_relaxed);
        lru_unlink(d, e);
        lru_push(d, e);
        pthread_mutex_unlock(&d->lock);
        if (hit != NULL)
            *hit = true;
        return a;
    } else if (e != NULL && e->waiters == 0) {
        entry_remove(d, e); /* expired */
        e = NULL;
    }
    if (e == NULL) {
        evict(d);
        /* Under memory pressure the query still runs, only uncached. */
        e = calloc(1, sizeof(*e));
        if (e != NULL) {
            memcpy(e->name, key, n + 1);
            e->type = type;
            e->hash = h;
            e->next = d->buckets[h & (d->nbuckets - 1)];
            d->buckets[h & (d->nbuckets - 1)] = e;
            lru_push(d, e);
            d->count++;
        }
    }
    if (e != NULL) {
        if (e->answer != NULL)
            tt_dns_answer_put(&e->answer->a);
        e->answer = NULL;
        e->inflight = true;
    }
    pthread_mutex_unlock(&d->lock);

    b = resolve(d, key, type, &sent);

    pthread_mutex_lock(&d->lock);
    d->stats.sent += sent;
    atomic_fetch_add_explicit(&totals.sent, sent, memory_order_relaxed);
    if (b == NULL || b->a.status >= TT_DNS_SERVFAIL) {
        d->stats.failures++;
        atomic_fetch_add_explicit(&totals.failures, 1, memory_order_relaxed);
    }
    if (e != NULL) {
        e->inflight = false;
        e->answer = b;
        if (b != NULL) {
            atomic_fetch_add(&b->refs, 1);
            /* Failures are shared with the waiters but not kept (expires now). */
            e->expires = now_mono() + (b->a.status <= TT_DNS_NXDOMAIN ? (double)b->a.ttl : 0.0);
        }
        pthread_cond_broadcast(&d->done);
        if (e->waiters == 0 && (b == NULL || e->expires <= now_mono()))
            entry_remove(d, e);
    }
    pthread_mutex_unlock(&d->lock);
    if (b == NULL) {
        b = box_new(TT_DNS_ERROR);
        if (b == NULL)
            return NULL;
    }
    return &b->a;
}
