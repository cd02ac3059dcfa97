/*
 * history.c - see history.h. The writer swaps the peer tables and upserts
 * every row into `observed` in one transaction: counts add up, first_seen
 * keeps the earliest, last_seen the latest, so a restart keeps the history.
 */
#include "history.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "snapshot.h"
#include "store.h"

static struct tt_peers *peers;
static pthread_t writer;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stopping, started;
static atomic_uint_fast64_t writes_ok, writes_failed;

/* The writer's own: the open database and the path it was opened from. */
static struct tt_store *store;
static char *db_path;

struct batch {
    bool failed;
    size_t rows;
};

static void close_db(void)
{
    tt_store_close(store);
    store = NULL;
    free(db_path);
    db_path = NULL;
}

/* The store (lib/store.c) owns the schema, shared with tlstrustctl survey and report. */
static bool open_db(const char *path)
{
    char err[512];

    if (db_path != NULL && strcmp(db_path, path) == 0)
        return true;
    close_db();
    store = tt_store_open(path, err, sizeof(err));
    if (store == NULL) {
        tt_log(LOG_ERR, "%s; the history is not kept", err);
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

static void write_row(void *arg, const struct tt_peer_row *r)
{
    struct batch *b = arg;
    char err[512];

    b->rows++;
    if (b->failed || store == NULL)
        return;
    if (!tt_store_add_observed(store, r, err, sizeof(err))) {
        tt_log(LOG_ERR, "StateDatabase %s: %s", db_path, err);
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
    char err[512];

    tt_snapshot_put(snap);
    if (path == NULL) {
        close_db();
        tt_peers_drain(peers, capacity, write_row, &b); /* no history kept: dropped */
        return;
    }
    if (!open_db(path) || !tt_store_begin(store, err, sizeof(err))) {
        if (store != NULL)
            tt_log(LOG_ERR, "StateDatabase %s: %s", path, err);
        b.failed = true;
    }
    tt_peers_drain(peers, capacity, write_row, &b);
    if (!b.failed && !tt_store_commit(store, err, sizeof(err))) {
        tt_log(LOG_ERR, "StateDatabase %s: %s", path, err);
        b.failed = true;
    }
    if (b.failed) {
        if (store != NULL)
            tt_store_rollback(store);
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
