/*
 * test_peers.c - the bounded per-peer table (peers.c): 100,000 distinct
 * peers into a table of 1,000; the table never holds more, its memory does
 * not grow (its own accounting, and glibc's count of allocated bytes), no
 * count goes to another peer, and the sum of all rows is what was recorded.
 * Also: days, identities too long to keep, a resize, and concurrent
 * recording while the writer drains.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peers.h"

#define DAY 86400
#define T0 ((time_t)1767225600) /* 2026-01-01 00:00 UTC */

struct collect {
    size_t rows, other_rows, named;
    uint64_t total, other_total;
    uint64_t level[TT_LEVELS], outcome[TT_OUTCOMES], version[4];
    int bad;                /* rows whose counts are not their peer's */
    const uint64_t *expect; /* by peer number; NULL: not checked */
};

static uint64_t row_total(const struct tt_peer_row *r)
{
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < TT_LEVELS; i++)
        n += r->level[i];
    return n;
}

static void collect_row(void *arg, const struct tt_peer_row *r)
{
    struct collect *c = arg;
    uint64_t n = row_total(r), rn = 0, on = 0;
    size_t i;

    c->rows++;
    c->total += n;
    for (i = 0; i < TT_LEVELS; i++)
        c->level[i] += r->level[i];
    for (i = 0; i < TT_OUTCOMES; i++) {
        c->outcome[i] += r->outcome[i];
        on += r->outcome[i];
    }
    for (i = 0; i < TT_RESULTS; i++)
        rn += r->result[i];
    for (i = 0; i < 4; i++)
        c->version[i] += r->version[i];
    /* Every dimension of a row counts the same decisions. */
    if (rn != n || on != n)
        c->bad++;
    if (strcmp(r->peer, TT_PEER_OTHER) == 0) {
        c->other_rows++;
        c->other_total += n;
        if (r->client[0] != '\0')
            c->bad++;
        return;
    }
    c->named++;
    if (c->expect != NULL) {
        unsigned long id = strtoul(r->peer + strlen("from:peer"), NULL, 10);

        if (n != c->expect[id])
            c->bad++;
    }
}

static void event(struct tt_peer_event *ev, char *peer, size_t peersz, char *client,
                  size_t clientsz, unsigned long i)
{
    snprintf(peer, peersz, "from:peer%lu.test", i);
    snprintf(client, clientsz, "198.51.%lu.%lu", (i / 256) % 256, i % 256);
    ev->peer = peer;
    ev->client = client;
    ev->network = i % 2 ? "redsegura" : "";
    ev->level = (enum tt_level)(i % TT_LEVELS);
    ev->result = (enum tt_result)(i % TT_RESULTS);
    ev->outcome = (enum tt_outcome)(i % TT_OUTCOMES);
    ev->tls_version = ev->level == TT_LEVEL_NONE ? 0 : 12 + (int)(i % 2);
    ev->when = T0 + (time_t)(i % 3600);
}

