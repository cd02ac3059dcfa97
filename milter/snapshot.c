/*
 * snapshot.c - reference-counted configuration snapshots. The mutex only
 * guards the pointer swap, the counts and the retired list; lookups run
 * without any lock on the immutable snapshot a session holds. Retired
 * snapshots are freed by the main thread (tt_snapshot_reap), not by the
 * session that happened to drop the last reference.
 */
#include "snapshot.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct tt_snapshot {
    struct tt_config *cfg;
    unsigned long refs;
    struct tt_snapshot *next_retired;
};

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
/* Signalled when the last reference a session holds is put. */
static pthread_cond_t unused_cond = PTHREAD_COND_INITIALIZER;
static unsigned long held; /* references taken with tt_snapshot_get and not yet put */
static struct tt_snapshot *current;
static struct tt_snapshot *retired; /* waiting for tt_snapshot_reap() */
static void (*reaper_notify)(void);

/* Drop a reference; the last one either queues the snapshot for the reaper or frees it. */
static void release_locked(struct tt_snapshot *s, struct tt_config **to_free,
                           struct tt_snapshot **snap_free, bool *notify)
{
    if (s == NULL || --s->refs != 0)
        return;
    if (reaper_notify != NULL) {
        s->next_retired = retired;
        retired = s;
        *notify = true;
        return;
    }
    *to_free = s->cfg;
    *snap_free = s;
}

static void free_outside(struct tt_config *cfg, struct tt_snapshot *s, bool notify)
{
    tt_config_free(cfg);
    free(s);
    if (notify && reaper_notify != NULL)
        reaper_notify();
}

void tt_snapshot_set_reaper(void (*notify)(void))
{
    pthread_mutex_lock(&snap_lock);
    reaper_notify = notify;
    pthread_mutex_unlock(&snap_lock);
}

void tt_snapshot_reap(void)
{
    struct tt_snapshot *list, *next;

    pthread_mutex_lock(&snap_lock);
    list = retired;
    retired = NULL;
    pthread_mutex_unlock(&snap_lock);
    for (; list != NULL; list = next) {
        next = list->next_retired;
        tt_config_free(list->cfg);
        free(list);
    }
}

void tt_snapshot_install(struct tt_config *cfg)
{
    struct tt_snapshot *s = malloc(sizeof(*s)), *old_s = NULL;
    struct tt_config *old_cfg = NULL;
    bool notify = false;

    if (s == NULL) {
        /* Keep what is in force rather than run without a policy. */
        tt_config_free(cfg);
        return;
    }
    s->cfg = cfg;
    s->refs = 1;
    s->next_retired = NULL;
    pthread_mutex_lock(&snap_lock);
    release_locked(current, &old_cfg, &old_s, &notify);
    current = s;
    pthread_mutex_unlock(&snap_lock);
    free_outside(old_cfg, old_s, notify);
}

struct tt_snapshot *tt_snapshot_get(void)
{
    struct tt_snapshot *s;

    pthread_mutex_lock(&snap_lock);
    s = current;
    if (s != NULL) {
        s->refs++;
        held++;
    }
    pthread_mutex_unlock(&snap_lock);
    return s;
}

void tt_snapshot_put(struct tt_snapshot *s)
{
    struct tt_snapshot *old_s = NULL;
    struct tt_config *old_cfg = NULL;
    bool notify = false;

    if (s == NULL)
        return;
    pthread_mutex_lock(&snap_lock);
    release_locked(s, &old_cfg, &old_s, &notify);
    if (--held == 0)
        pthread_cond_broadcast(&unused_cond);
    pthread_mutex_unlock(&snap_lock);
    free_outside(old_cfg, old_s, notify);
}

const struct tt_config *tt_snapshot_config(const struct tt_snapshot *s)
{
    return s->cfg;
}

bool tt_snapshot_wait_unused(unsigned seconds)
{
    struct timespec deadline;
    bool unused;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&snap_lock);
    while (held > 0 && pthread_cond_timedwait(&unused_cond, &snap_lock, &deadline) == 0) {
    }
    unused = held == 0;
    pthread_mutex_unlock(&snap_lock);
    return unused;
}
