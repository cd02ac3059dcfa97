/*
 * ctlmap.h - tlstrustctl's mail-state map commands, survey and report:
 * their arguments, the StateDatabase they share, and the change to UserID.
 */
#ifndef TT_CTLMAP_H
#define TT_CTLMAP_H

#include <sys/types.h>

#include "config.h"

/* argv[0] is "survey" or "report"; returns the exit status. */
int tt_ctl_map(const struct tt_config *cfg, uid_t uid, gid_t gid, int argc, char **argv);

#endif
