/*
 * history.c - see history.h. The writer swaps the peer tables and upserts
 * every row into `observed` in one transaction: counts add up, first_seen
 * keeps the earliest, last_seen the latest, so a restart keeps the history.
 */
#include "history.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "snapshot.h"

/* The schema shared with tlstrustctl's survey and report (issue 12); keep it verbatim. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS observed (\n"
    "  day TEXT NOT NULL,            -- UTC date, YYYY-MM-DD\n"
    "  peer TEXT NOT NULL,           -- the member: rule (\"from:example.org\"), zone record "
    "domain, or certificate subject; \"\" unknown; \"*other*\" = overflow bucket\n"
    "  client TEXT NOT NULL,         -- client IP address as text; \"\" in the overflow bucket\n"
    "  n_none INTEGER NOT NULL DEFAULT 0, n_encrypted INTEGER NOT NULL DEFAULT 0,\n"
    "  n_verified INTEGER NOT NULL DEFAULT 0, n_trusted INTEGER NOT NULL DEFAULT 0,\n"
    "  r_pass INTEGER NOT NULL DEFAULT 0, r_fail INTEGER NOT NULL DEFAULT 0, r_none INTEGER NOT "
    "NULL DEFAULT 0,\n"
    "  a_accept INTEGER NOT NULL DEFAULT 0, a_monitor INTEGER NOT NULL DEFAULT 0,\n"
    "  a_defer INTEGER NOT NULL DEFAULT 0, a_reject INTEGER NOT NULL DEFAULT 0,\n"
    "  v_tls10 INTEGER NOT NULL DEFAULT 0, v_tls11 INTEGER NOT NULL DEFAULT 0,\n"
    "  v_tls12 INTEGER NOT NULL DEFAULT 0, v_tls13 INTEGER NOT NULL DEFAULT 0,\n"
    "  network TEXT NOT NULL DEFAULT '',  -- trusted network last seen for this peer\n"
    "  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,  -- unix seconds\n"
    "  cert_not_after INTEGER,       -- unix seconds, NULL when unknown (MTA macros carry no "
    "expiry)\n"
    "  PRIMARY KEY (day, peer, client)\n"
    ");";

/* cert_not_after is never written: neither MTA passes the expiry in a macro (mta-facts.md). */
static const char upsert[] =
    "INSERT INTO observed (day, peer, client, n_none, n_encrypted, n_verified, n_trusted, "
    "r_pass, r_fail, r_none, a_accept, a_monitor, a_defer, a_reject, v_tls10, v_tls11, v_tls12, "
    "v_tls13, network, first_seen, last_seen) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21) "
    "ON CONFLICT (day, peer, client) DO UPDATE SET "
    "n_none = n_none + excluded.n_none, n_encrypted = n_encrypted + excluded.n_encrypted, "
    "n_verified = n_verified + excluded.n_verified, n_trusted = n_trusted + excluded.n_trusted, "
    "r_pass = r_pass + excluded.r_pass, r_fail = r_fail + excluded.r_fail, "
    "r_none = r_none + excluded.r_none, a_accept = a_accept + excluded.a_accept, "
    "a_monitor = a_monitor + excluded.a_monitor, a_defer = a_defer + excluded.a_defer, "
    "a_reject = a_reject + excluded.a_reject, v_tls10 = v_tls10 + excluded.v_tls10, "
    "v_tls11 = v_tls11 + excluded.v_tls11, v_tls12 = v_tls12 + excluded.v_tls12, "
    "v_tls13 = v_tls13 + excluded.v_tls13, "
    "network = CASE WHEN excluded.network <> '' THEN excluded.network ELSE network END, "
    "first_seen = min(first_seen, excluded.first_seen), "
    "last_seen = max(last_seen, excluded.last_seen)";

static struct tt_peers *peers;
static pthread_t writer;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stopping, started;
static atomic_uint_fast64_t writes_ok, writes_failed;

/* The writer's own: the open database and the path it was opened from. */
static sqlite3 *db;
static char *db_path;
static sqlite3_stmt *stmt;

struct batch {
    bool failed;
    size_t rows;
};

static void close_db(void)
{
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (db != NULL)
        sqlite3_close(db);
    db = NULL;
    free(db_path);
    db_path = NULL;
}

static bool open_db(const char *path)
{
    char *msg = NULL;

    if (db_path != NULL && strcmp(db_path, path) == 0)
        return true;
    close_db();
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        tt_log(LOG_ERR, "StateDatabase %s: %s; the history is not kept", path,
               db != NULL ? sqlite3_errmsg(db) : "out of memory");
        close_db();
        return false;
    }
    sqlite3_busy_timeout(db, 5000);
    /* WAL: the report can read while we write. A file system without it keeps the default. */
    sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_prepare_v2(db, upsert, -1, &stmt, NULL) != SQLITE_OK) {
        tt_log(LOG_ERR, "StateDatabase %s: %s; the history is not kept", path,
               msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        close_db();
        return false;
    }
    db_path = strdup(path);
    if (db_path == NULL) {
        close_db();
        return false;
    }
    tt_log(LOG_INFO, "StateDatabase %s: open", path);
    return true;
}

