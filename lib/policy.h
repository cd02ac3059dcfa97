/*
 * policy.h - judge a session's TLS state against table rules and pick the
 * strictest outcome when several rules apply.
 */
#ifndef TT_POLICY_H
#define TT_POLICY_H

#include <stdbool.h>

#include "domtable.h"
#include "tls_state.h"

struct tt_verdict {
    enum tt_result result;
    enum tt_action action;      /* effective action of the deciding rule */
    const struct tt_rule *rule; /* deciding rule, NULL when none */
    bool no_tls;                /* failed because the session had no TLS */
    const char *reason;         /* static text naming the failed requirement */
};

/* The action a rule takes: its own, else default_action (DefaultAction). */
enum tt_action tt_rule_action(const struct tt_rule *r, enum tt_action default_action);

/* A rule an MTA must enforce: a requirement, under an action other than monitor. */
bool tt_rule_enforced(const struct tt_rule *r, enum tt_action default_action);

/*
 * Judge one rule (NULL or requirement none: TT_RESULT_NONE). The trust
 * store resolves trusted:NETWORK; default_action fills an unset action.
 */
void tt_policy_eval(const struct tt_rule *rule, const struct tt_tls *s,
                    const struct tt_trust *trust, enum tt_action default_action,
                    struct tt_verdict *out);

/* Keep in *acc the stricter of *acc and *v: reject > defer > monitor fail > pass > none. */
void tt_policy_merge(struct tt_verdict *acc, const struct tt_verdict *v);

/* True when the verdict refuses the command (a failure not in monitor mode). */
bool tt_policy_refuses(const struct tt_verdict *v);

/* SMTP reply pieces for a refusing verdict: "550"/"450", "5.7.10"/"4.7.1" ... and text. */
void tt_policy_reply(const struct tt_verdict *v, const char **rcode, const char **xcode,
                     const char **text);

#endif