static void bound_100k(void **state)
{
    const unsigned long npeers = 100000;
    const size_t cap = 1000;
    struct tt_peers *p = tt_peers_new(cap);
    uint64_t *expect = calloc(npeers, sizeof(*expect)), recorded = 0;
    struct collect c = {.expect = expect};
    struct tt_peer_event ev;
    char peer[64], client[64];
    size_t before;
    unsigned long i;
    int round;

    (void)state;
    assert_non_null(p);
    assert_non_null(expect);
    assert_int_equal(tt_peers_bytes(p), tt_peers_bound(cap));
    print_message("bound: %zu bytes for PeerTableSize %zu (%zu bytes a row)\n", tt_peers_bound(cap),
                  cap, sizeof(struct tt_peer_row));
    before = mallinfo2().uordblks;
    /* Peer i is recorded (i % 3) + 1 times, in three rounds: the first 1,000 get rows. */
    for (round = 0; round < 3; round++)
        for (i = 0; i < npeers; i++) {
            if ((int)(i % 3) < round)
                continue;
            event(&ev, peer, sizeof(peer), client, sizeof(client), i);
            tt_peers_record(p, &ev);
            expect[i]++;
            recorded++;
            if (i % 1000 == 0)
                assert_true(tt_peers_count(p) <= cap);
        }
    /* Recording never allocates (under ASan glibc's count does not move either way). */
    assert_int_equal(mallinfo2().uordblks, before);
    assert_int_equal(tt_peers_count(p), cap);
    assert_int_equal(tt_peers_bytes(p), tt_peers_bound(cap));
    assert_int_equal(recorded, 199999);
    /* Peers 0..999 have rows: sum((i % 3) + 1) = 1999; the rest is "*other*". */
    assert_int_equal(tt_peers_overflow(p), recorded - 1999);

    assert_int_equal(tt_peers_drain(p, cap, collect_row, &c), cap + 1);
    assert_int_equal(c.named, cap);
    assert_int_equal(c.other_rows, 1);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.total, recorded);
    assert_int_equal(c.other_total, tt_peers_overflow(p));
    assert_int_equal(c.total - c.other_total, 1999);
    assert_int_equal(tt_peers_count(p), 0);

    /* Drained: the next interval starts empty and counts apart again. */
    memset(&c, 0, sizeof(c));
    event(&ev, peer, sizeof(peer), client, sizeof(client), 99999);
    tt_peers_record(p, &ev);
    tt_peers_drain(p, cap, collect_row, &c);
    assert_int_equal(c.named, 1);
    assert_int_equal(c.other_rows, 0);
    assert_int_equal(c.total, 1);
    tt_peers_free(p);
    free(expect);
}

static void fields_and_days(void **state)
{
    struct tt_peers *p = tt_peers_new(16);
    struct tt_peer_event ev = {.peer = "client:192.0.2.0/24",
                               .client = "192.0.2.7",
                               .network = "redsegura",
                               .level = TT_LEVEL_TRUSTED,
                               .result = TT_RESULT_PASS,
                               .outcome = TT_OUTCOME_ACCEPT,
                               .tls_version = 13,
                               .when = T0 + 100};
    struct collect c = {0};
    char longpeer[TT_PEER_MAX + 10];

    (void)state;
    assert_non_null(p);
    tt_peers_record(p, &ev);
    ev.when = T0 + 50; /* earlier: first_seen moves back */
    ev.network = "";   /* no network this time: the last one seen stays */
    tt_peers_record(p, &ev);
    ev.when = T0 + DAY + 5; /* the next day: a row of its own */
    tt_peers_record(p, &ev);
    /* Too long to keep whole, or spelled like the overflow bucket: "*other*". */
    memset(longpeer, 'a', sizeof(longpeer) - 1);
    longpeer[sizeof(longpeer) - 1] = '\0';
    ev.peer = longpeer;
    tt_peers_record(p, &ev);
    ev.peer = TT_PEER_OTHER;
    tt_peers_record(p, &ev);
    ev.peer = "";
    ev.client = "";
    ev.tls_version = 0; /* unknown version: not counted as one */
    tt_peers_record(p, &ev);
    assert_int_equal(tt_peers_count(p), 3);
    assert_int_equal(tt_peers_overflow(p), 2);
    tt_peers_drain(p, 16, collect_row, &c);
    assert_int_equal(c.total, 6);
    assert_int_equal(c.named, 3);
    assert_int_equal(c.other_rows, 1);
    assert_int_equal(c.other_total, 2);
    assert_int_equal(c.version[3], 5);
    assert_int_equal(c.bad, 0);
    tt_peers_free(p);
}

static struct tt_peer_row seen[8];
static size_t nseen;

static void keep_row(void *arg, const struct tt_peer_row *r)
{
    (void)arg;
    if (nseen < 8)
        seen[nseen++] = *r;
}