static void day_text(int64_t day, char *buf, size_t bufsz)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, bufsz, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, bufsz, "1970-01-01");
}

static void write_row(void *arg, const struct tt_peer_row *r)
{
    struct batch *b = arg;
    const uint64_t *counts[] = {&r->level[TT_LEVEL_NONE],
                                &r->level[TT_LEVEL_ENCRYPTED],
                                &r->level[TT_LEVEL_VERIFIED],
                                &r->level[TT_LEVEL_TRUSTED],
                                &r->result[TT_RESULT_PASS],
                                &r->result[TT_RESULT_FAIL],
                                &r->result[TT_RESULT_NONE],
                                &r->outcome[TT_OUTCOME_ACCEPT],
                                &r->outcome[TT_OUTCOME_MONITOR],
                                &r->outcome[TT_OUTCOME_DEFER],
                                &r->outcome[TT_OUTCOME_REJECT],
                                &r->version[0],
                                &r->version[1],
                                &r->version[2],
                                &r->version[3]};
    char day[16];
    size_t i;

    b->rows++;
    if (b->failed || stmt == NULL)
        return;
    day_text(r->day, day, sizeof(day));
    sqlite3_reset(stmt);
    sqlite3_bind_text(stmt, 1, day, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, r->peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, r->client, -1, SQLITE_STATIC);
    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        sqlite3_bind_int64(stmt, (int)i + 4, (sqlite3_int64)*counts[i]);
    sqlite3_bind_text(stmt, 19, r->network, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 20, (sqlite3_int64)r->first_seen);
    sqlite3_bind_int64(stmt, 21, (sqlite3_int64)r->last_seen);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        tt_log(LOG_ERR, "StateDatabase %s: %s", db_path, sqlite3_errmsg(db));
        b->failed = true;
    }
}

/* Write what was counted since the last write: one transaction, or nothing. */
static void flush(void)
{
    struct tt_snapshot *snap = tt_snapshot_get();
    const struct tt_config *cfg = tt_snapshot_config(snap);
    size_t capacity = cfg->peer_table_size;
    char *path = cfg->state_db != NULL ? strdup(cfg->state_db) : NULL;
    struct batch b = {0};

    tt_snapshot_put(snap);
    if (path == NULL) {
        close_db();
        tt_peers_drain(peers, capacity, write_row, &b); /* no history kept: dropped */
        return;
    }
    if (!open_db(path) || sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        if (db != NULL)
            tt_log(LOG_ERR, "StateDatabase %s: %s", path, sqlite3_errmsg(db));
        b.failed = true;
    }
    tt_peers_drain(peers, capacity, write_row, &b);
    if (!b.failed && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        tt_log(LOG_ERR, "StateDatabase %s: %s", path, sqlite3_errmsg(db));
        b.failed = true;
    }
    if (b.failed) {
        if (db != NULL)
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        if (b.rows > 0)
            tt_log(LOG_ERR, "StateDatabase %s: %zu peer row(s) of counts lost", path, b.rows);
        atomic_fetch_add(&writes_failed, 1);
        /* Reopen next time: the file may have been replaced or repaired. */
        close_db();
    } else {
        atomic_fetch_add(&writes_ok, 1);
        tt_log(LOG_DEBUG, "StateDatabase %s: %zu peer row(s) written", path, b.rows);
    }
    free(path);
}

static void *writer_main(void *arg)
{
    bool last = false;

    (void)arg;
    while (!last) {
        struct timespec deadline;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += TT_HISTORY_INTERVAL;
        pthread_mutex_lock(&wake_lock);
        while (!stopping && pthread_cond_timedwait(&wake, &wake_lock, &deadline) != ETIMEDOUT) {
        }
        last = stopping;
        pthread_mutex_unlock(&wake_lock);
        flush();
    }
    close_db();
    return NULL;
}

bool tt_history_start(size_t capacity, char *err, size_t errsz)
{
    peers = tt_peers_new(capacity);
    if (peers == NULL) {
        snprintf(err, errsz, "cannot allocate the peer table (%zu peers)", capacity);
        return false;
    }
    if (pthread_create(&writer, NULL, writer_main, NULL) != 0) {
        snprintf(err, errsz, "cannot start the history writer");
        tt_peers_free(peers);
        peers = NULL;
        return false;
    }
    started = true;
    return true;
}

void tt_history_record(const struct tt_peer_event *ev)
{
    if (peers != NULL)
        tt_peers_record(peers, ev);
}

void tt_history_stop(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&wake_lock);
    stopping = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&wake_lock);
    pthread_join(writer, NULL);
    started = false;
    /* The peer table stays: a session still open after the grace may count into it. */
}

void tt_history_stats(struct tt_history_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->running = started;
    if (peers != NULL) {
        out->peers = tt_peers_count(peers);
        out->bytes = tt_peers_bytes(peers);
        out->overflow = tt_peers_overflow(peers);
    }
    out->writes_ok = atomic_load(&writes_ok);
    out->writes_failed = atomic_load(&writes_failed);
}
