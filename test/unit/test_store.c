/*
 * test_store.c - the StateDatabase: schema and version on a new file, WAL,
 * a newer file refused, a link refused, probes stored and read back (the
 * latest per MX, the chain cut at its bound), observed rows summed per
 * peer and per day, read with SQLite itself where the store has no reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "helpers.h"
#include "store.h"

static char path_buf[4][512];

static const char *db_path(int slot, const char *name)
{
    snprintf(path_buf[slot], sizeof(path_buf[slot]), "%s/%s", th_tmpdir(), name);
    unlink(path_buf[slot]);
    return path_buf[slot];
}

/* One integer or text result of sql, straight from SQLite. */
static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    long long v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void new_file_gets_schema_and_wal(void **state)
{
    const char *p = db_path(0, "new.db");
    struct tt_store *st;
    char err[256];

    (void)state;
    st = tt_store_open(p, err, sizeof(err));
    assert_non_null(st);
    tt_store_close(st);
    assert_int_equal(sql_int(p, "PRAGMA user_version"), TT_STORE_VERSION);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                "('observed', 'probe')"),
                     2);
    /* WAL is a property of the file: a fresh connection sees it. */
    {
        sqlite3 *db;
        sqlite3_stmt *s;

        assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    /* Opening again keeps what is there. */
    sql_exec(p, "INSERT INTO observed (day, peer, client, first_seen, last_seen) "
                "VALUES ('2026-01-01', 'p', 'c', 1, 2)");
    st = tt_store_open(p, err, sizeof(err));
    assert_non_null(st);
    tt_store_close(st);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM observed"), 1);
}

/* The filter may create observed first, without a version: the store adds the rest. */
static void observed_made_first_is_migrated(void **state)
{
    const char *p = db_path(0, "first.db");
    struct tt_store *st;
    char err[256];

    (void)state;
    /* observed as the filter makes it (the same DDL), and nothing else. */
    st = tt_store_open(p, err, sizeof(err));
    assert_non_null(st);
    tt_store_close(st);
    sql_exec(p, "DROP TABLE probe; PRAGMA user_version = 0");
    assert_int_equal(sql_int(p, "SELECT count(*) FROM sqlite_master WHERE name = 'probe'"), 0);
    st = tt_store_open(p, err, sizeof(err));
    assert_non_null(st);
    tt_store_close(st);
    assert_int_equal(sql_int(p, "PRAGMA user_version"), TT_STORE_VERSION);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM sqlite_master WHERE name = 'probe'"), 1);
}

static void newer_version_refused(void **state)
{
    const char *p = db_path(0, "newer.db");
    char err[256];

    (void)state;
    sql_exec(p, "PRAGMA user_version = 99");
    assert_null(tt_store_open(p, err, sizeof(err)));
    assert_non_null(strstr(err, "schema version 99 is newer"));
}

static void symlink_refused(void **state)
{
    const char *target = db_path(0, "target.db");
    const char *link = db_path(1, "link.db");
    char err[256];

    (void)state;
    sql_exec(target, "PRAGMA user_version = 0");
    assert_int_equal(symlink(target, link), 0);
    assert_null(tt_store_open(link, err, sizeof(err)));
}

struct probes_seen {
    size_t n;
    char mx[4][64];
    char reason[4][64];
    size_t chain_len[4];
    unsigned int versions[4];
    enum tt_tri dane[4];
    int tlsa[4];
};

static bool collect_probe(void *ctx, const struct tt_probe *p)
{
    struct probes_seen *s = ctx;

    snprintf(s->mx[s->n], sizeof(s->mx[0]), "%s:%d", p->mx, p->port);
    snprintf(s->reason[s->n], sizeof(s->reason[0]), "%s", p->reason);
    s->chain_len[s->n] = p->chain_pem != NULL ? strlen(p->chain_pem) : 0;
    s->versions[s->n] = p->versions;
    s->dane[s->n] = p->dane;
    s->tlsa[s->n] = p->tlsa_count;
    s->n++;
    return s->n < 4;
}

static void probes_latest_per_mx_and_bounded(void **state)
{
    const char *p = db_path(0, "probe.db");
    struct tt_store *st;
    struct probes_seen seen = {0};
    char err[256], *chain = malloc(TT_STORE_CHAIN_MAX + 100);
    struct tt_probe pr = {.run = 1000,
                          .time = 1000,
                          .domain = "a.test",
                          .mx = "mx.a.test",
                          .port = 25,
                          .result = TT_PROBE_INCONCLUSIVE,
                          .reason = "old",
                          .starttls = TT_TRI_UNKNOWN,
                          .system_verify = TT_TRI_UNKNOWN,
                          .name_match = TT_TRI_UNKNOWN,
                          .tlsa_count = -1,
                          .tlsa_ad = TT_TRI_UNKNOWN,
                          .dane = TT_TRI_UNKNOWN};

    (void)state;
    assert_non_null(chain);
    memset(chain, 'A', TT_STORE_CHAIN_MAX + 99);
    chain[TT_STORE_CHAIN_MAX + 99] = '\0';
    st = tt_store_open(p, err, sizeof(err));
    assert_non_null(st);
    assert_true(tt_store_add_probe(st, &pr, err, sizeof(err)));
    pr.time = 2000;
    pr.result = TT_PROBE_OK;
    pr.reason = "new";
    pr.versions = 0xc; /* 1.2 and 1.3 */
    pr.chain_pem = chain;
    pr.tlsa_count = 1;
    pr.dane = TT_TRI_YES;
    assert_true(tt_store_add_probe(st, &pr, err, sizeof(err)));
    pr.mx = "mx2.a.test";
    pr.time = 10;
    assert_true(tt_store_add_probe(st, &pr, err, sizeof(err)));
    /* since 500: the newest row of mx.a.test; mx2's only row is older than that. */
    assert_true(tt_store_each_probe(st, 500, 100, collect_probe, &seen, err, sizeof(err)));
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.mx[0], "mx.a.test:25");
    assert_string_equal(seen.reason[0], "new");
    assert_int_equal(seen.chain_len[0], TT_STORE_CHAIN_MAX);
    assert_int_equal(seen.versions[0], 0xc);
    assert_int_equal(seen.dane[0], TT_TRI_YES);
    assert_int_equal(seen.tlsa[0], 1);
    tt_store_close(st);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM probe"), 3);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM probe WHERE dane IS NULL"), 1);
    free(chain);
}

