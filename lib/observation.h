/*
 * observation.h - what a session reports of each decision it makes (a
 * message delivered at end of message, or a transaction refused at MAIL,
 * RCPT or a header) to whoever counts them: the daemon feeds its metrics
 * and the per-peer history (milter/observe.c). The session makes the
 * report; the observer must not allocate or fail.
 */
#ifndef TT_OBSERVATION_H
#define TT_OBSERVATION_H

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

typedef void (*tt_observer_fn)(const struct tt_observation *o);

#endif