static void row_contents(void **state)
{
    struct tt_peers *p = tt_peers_new(16);
    struct tt_peer_event ev = {.peer = "zone:redsegura:example.org",
                               .client = "2001:db8::25",
                               .network = "redsegura",
                               .level = TT_LEVEL_VERIFIED,
                               .result = TT_RESULT_FAIL,
                               .outcome = TT_OUTCOME_DEFER,
                               .tls_version = 12,
                               .when = T0 + 100};

    (void)state;
    tt_peers_record(p, &ev);
    ev.when = T0 + 40;
    ev.network = "";
    ev.outcome = TT_OUTCOME_MONITOR;
    tt_peers_record(p, &ev);
    nseen = 0;
    tt_peers_drain(p, 16, keep_row, NULL);
    assert_int_equal(nseen, 1);
    assert_string_equal(seen[0].peer, "zone:redsegura:example.org");
    assert_string_equal(seen[0].client, "2001:db8::25");
    assert_string_equal(seen[0].network, "redsegura");
    assert_int_equal(seen[0].day, T0 / DAY);
    assert_int_equal(seen[0].level[TT_LEVEL_VERIFIED], 2);
    assert_int_equal(seen[0].result[TT_RESULT_FAIL], 2);
    assert_int_equal(seen[0].outcome[TT_OUTCOME_DEFER], 1);
    assert_int_equal(seen[0].outcome[TT_OUTCOME_MONITOR], 1);
    assert_int_equal(seen[0].version[2], 2);
    assert_int_equal(seen[0].first_seen, T0 + 40);
    assert_int_equal(seen[0].last_seen, T0 + 100);
    tt_peers_free(p);
}

static void resize(void **state)
{
    struct tt_peers *p = tt_peers_new(100);
    struct collect c = {0};

    (void)state;
    assert_null(tt_peers_new(15));
    assert_null(tt_peers_new(TT_MAX_PEER_TABLE + 1));
    /* The emptied table takes the new size at once, the other at the next drain. */
    tt_peers_drain(p, 200, collect_row, &c);
    assert_true(tt_peers_bytes(p) > tt_peers_bound(100));
    assert_true(tt_peers_bytes(p) < tt_peers_bound(200));
    tt_peers_drain(p, 200, collect_row, &c);
    assert_int_equal(tt_peers_bytes(p), tt_peers_bound(200));
    assert_int_equal(c.rows, 0);
    tt_peers_free(p);
}

/* Sessions record from several threads while the writer drains. */
struct worker {
    struct tt_peers *p;
    unsigned long first, n;
};

static void *record_many(void *arg)
{
    struct worker *w = arg;
    struct tt_peer_event ev;
    char peer[64], client[64];
    unsigned long i;

    for (i = w->first; i < w->first + w->n; i++) {
        event(&ev, peer, sizeof(peer), client, sizeof(client), i % 5000);
        tt_peers_record(w->p, &ev);
    }
    return NULL;
}

static void concurrent(void **state)
{
    struct tt_peers *p = tt_peers_new(1000);
    struct worker w[4];
    pthread_t tid[4];
    struct collect c = {0};
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        w[i] = (struct worker){.p = p, .first = i * 25000, .n = 25000};
        assert_int_equal(pthread_create(&tid[i], NULL, record_many, &w[i]), 0);
    }
    for (i = 0; i < 50; i++)
        tt_peers_drain(p, 1000, collect_row, &c);
    for (i = 0; i < 4; i++)
        pthread_join(tid[i], NULL);
    tt_peers_drain(p, 1000, collect_row, &c);
    tt_peers_drain(p, 1000, collect_row, &c);
    assert_int_equal(c.total, 100000);
    assert_int_equal(c.bad, 0);
    tt_peers_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bound_100k),   cmocka_unit_test(fields_and_days),
        cmocka_unit_test(row_contents), cmocka_unit_test(resize),
        cmocka_unit_test(concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
