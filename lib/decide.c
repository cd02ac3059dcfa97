/*
 * decide.c - see decide.h: the order in which a transaction's rules are
 * found at MAIL FROM, and their merge (strictest wins).
 */
#include "decide.h"

#include <time.h>

#include "counters.h"
#include "log.h"

static void add(struct tt_mail_rule *out, size_t *n, const struct tt_rule *r,
                const struct tt_dnsrule *dns)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < *n; i++)
        if (out[i].rule == r)
            return; /* two spellings of the sender met the same rule */
    if (*n < TT_MAIL_RULES) {
        out[*n].rule = r;
        out[*n].dns = dns;
        (*n)++;
    }
}

enum tt_dnsp_status tt_mail_rules(const struct tt_config *cfg, struct tt_dnsmsg *m,
                                  const struct tt_mail_case *mc, struct tt_mail_rule *out,
                                  size_t *n)
{
    const struct tt_envelope *env = mc->sender;
    const struct tt_rule *primary = NULL, *cr = NULL;
    size_t i;

    *n = 0;
    for (i = 0; env != NULL && i < env->n; i++) {
        const struct tt_rule *r = tt_table_lookup_domain(cfg->table, TT_KEY_FROM, env->domain[i]);

        if (i == 0)
            primary = r;
        add(out, n, r, NULL);
    }
    if (mc->client != NULL)
        cr = tt_table_lookup_addr(cfg->table, mc->client);
    if (cr == NULL && mc->client_name != NULL && mc->client_name[0] != '\0')
        cr = tt_table_lookup_domain(cfg->table, TT_KEY_CLIENT, mc->client_name);
    add(out, n, cr, NULL);
    /* A local from: entry (an exemption too) always wins over DNS. */
    if (primary != NULL || m == NULL || m->dns == NULL || env == NULL || env->n == 0)
        return TT_DNSP_OK;
    if (tt_dnspolicy_find(m, cfg, mc->id, env->domain[0]) != TT_DNSP_OK)
        return TT_DNSP_TEMPFAIL;
    for (i = 0; i < m->nrules; i++)
        add(out, n, &m->rules[i].rule, &m->rules[i]);
    return TT_DNSP_OK;
}

static enum tt_dnsp_status decide_mail(const struct tt_config *cfg, struct tt_dnsmsg *m,
                                       const struct tt_mail_case *mc, const struct tt_tls *tls,
                                       struct tt_verdict *acc)
{
    struct tt_mail_rule rules[TT_MAIL_RULES];
    struct tt_dns_stats st;
    size_t n, i;

    if (tt_mail_rules(cfg, m, mc, rules, &n) != TT_DNSP_OK)
        return TT_DNSP_TEMPFAIL;
    for (i = 0; i < n; i++) {
        struct tt_verdict v;

        tt_policy_eval(rules[i].rule, tls, &cfg->trust, cfg->default_action, &v);
        /* identity=dns: the certificate's host must resolve to the client. */
        if (m != NULL && m->dns != NULL &&
            tt_dnspolicy_identity(m, cfg, mc->id, tls, mc->client, &v) != TT_DNSP_OK)
            return TT_DNSP_TEMPFAIL;
        tt_policy_merge(acc, &v);
    }
    if (m != NULL && m->dns != NULL && m->used > 0) {
        tt_dns_get_stats(m->dns, &st);
        tt_log(LOG_DEBUG,
               "%s: dns: %u lookup(s), %u sent, for this message; resolver totals: lookups=%lu "
               "sent=%lu cache_hits=%lu joined=%lu evicted=%lu",
               mc->id, m->used, m->sent, st.lookups, st.sent, st.hits, st.joined, st.evictions);
    }
    return TT_DNSP_OK;
}

/* The decision, timed for the latency histogram (counters.h). */
enum tt_dnsp_status tt_decide_mail(const struct tt_config *cfg, struct tt_dnsmsg *m,
                                   const struct tt_mail_case *mc, const struct tt_tls *tls,
                                   struct tt_verdict *acc)
{
    struct timespec t0, t1;
    enum tt_dnsp_status st;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = decide_mail(cfg, m, mc, tls, acc);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    tt_counters_latency((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return st;
}

/* An enforced rule before one that is not (monitor, exemption), then the higher requirement. */
static bool stricter(const struct tt_config *cfg, const struct tt_rule *a, const struct tt_rule *b)
{
    bool ae = tt_rule_enforced(a, cfg->default_action);
    bool be = tt_rule_enforced(b, cfg->default_action);

    if (ae != be)
        return ae;
    return a->req > b->req;
}

enum tt_dnsp_status tt_domain_rule(const struct tt_config *cfg, struct tt_dnsmsg *m, const char *id,
                                   const char *domain, const struct tt_rule **rule,
                                   const struct tt_dnsrule **dns)
{
    size_t i;

    *dns = NULL;
    *rule = tt_table_lookup_domain(cfg->table, TT_KEY_FROM, domain);
    /* As at MAIL FROM: a local from: entry (an exemption too) always wins over DNS. */
    if (*rule != NULL || m == NULL || m->dns == NULL)
        return TT_DNSP_OK;
    if (tt_dnspolicy_find_zones(m, cfg, id, domain) != TT_DNSP_OK || m->failed[0] != '\0')
        return TT_DNSP_TEMPFAIL;
    for (i = 0; i < m->nrules; i++)
        if (*rule == NULL || stricter(cfg, &m->rules[i].rule, *rule)) {
            *rule = &m->rules[i].rule;
            *dns = &m->rules[i];
        }
    return TT_DNSP_OK;
}
