/*
 * snapshot.c - reference-counted configuration snapshots. The mutex only
 * guards the pointer swap and the count; lookups run without any lock on
 * the immutable snapshot a session holds.
 */
#include "snapshot.h"

#include <pthread.h>
#include <stdlib.h>

struct tt_snapshot {
    struct tt_config *cfg;
    unsigned long refs;
};

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_snapshot *current;

static void release_locked(struct tt_snapshot *s, struct tt_config **to_free,
                           struct tt_snapshot **snap_free)
{
    if (s != NULL && --s->refs == 0) {
        *to_free = s->cfg;
        *snap_free = s;
    }
}

static void free_outside(struct tt_config *cfg, struct tt_snapshot *s)
{
    tt_config_free(cfg);
    free(s);
}

void tt_snapshot_install(struct tt_config *cfg)
{
    struct tt_snapshot *s = malloc(sizeof(*s)), *old_s = NULL;
    struct tt_config *old_cfg = NULL;

    if (s == NULL) {
        /* Keep what is in force rather than run without a policy. */
        tt_config_free(cfg);
        return;
    }
    s->cfg = cfg;
    s->refs = 1;
    pthread_mutex_lock(&snap_lock);
    release_locked(current, &old_cfg, &old_s);
    current = s;
    pthread_mutex_unlock(&snap_lock);
    free_outside(old_cfg, old_s);
}

struct tt_snapshot *tt_snapshot_get(void)
{
    struct tt_snapshot *s;

    pthread_mutex_lock(&snap_lock);
    s = current;
    if (s != NULL)
        s->refs++;
    pthread_mutex_unlock(&snap_lock);
    return s;
}

void tt_snapshot_put(struct tt_snapshot *s)
{
    struct tt_snapshot *old_s = NULL;
    struct tt_config *old_cfg = NULL;

    if (s == NULL)
        return;
    pthread_mutex_lock(&snap_lock);
    release_locked(s, &old_cfg, &old_s);
    pthread_mutex_unlock(&snap_lock);
    free_outside(old_cfg, old_s);
}

const struct tt_config *tt_snapshot_config(const struct tt_snapshot *s)
{
    return s->cfg;
}

void tt_snapshot_clear(void)
{
    struct tt_snapshot *old_s = NULL;
    struct tt_config *old_cfg = NULL;

    pthread_mutex_lock(&snap_lock);
    release_locked(current, &old_cfg, &old_s);
    current = NULL;
    pthread_mutex_unlock(&snap_lock);
    free_outside(old_cfg, old_s);
}
