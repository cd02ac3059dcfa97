/*
 * dns.h - a small stub resolver over libldns for the policy lookups: UDP
 * with TCP fallback, EDNS0 with the DO bit, the AD bit taken from the
 * configured (local, validating) resolver, and one cache shared by every
 * session: TTLs, negative answers (RFC 2308), an LRU bound, and identical
 * concurrent queries joined into one request in flight.
 */
#ifndef TT_DNS_H
#define TT_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TT_DNS_MAX_SERVERS 8
#define TT_DNS_DEFAULT_TIMEOUT_MS 2000
#define TT_DNS_DEFAULT_RETRIES 1
#define TT_DNS_DEFAULT_CACHE 10000
/* Longest TTL kept, in seconds, whatever the answer says. */
#define TT_DNS_MAX_TTL 86400

/* Record types we ask for. */
#define TT_DNS_A 1
#define TT_DNS_MX 15
#define TT_DNS_TXT 16
#define TT_DNS_AAAA 28
#define TT_DNS_TLSA 52

struct tt_dns_conf {
    struct sockaddr_storage servers[TT_DNS_MAX_SERVERS];
    socklen_t server_len[TT_DNS_MAX_SERVERS];
    size_t nservers;       /* 0: the nameservers of /etc/resolv.conf */
    bool from_resolv_conf; /* servers read from /etc/resolv.conf (tt_dns_conf_complete) */
    int timeout_ms;        /* per attempt */
    int retries;           /* attempts after the first, rotating over the servers */
    size_t cache_size;
};

enum tt_dns_status {
    TT_DNS_OK = 0,      /* records of the type asked for */
    TT_DNS_NODATA,      /* the name exists, no record of that type */
    TT_DNS_NXDOMAIN,    /* the name does not exist */
    TT_DNS_SERVFAIL,    /* SERVFAIL, REFUSED or another error code */
    TT_DNS_TIMEOUT,     /* no usable answer within timeout * (retries + 1) */
    TT_DNS_CONNREFUSED, /* no answer, no timeout: refused (ICMP port unreachable, TCP RST) */
    TT_DNS_ERROR,       /* local failure (memory, sockets, a bad name) */
};

/*
 * One answer, immutable once published and shared by reference. rdata holds
 * one string per record: the joined character-strings of a TXT record, the
 * address of an A/AAAA record, the exchange of an MX record (no final dot),
 * the presentation form for other types.
 */
struct tt_dns_answer {
    enum tt_dns_status status;
    bool ad;      /* the resolver set AD: it validated the answer with DNSSEC */
    uint32_t ttl; /* as cached (positive: lowest record TTL; negative: RFC 2308) */
    size_t n;
    char **rdata;
};

struct tt_dns_stats {
    unsigned long lookups;   /* tt_dns_lookup calls */
    unsigned long sent;      /* query packets sent (each retry counts) */
    unsigned long hits;      /* answered from the cache, no packet */
    unsigned long joined;    /* waited for an identical query already in flight */
    unsigned long evictions; /* LRU evictions */
    unsigned long failures;  /* resolutions without a usable answer (status >= SERVFAIL) */
};

struct tt_dns;

/* Parse "ADDR" or "ADDR@PORT" (IPv4 or IPv6) into conf's next server slot. */
bool tt_dns_conf_add_server(struct tt_dns_conf *conf, const char *spec, char *err, size_t errsz);
/* Set conf's defaults (no servers, 2 s, 1 retry, 10000 entries). */
void tt_dns_conf_init(struct tt_dns_conf *conf);

/* Fill conf's servers from /etc/resolv.conf when it names none. */
bool tt_dns_conf_complete(struct tt_dns_conf *conf, char *err, size_t errsz);
/* Same servers, timeout, retries and cache size. */
bool tt_dns_conf_equal(const struct tt_dns_conf *a, const struct tt_dns_conf *b);

/*
 * A resolver with its cache; reads /etc/resolv.conf when conf names no
 * server. It is a long-lived service, not part of a configuration: a reload
 * that leaves the DNS settings as they were keeps it, and its cache.
 * Reference-counted: tt_dns_ref takes one more, tt_dns_free drops one.
 */
struct tt_dns *tt_dns_new(const struct tt_dns_conf *conf, char *err, size_t errsz);
struct tt_dns *tt_dns_ref(struct tt_dns *d);
void tt_dns_free(struct tt_dns *d);
/* The settings the resolver runs with (servers filled in). */
const struct tt_dns_conf *tt_dns_conf_of(const struct tt_dns *d);

/*
 * Look name up (type as above). Failures come back as an answer with
 * status TT_DNS_SERVFAIL, TT_DNS_TIMEOUT, TT_DNS_CONNREFUSED or TT_DNS_ERROR. The caller
 * releases it with tt_dns_answer_put; NULL only when out of memory. *hit (may be NULL) tells
 * whether the cache answered. Blocks at most timeout * (retries + 1).
 */
const struct tt_dns_answer *tt_dns_lookup(struct tt_dns *d, const char *name, uint16_t type,
                                          bool *hit);
void tt_dns_answer_put(const struct tt_dns_answer *a);

void tt_dns_get_stats(struct tt_dns *d, struct tt_dns_stats *out);
/*
 * The same summed over every resolver this process made (evictions left 0):
 * monotonic across reloads that replace the resolver, for the metrics.
 */
void tt_dns_totals(struct tt_dns_stats *out);
/* The longest a single lookup can block, in milliseconds. */
long tt_dns_bound_ms(const struct tt_dns_conf *conf);

/* The resolvers asked: DnsResolver lines, or /etc/resolv.conf's nameservers. */
size_t tt_dns_server_count(const struct tt_dns_conf *conf);
/*
 * Whether resolver i is on this host (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104),
 * the only place its AD bit can be trusted from; its address in addr.
 */
bool tt_dns_server_loopback(const struct tt_dns_conf *conf, size_t i, char *addr, size_t addrsz);

const char *tt_dns_status_name(enum tt_dns_status s);
const char *tt_dns_type_name(uint16_t type);

#endif
