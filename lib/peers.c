/*
 * peers.c - see peers.h. Each table is an array of rows and an
 * open-addressing index of twice as many slots, allocated once: recording
 * is a hash, a probe and a few increments under one mutex, held for well
 * under a microsecond.
 */
#include "peers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* "*other*" rows: one per day. A table lives for a minute, so two days are enough. */
#define OTHER_DAYS 2

struct table {
    struct tt_peer_row *rows;
    size_t n, capacity;
    uint32_t *slots; /* row index + 1; 0: empty */
    size_t nslots;   /* a power of two, at least twice capacity */
    struct tt_peer_row other[OTHER_DAYS];
    size_t nother;
};

struct tt_peers {
    pthread_mutex_t lock;       /* the recording table: the pointer and its contents */
    pthread_mutex_t drain_lock; /* one drain at a time */
    struct table *live, *spare;
    atomic_uint_fast64_t overflow;
    atomic_size_t bytes;
};

static size_t slots_for(size_t capacity)
{
    size_t n = 16;

    while (n < 2 * capacity)
        n *= 2;
    return n;
}

static size_t table_bytes(size_t capacity)
{
    return sizeof(struct table) + capacity * sizeof(struct tt_peer_row) +
           slots_for(capacity) * sizeof(uint32_t);
}

size_t tt_peers_bound(size_t capacity)
{
    return sizeof(struct tt_peers) + 2 * table_bytes(capacity);
}

static void table_free(struct table *t)
{
    if (t == NULL)
        return;
    free(t->rows);
    free(t->slots);
    free(t);
}

static struct table *table_new(size_t capacity)
{
    struct table *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->capacity = capacity;
    t->nslots = slots_for(capacity);
    t->rows = calloc(capacity, sizeof(*t->rows));
    t->slots = calloc(t->nslots, sizeof(*t->slots));
    if (t->rows == NULL || t->slots == NULL) {
        table_free(t);
        return NULL;
    }
    return t;
}

static void table_clear(struct table *t)
{
    memset(t->slots, 0, t->nslots * sizeof(*t->slots));
    t->n = 0;
    t->nother = 0;
}

struct tt_peers *tt_peers_new(size_t capacity)
{
    struct tt_peers *p;

    if (capacity < TT_MIN_PEER_TABLE || capacity > TT_MAX_PEER_TABLE)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->live = table_new(capacity);
    p->spare = table_new(capacity);
    if (p->live == NULL || p->spare == NULL) {
        table_free(p->live);
        table_free(p->spare);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->drain_lock, NULL);
    atomic_init(&p->overflow, 0);
    atomic_init(&p->bytes, tt_peers_bound(capacity));
    return p;
}

void tt_peers_free(struct tt_peers *p)
{
    if (p == NULL)
        return;
    table_free(p->live);
    table_free(p->spare);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->drain_lock);
    free(p);
}

static uint32_t hash_key(int64_t day, const char *peer, const char *client)
{
    uint32_t h = 2166136261u ^ (uint32_t)day;
    const char *parts[2] = {peer, client};
    size_t i;

    for (i = 0; i < 2; i++) {
        const unsigned char *s = (const unsigned char *)parts[i];

        for (; *s != '\0'; s++) {
            h ^= *s;
            h *= 16777619u;
        }
        h ^= 0xff; /* between the two parts: "ab"+"c" is not "a"+"bc" */
        h *= 16777619u;
    }
    return h;
}

static void row_init(struct tt_peer_row *r, int64_t day, const char *peer, const char *client,
                     time_t when)
{
    memset(r, 0, sizeof(*r));
    r->day = day;
    strcpy(r->peer, peer);     /* lengths checked by the caller */
    strcpy(r->client, client); /* likewise */
    r->first_seen = r->last_seen = when;
}

/* The row of (day, peer, client), made if there is room; NULL when the table is full. */
static struct tt_peer_row *find_or_add(struct table *t, int64_t day, const char *peer,
                                       const char *client, time_t when)
{
    uint32_t h = hash_key(day, peer, client);
    size_t mask = t->nslots - 1, i = h & mask;

    for (;; i = (i + 1) & mask) {
        uint32_t s = t->slots[i];
        struct tt_peer_row *r;

        if (s == 0)
            break;
        r = &t->rows[s - 1];
        if (r->day == day && strcmp(r->peer, peer) == 0 && strcmp(r->client, client) == 0)
            return r;
    }
    /* Never fuller than half: the probe above always meets an empty slot. */
    if (t->n == t->capacity)
        return NULL;
    row_init(&t->rows[t->n], day, peer, client, when);
    t->slots[i] = (uint32_t)(++t->n);
    return &t->rows[t->n - 1];
}

