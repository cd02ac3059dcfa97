/*
 * observe.h - the daemon's observer of sessions (observation.h; issue 12):
 * each decision a session reports, a message delivered at end of message
 * or a transaction refused at MAIL, RCPT or a header, feeds the metrics counters
 * (counters.h) and the per-peer history (history.h); it never allocates
 * and never fails.
 */
#ifndef TT_OBSERVE_H
#define TT_OBSERVE_H

#include "observation.h"

void tt_observe(const struct tt_observation *o);

/* The member a decision names (see peers.h): a from:/client:/zone rule, a subject, or "". */
const char *tt_observe_member(const struct tt_observation *o);

#endif
