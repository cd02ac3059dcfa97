/*
 * observe.c - see observe.h: from a session's verdict and TLS state to the
 * counted outcome and the peer it belongs to.
 */
#include "observe.h"

#include <arpa/inet.h>
#include <time.h>

#include "history.h"

/* A to: rule names the recipient's domain, not the sender: it is no member. */
static const char *rule_member(const struct tt_verdict *v)
{
    if (v == NULL || v->rule == NULL || v->rule->type == TT_KEY_TO || v->rule->key == NULL)
        return NULL;
    return v->rule->key;
}

const char *tt_observe_member(const struct tt_observation *o)
{
    const char *m = rule_member(o->decided);

    if (m == NULL)
        m = rule_member(o->mail);
    /* An unverified certificate's subject is whatever the client chose: it names nobody. */
    if (m == NULL && o->tls->verified && o->tls->subject_cn[0] != '\0')
        m = o->tls->subject_cn;
    return m != NULL ? m : "";
}

static enum tt_outcome outcome_of(const struct tt_observation *o)
{
    if (o->stage != TT_STAGE_EOM)
        return o->refusal == TT_ACTION_DEFER ? TT_OUTCOME_DEFER : TT_OUTCOME_REJECT;
    /* Delivered although a rule failed: only monitor mode lets that through. */
    return o->decided != NULL && o->decided->result == TT_RESULT_FAIL ? TT_OUTCOME_MONITOR
                                                                      : TT_OUTCOME_ACCEPT;
}

void tt_observe(const struct tt_observation *o)
{
    enum tt_result result = o->decided != NULL ? o->decided->result : TT_RESULT_NONE;
    char client[INET6_ADDRSTRLEN] = "";
    struct tt_peer_event ev = {
        .peer = tt_observe_member(o),
        .client = client,
        .network = o->tls->network,
        .level = o->tls->level,
        .result = result,
        .outcome = outcome_of(o),
        .tls_version = o->tls->tls ? tt_tls_version_number(o->tls->version) : 0,
        .when = time(NULL),
    };

    if (o->client != NULL &&
        inet_ntop(o->client->family, o->client->addr, client, sizeof(client)) == NULL)
        client[0] = '\0';
    tt_counters_decision(o->stage, ev.level, ev.result, ev.outcome);
    tt_history_record(&ev);
}
