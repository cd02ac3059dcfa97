/*
 * snapshot.h - the configuration in force, shared by all sessions and
 * replaced atomically on reload. A session holds a reference for the
 * transaction it is in, so a reload never changes the rules under it.
 */
#ifndef TT_SNAPSHOT_H
#define TT_SNAPSHOT_H

#include "config.h"

struct tt_snapshot;

/* Install cfg as the configuration in force; the previous one is released. */
void tt_snapshot_install(struct tt_config *cfg);
/* Take a reference to the configuration in force (never NULL after install). */
struct tt_snapshot *tt_snapshot_get(void);
void tt_snapshot_put(struct tt_snapshot *s);
const struct tt_config *tt_snapshot_config(const struct tt_snapshot *s);
/* Drop the configuration in force at shutdown. */
void tt_snapshot_clear(void);

#endif