struct peers_seen {
    size_t n;
    char peer[4][64];
    int64_t total[4], clients[4], last[4], not_after[4];
    bool has_not_after[4];
    char network[4][32];
};

static bool collect_peer(void *ctx, const struct tt_obs_peer *p)
{
    struct peers_seen *s = ctx;

    snprintf(s->peer[s->n], sizeof(s->peer[0]), "%s", p->peer);
    s->total[s->n] = p->n[0] + p->n[1] + p->n[2] + p->n[3];
    s->clients[s->n] = p->clients;
    s->last[s->n] = p->last_seen;
    s->has_not_after[s->n] = p->has_not_after;
    s->not_after[s->n] = p->not_after;
    snprintf(s->network[s->n], sizeof(s->network[0]), "%s", p->network);
    s->n++;
    return s->n < 4;
}

static bool collect_day(void *ctx, const struct tt_obs_day *d)
{
    int64_t *n = ctx;

    n[0]++;
    n[1] += d->n[0] + d->n[1] + d->n[2] + d->n[3];
    return true;
}

static void peers_summed_busiest_first(void **state)
{
    const char *p = db_path(0, "peers.db");
    struct tt_store *st;
    struct peers_seen seen = {0};
    int64_t days[2] = {0, 0};
    char err[256];

    (void)state;
    st = tt_store_open(p, err, sizeof(err));
    assert_non_null(st);
    sql_exec(p, "INSERT INTO observed (day, peer, client, n_trusted, network, first_seen, "
                "last_seen, cert_not_after) VALUES "
                "('2026-03-01', 'from:a.test', '192.0.2.1', 2, 'old', 10, 20, 500),"
                "('2026-03-02', 'from:a.test', '192.0.2.2', 3, 'new', 30, 40, 900),"
                "('2026-03-02', 'from:a.test', '192.0.2.1', 1, 'mid', 25, 35, NULL),"
                "('2026-03-02', 'CN=b', '192.0.2.3', 1, '', 5, 6, NULL),"
                "('2026-02-01', 'from:gone.test', '192.0.2.9', 50, '', 1, 2, NULL)");
    assert_true(tt_store_each_peer(st, "2026-03-01", 100, collect_peer, &seen, err, sizeof(err)));
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.peer[0], "from:a.test");
    assert_int_equal(seen.total[0], 6);
    assert_int_equal(seen.clients[0], 2);
    assert_int_equal(seen.last[0], 40);
    assert_true(seen.has_not_after[0]);
    assert_int_equal(seen.not_after[0], 900);
    assert_string_equal(seen.network[0], "new");
    assert_string_equal(seen.peer[1], "CN=b");
    assert_false(seen.has_not_after[1]);
    /* limit 1: only the busiest. */
    memset(&seen, 0, sizeof(seen));
    assert_true(tt_store_each_peer(st, "2026-01-01", 1, collect_peer, &seen, err, sizeof(err)));
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.peer[0], "from:gone.test");
    assert_true(tt_store_each_day(st, "2026-03-01", collect_day, days, err, sizeof(err)));
    assert_int_equal(days[0], 2);
    assert_int_equal(days[1], 7);
    tt_store_close(st);
}

static void day_is_utc(void **state)
{
    char d[11];

    (void)state;
    tt_store_day(0, d, sizeof(d));
    assert_string_equal(d, "1970-01-01");
    /* The last second of 2026-11-29 in UTC, already the 30th where the local clock is UTC+14. */
    setenv("TZ", "Pacific/Kiritimati", 1);
    tzset();
    tt_store_day(1795996799, d, sizeof(d));
    assert_string_equal(d, "2026-11-29");
    tt_store_day(1795996800, d, sizeof(d));
    assert_string_equal(d, "2026-11-30");
    unsetenv("TZ");
    tzset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_file_gets_schema_and_wal),
        cmocka_unit_test(observed_made_first_is_migrated),
        cmocka_unit_test(newer_version_refused),
        cmocka_unit_test(symlink_refused),
        cmocka_unit_test(probes_latest_per_mx_and_bounded),
        cmocka_unit_test(peers_summed_busiest_first),
        cmocka_unit_test(day_is_utc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
