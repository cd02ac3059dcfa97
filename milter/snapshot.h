/*
 * snapshot.h - the configuration in force, shared by all sessions and
 * replaced atomically on reload. A session holds a reference for the
 * transaction it is in, so a reload never changes the rules under it.
 */
#ifndef TT_SNAPSHOT_H
#define TT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct tt_snapshot;

/*
 * Install cfg as the configuration in force; the previous one is released.
 * The resolver in force goes on serving when cfg's DNS settings are the
 * same; otherwise a new one is made. false (cfg freed, the previous
 * configuration still in force, err says why) when that fails.
 */
bool tt_snapshot_install(struct tt_config *cfg, char *err, size_t errsz);
/* Take a reference to the configuration in force (never NULL after install). */
struct tt_snapshot *tt_snapshot_get(void);
void tt_snapshot_put(struct tt_snapshot *s);
const struct tt_config *tt_snapshot_config(const struct tt_snapshot *s);
/* The resolver of that configuration, NULL when it needs no DNS (a long-lived service). */
struct tt_dns *tt_snapshot_dns(const struct tt_snapshot *s);
/*
 * At shutdown: wait up to seconds until no session holds a reference.
 * false if some still do. The configuration in force stays installed (a
 * session libmilter accepted just before the stop may still take it).
 */
bool tt_snapshot_wait_unused(unsigned seconds);

/*
 * Hand the freeing of retired configurations to one thread: once notify
 * is set, a snapshot whose last reference goes away is queued and notify()
 * is called (it must be async-signal-safe and quick); that thread then calls
 * tt_snapshot_reap(). Without it, the last session frees it itself, which
 * for a large table takes milliseconds inside an SMTP session.
 */
void tt_snapshot_set_reaper(void (*notify)(void));
void tt_snapshot_reap(void);

#endif
