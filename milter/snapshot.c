/*
 * snapshot.c - reference-counted configuration snapshots. The mutex only
 * guards the pointer swap, the counts and the retired list; lookups run
 * without any lock on the immutable snapshot a session holds. Retired
 * snapshots are freed by the main thread (tt_snapshot_reap), not by the
 * session that happened to drop the last reference.
 *
 * A snapshot pairs the configuration with the long-lived services it
 * uses, which are not part of it: the DNS resolver and its cache. A reload
 * that leaves the DNS settings as they were hands the same resolver (one
 * more reference) to the new snapshot, so its cache survives.
 */
#include "snapshot.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

struct tt_snapshot {
    struct tt_config *cfg;
    struct tt_dns *dns; /* NULL when the configuration needs no DNS */
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
static void snapshot_free(struct tt_config *cfg, struct tt_snapshot *s)
{
    if (s != NULL)
        tt_dns_free(s->dns);
    tt_config_free(cfg);
    free(s);
}

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
    snapshot_free(cfg, s);
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
        snapshot_free(list->cfg, list);
    }
}

/* The resolver in force when its settings are cfg's, else a new one. */
static struct tt_dns *resolver_for(const struct tt_config *cfg, bool *kept, char *err, size_t errsz)
{
    struct tt_dns *dns = NULL;

    *kept = false;
    if (!cfg->dns_needed)
        return NULL;
    pthread_mutex_lock(&snap_lock);
    if (current != NULL && current->dns != NULL &&
        tt_dns_conf_equal(tt_dns_conf_of(current->dns), &cfg->dns_effective))
        dns = tt_dns_ref(current->dns);
    pthread_mutex_unlock(&snap_lock);
    *kept = dns != NULL;
    return dns != NULL ? dns : tt_dns_new(&cfg->dns_effective, err, errsz);
}

bool tt_snapshot_install(struct tt_config *cfg, char *err, size_t errsz)
{
    struct tt_snapshot *s = malloc(sizeof(*s)), *old_s = NULL;
    struct tt_config *old_cfg = NULL;
    bool notify = false, kept;

    if (s == NULL) {
        /* Keep what is in force rather than run without a policy. */
        snprintf(err, errsz, "out of memory");
        tt_config_free(cfg);
        return false;
    }
    s->dns = resolver_for(cfg, &kept, err, errsz);
    if (cfg->dns_needed && s->dns == NULL) {
        snapshot_free(cfg, s);
        return false;
    }
    if (kept)
        tt_log(LOG_DEBUG, "DNS settings unchanged: the resolver and its cache are kept");
    s->cfg = cfg;
    s->refs = 1;
    s->next_retired = NULL;
    pthread_mutex_lock(&snap_lock);
    release_locked(current, &old_cfg, &old_s, &notify);
    current = s;
    pthread_mutex_unlock(&snap_lock);
    free_outside(old_cfg, old_s, notify);
    return true;
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

struct tt_dns *tt_snapshot_dns(const struct tt_snapshot *s)
{
    return s->dns;
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
