/*
 * peers.h - what each sending peer was seen to do, counted in memory
 * between two writes of the history (milter/history.c). A peer is the
 * member identity (the deciding from:/client: rule or policy-zone record,
 * else the verified certificate's subject, else "") with the client
 * address, per UTC day.
 *
 * Memory is fixed when the table is made: at most `capacity` peers each
 * interval, and every decision for a peer beyond them goes to the
 * "*other*" bucket of its day, so no count is ever given to another peer
 * and the sum of all rows is the number of decisions recorded. Two tables
 * exist: one records while the other is handed to the writer
 * (tt_peers_drain), so the writer never holds up a session.
 */
#ifndef TT_PEERS_H
#define TT_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "counters.h"
#include "types.h"

/* Longest identity kept, NUL included: a policy-zone rule's key ("zone:NETWORK:domain"). */
#define TT_PEER_MAX 344
#define TT_PEER_CLIENT_MAX 46 /* INET6_ADDRSTRLEN */
#define TT_PEER_NETWORK_MAX 64
#define TT_PEER_OTHER "*other*"
/* PeerTableSize: 16 to 100,000 peers; about 1.2 KiB a peer (tt_peers_bound). */
#define TT_MIN_PEER_TABLE 16
#define TT_MAX_PEER_TABLE 100000

struct tt_peer_event {
    const char *peer;    /* "" when unknown */
    const char *client;  /* the client's address as text, "" when unknown */
    const char *network; /* the trusted network of the session, "" when none */
    enum tt_level level;
    enum tt_result result;
    enum tt_outcome outcome;
    int tls_version; /* 10..13 (tt_tls_version_number); anything else is not counted */
    time_t when;
};

/* One peer's counts on one day. */
struct tt_peer_row {
    int64_t day; /* days since 1970-01-01 UTC */
    char peer[TT_PEER_MAX];
    char client[TT_PEER_CLIENT_MAX];
    char network[TT_PEER_NETWORK_MAX]; /* the last one seen */
    uint64_t level[TT_LEVELS];
    uint64_t result[TT_RESULTS];
    uint64_t outcome[TT_OUTCOMES];
    uint64_t version[4]; /* TLS 1.0, 1.1, 1.2, 1.3 */
    time_t first_seen, last_seen;
};

struct tt_peers;

/* Two tables of capacity peers each (TT_MIN_PEER_TABLE to _MAX); NULL when out of memory. */
struct tt_peers *tt_peers_new(size_t capacity);
void tt_peers_free(struct tt_peers *p);

/* Count one decision. Thread-safe; never allocates. */
void tt_peers_record(struct tt_peers *p, const struct tt_peer_event *ev);

/*
 * Swap the tables and hand each row counted so far to fn (the "*other*"
 * rows among them), then clear them. Recording goes on meanwhile. The
 * emptied table is remade with new_capacity when that differs (a reload
 * changed PeerTableSize) and memory allows. Returns the rows handed.
 */
size_t tt_peers_drain(struct tt_peers *p, size_t new_capacity,
                      void (*fn)(void *arg, const struct tt_peer_row *row), void *arg);

/* Peers in the recording table now (at most its capacity, "*other*" not included). */
size_t tt_peers_count(struct tt_peers *p);
/* Decisions that went to "*other*" since the start. */
uint64_t tt_peers_overflow(struct tt_peers *p);
/* Bytes allocated now, and the bytes two tables of capacity take: the memory bound. */
size_t tt_peers_bytes(struct tt_peers *p);
size_t tt_peers_bound(size_t capacity);

#endif
