/*
 * store.h - the mail-state database (StateDatabase): one SQLite file that
 * the filter writes its per-peer daily counts into (table observed) and
 * tlstrustctl survey its probes into (table probe); tlstrustctl report
 * reads both. The schema and its meaning are in doc/state-map.md.
 */
#ifndef TT_STORE_H
#define TT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peers.h"

/* PRAGMA user_version this code writes; a newer file is refused, an older one migrated. */
#define TT_STORE_VERSION 1
/* How long a writer waits for another one's lock, in milliseconds. */
#define TT_STORE_BUSY_MS 5000
/* Bounds on what a probe row keeps: the chain, and each text field. */
#define TT_STORE_CHAIN_MAX (64 * 1024)
#define TT_STORE_TEXT_MAX 2048

enum tt_probe_result { TT_PROBE_OK, TT_PROBE_FAIL, TT_PROBE_INCONCLUSIVE };

/* Tri-state for what a probe could not always learn. */
enum tt_tri { TT_TRI_UNKNOWN = -1, TT_TRI_NO = 0, TT_TRI_YES = 1 };

/* One survey of one MX (a row of table probe). Strings may be NULL (stored as NULL or ''). */
struct tt_probe {
    int64_t run;  /* the survey run's start (unix seconds): rows of one run share it */
    int64_t time; /* when this MX was probed */
    const char *domain, *mx, *address;
    int port;
    enum tt_probe_result result;
    const char *reason;
    const char *level; /* capability: none, encrypted, verified, trusted; "" unknown */
    enum tt_tri starttls;
    unsigned int versions; /* bit i: TLS 1.i accepted (0..3) */
    const char *subject, *issuer, *chain_pem;
    const char *network; /* the TrustedNetwork the chain verifies to, "" none */
    enum tt_tri system_verify, name_match;
    bool has_not_after;
    int64_t not_after;
    int64_t days_left;
    int tlsa_count;      /* TLSA records found, -1 lookup failed */
    enum tt_tri tlsa_ad; /* the answer had AD */
    enum tt_tri dane;    /* the chain matched a TLSA record */
    const char *mta_sts; /* the _mta-sts TXT record, NULL none */
};

/* One peer's counts summed over the days asked for (table observed). */
struct tt_obs_peer {
    const char *peer, *network; /* valid during the callback only */
    int64_t clients;
    int64_t n[4]; /* none, encrypted, verified, trusted */
    int64_t r[3]; /* pass, fail, none */
    int64_t a[4]; /* accept, monitor, defer, reject */
    int64_t v[4]; /* TLS 1.0, 1.1, 1.2, 1.3 */
    int64_t first_seen, last_seen;
    bool has_not_after;
    int64_t not_after; /* the latest expiry seen */
};

/* The messages of one day, by level. */
struct tt_obs_day {
    char day[11];
    int64_t n[4];
};

struct tt_store;

/*
 * Open (creating it when missing) the database at path: busy timeout, WAL,
 * the schema created or migrated. NULL with the reason in err.
 */
struct tt_store *tt_store_open(const char *path, char *err, size_t errsz);
void tt_store_close(struct tt_store *st);

bool tt_store_add_probe(struct tt_store *st, const struct tt_probe *p, char *err, size_t errsz);

/*
 * The filter's history writer: one transaction per write (begin, the rows,
 * commit, or rollback on any failure). A row's counts are added to what the
 * file holds for its day, peer and client (first and last seen merged).
 */
bool tt_store_begin(struct tt_store *st, char *err, size_t errsz);
bool tt_store_add_observed(struct tt_store *st, const struct tt_peer_row *r, char *err,
                           size_t errsz);
bool tt_store_commit(struct tt_store *st, char *err, size_t errsz);
void tt_store_rollback(struct tt_store *st);

/*
 * The report's reads, rows from since_day ("YYYY-MM-DD", inclusive) or, for
 * probes, since the unix time since: cb is called per row until it returns
 * false; at most limit rows (the busiest peers first, days in order, the
 * latest probe of each domain/MX/port). Strings live until cb returns.
 */
bool tt_store_each_peer(struct tt_store *st, const char *since_day, size_t limit,
                        bool (*cb)(void *ctx, const struct tt_obs_peer *p), void *ctx, char *err,
                        size_t errsz);
bool tt_store_each_day(struct tt_store *st, const char *since_day,
                       bool (*cb)(void *ctx, const struct tt_obs_day *d), void *ctx, char *err,
                       size_t errsz);
bool tt_store_each_probe(struct tt_store *st, int64_t since, size_t limit,
                         bool (*cb)(void *ctx, const struct tt_probe *p), void *ctx, char *err,
                         size_t errsz);

const char *tt_probe_result_name(enum tt_probe_result r);
/* "YYYY-MM-DD" of unix time t in UTC into out (at least 11 bytes). */
void tt_store_day(int64_t t, char *out, size_t outsz);

#endif
