/*
 * observe.h - the one call through which callbacks.c reports a decision
 * (issue 12): a message delivered at end of message, or a transaction
 * refused at MAIL, RCPT or a header. It feeds the metrics counters
 * (counters.h) and the per-peer history (history.h); it never allocates
 * and never fails.
 */
#ifndef TT_OBSERVE_H
#define TT_OBSERVE_H

#include "cidr.h"
#include "counters.h"
#include "policy.h"
#include "tls_state.h"

struct tt_observation {
    enum tt_stage stage;              /* TT_STAGE_EOM: delivered; else where it was refused */
    enum tt_action refusal;           /* a refusal's action: TT_ACTION_DEFER or _REJECT */
    const struct tt_verdict *decided; /* the verdict that decided it */
    const struct tt_verdict *mail;    /* the transaction's MAIL verdict (names the member) */
    const struct tt_tls *tls;
    const struct tt_cidr *client; /* NULL when unknown */
};

void tt_observe(const struct tt_observation *o);

/* The member a decision names (see peers.h): a from:/client:/zone rule, a subject, or "". */
const char *tt_observe_member(const struct tt_observation *o);

#endif