static struct tt_peer_row *other_row(struct table *t, int64_t day, time_t when)
{
    size_t i;

    for (i = 0; i < t->nother; i++)
        if (t->other[i].day == day)
            return &t->other[i];
    if (t->nother < OTHER_DAYS) {
        row_init(&t->other[t->nother], day, TT_PEER_OTHER, "", when);
        return &t->other[t->nother++];
    }
    /* A third day within one interval (the clock jumped): the latest "*other*" row. */
    return &t->other[OTHER_DAYS - 1];
}

static void count(struct tt_peer_row *r, const struct tt_peer_event *ev)
{
    if ((unsigned)ev->level < TT_LEVELS)
        r->level[ev->level]++;
    if ((unsigned)ev->result < TT_RESULTS)
        r->result[ev->result]++;
    if ((unsigned)ev->outcome < TT_OUTCOMES)
        r->outcome[ev->outcome]++;
    if (ev->tls_version >= 10 && ev->tls_version <= 13)
        r->version[ev->tls_version - 10]++;
    if (ev->network != NULL && ev->network[0] != '\0' && strlen(ev->network) < sizeof(r->network))
        strcpy(r->network, ev->network);
    if (ev->when < r->first_seen)
        r->first_seen = ev->when;
    if (ev->when > r->last_seen)
        r->last_seen = ev->when;
}

void tt_peers_record(struct tt_peers *p, const struct tt_peer_event *ev)
{
    const char *peer = ev->peer != NULL ? ev->peer : "";
    const char *client = ev->client != NULL ? ev->client : "";
    /* An identity too long to keep whole is counted as "*other*", never cut into another's. */
    bool fits = strlen(peer) < TT_PEER_MAX && strlen(client) < TT_PEER_CLIENT_MAX &&
                strcmp(peer, TT_PEER_OTHER) != 0;
    int64_t day = (int64_t)(ev->when >= 0 ? ev->when / 86400 : (ev->when - 86399) / 86400);
    struct tt_peer_row *r;

    pthread_mutex_lock(&p->lock);
    r = fits ? find_or_add(p->live, day, peer, client, ev->when) : NULL;
    if (r == NULL) {
        r = other_row(p->live, day, ev->when);
        atomic_fetch_add_explicit(&p->overflow, 1, memory_order_relaxed);
    }
    count(r, ev);
    pthread_mutex_unlock(&p->lock);
}

size_t tt_peers_drain(struct tt_peers *p, size_t new_capacity,
                      void (*fn)(void *arg, const struct tt_peer_row *row), void *arg)
{
    struct table *t, *fresh;
    size_t i, handed;

    pthread_mutex_lock(&p->drain_lock);
    pthread_mutex_lock(&p->lock);
    t = p->live;
    p->live = p->spare;
    p->spare = t;
    pthread_mutex_unlock(&p->lock);
    /* No session sees t any more: it is ours until the next drain. */
    for (i = 0; i < t->n; i++)
        fn(arg, &t->rows[i]);
    for (i = 0; i < t->nother; i++)
        fn(arg, &t->other[i]);
    handed = t->n + t->nother;
    table_clear(t);
    if (new_capacity >= TT_MIN_PEER_TABLE && new_capacity <= TT_MAX_PEER_TABLE &&
        new_capacity != t->capacity && (fresh = table_new(new_capacity)) != NULL) {
        atomic_fetch_add(&p->bytes, table_bytes(new_capacity));
        atomic_fetch_sub(&p->bytes, table_bytes(t->capacity));
        table_free(t);
        p->spare = fresh;
    }
    pthread_mutex_unlock(&p->drain_lock);
    return handed;
}

size_t tt_peers_count(struct tt_peers *p)
{
    size_t n;

    pthread_mutex_lock(&p->lock);
    n = p->live->n;
    pthread_mutex_unlock(&p->lock);
    return n;
}

uint64_t tt_peers_overflow(struct tt_peers *p)
{
    return atomic_load_explicit(&p->overflow, memory_order_relaxed);
}

size_t tt_peers_bytes(struct tt_peers *p)
{
    return atomic_load(&p->bytes);
}
