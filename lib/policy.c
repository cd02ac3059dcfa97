/*
 * policy.c - requirement checks. The order of the checks fixes which
 * reason an administrator sees: no TLS at all, then the level, then the
 * protocol version, key size and certificate subject.
 */
#include "policy.h"

#include <string.h>

static const char *check(const struct tt_rule *r, const struct tt_tls *s,
                         const struct tt_trust *trust)
{
    static const enum tt_level need[] = {TT_LEVEL_NONE, TT_LEVEL_ENCRYPTED, TT_LEVEL_VERIFIED,
                                         TT_LEVEL_TRUSTED};
    size_t i;

    if (s->level < need[r->req]) {
        if (r->req == TT_REQ_VERIFY)
            return "verified TLS client certificate required";
        return "TLS client certificate from a trusted network required";
    }
    if (r->network != NULL &&
        (!s->issuer_usable || tt_trust_match(trust, s->dialect, s->issuer, r->network) == NULL))
        return "TLS client certificate from the required trusted network required";
    if (r->min_version > 0 && tt_tls_version_number(s->version) < r->min_version)
        return tt_tls_version_required(r->min_version);
    if (r->min_bits > 0 && s->bits < r->min_bits)
        return "stronger TLS cipher required (too few bits)";
    if (r->subjects != NULL) {
        if (s->level < TT_LEVEL_VERIFIED || s->subject_cn[0] == '\0')
            return "verified TLS client certificate required (subject check)";
        for (i = 0; r->subjects[i] != NULL; i++)
            if (tt_host_match(r->subjects[i], s->subject_cn))
                return NULL;
        return "TLS client certificate subject does not match";
    }
    return NULL;
}

enum tt_action tt_rule_action(const struct tt_rule *r, enum tt_action default_action)
{
    return r->action != TT_ACTION_UNSET ? r->action : default_action;
}

bool tt_rule_enforced(const struct tt_rule *r, enum tt_action default_action)
{
    return r->req != TT_REQ_NONE && tt_rule_action(r, default_action) != TT_ACTION_MONITOR;
}

void tt_policy_eval(const struct tt_rule *rule, const struct tt_tls *s,
                    const struct tt_trust *trust, enum tt_action default_action,
                    struct tt_verdict *out)
{
    memset(out, 0, sizeof(*out));
    if (rule == NULL || rule->req == TT_REQ_NONE)
        return;
    out->rule = rule;
    out->action = tt_rule_action(rule, default_action);
    if (!s->tls) {
        out->result = TT_RESULT_FAIL;
        out->no_tls = true;
        out->reason = "Encryption needed";
        return;
    }
    out->reason = check(rule, s, trust);
    out->result = out->reason == NULL ? TT_RESULT_PASS : TT_RESULT_FAIL;
}

static int rank(const struct tt_verdict *v)
{
    if (v->result == TT_RESULT_FAIL) {
        switch (v->action) {
        case TT_ACTION_REJECT:
            return 5;
        case TT_ACTION_DEFER:
            return 4;
        default:
            return 3;
        }
    }
    return v->result == TT_RESULT_PASS ? 2 : 1;
}

void tt_policy_merge(struct tt_verdict *acc, const struct tt_verdict *v)
{
    int a = rank(acc), b = rank(v);

    /* Between passing rules, report the one with the higher requirement. */
    if (b > a || (a == b && a == 2 && v->rule->req > acc->rule->req))
        *acc = *v;
}

bool tt_policy_refuses(const struct tt_verdict *v)
{
    return v->result == TT_RESULT_FAIL && v->action != TT_ACTION_MONITOR;
}

void tt_policy_reply(const struct tt_verdict *v, const char **rcode, const char **xcode,
                     const char **text)
{
    bool reject = v->action == TT_ACTION_REJECT;

    *rcode = reject ? "550" : "450";
    if (v->no_tls)
        *xcode = reject ? "5.7.10" : "4.7.10";
    else
        *xcode = reject ? "5.7.1" : "4.7.1";
    *text = v->rule != NULL && v->rule->reply != NULL ? v->rule->reply : v->reason;
}
