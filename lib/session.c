/*
 * session.c - see session.h: one SMTP session, step by step:
 *   connect    client address and name, InternalHosts
 *   helo       capture the TLS state
 *   mail       a new transaction: TLS state, then the one MAIL decision
 *   rcpt       to: rules per recipient
 *   header     count forged tags and our Authentication-Results
 *   eom        the deletions and insertions, then the answer and the log
 * TLS macros are captured at MAIL (and HELO) because Postfix no longer
 * has them at end of message.
 */
#include "session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "decide.h"
#include "escape.h"
#include "log.h"

static const struct tt_answer go_on = {TT_STEP_CONTINUE, NULL, NULL, NULL};

static struct tt_answer answer(enum tt_step step, const char *rcode, const char *xcode,
                               const char *text)
{
    struct tt_answer a = {step, rcode, xcode, text};

    return a;
}

static bool fault(const struct tt_session *s, const char *point)
{
    return s->fault != NULL && s->fault(point);
}

static const char *macro(const struct tt_macro_src *m, const char *name)
{
    return m != NULL && m->get != NULL ? m->get(m->ctx, name) : NULL;
}

static void copy_macro(const struct tt_macro_src *m, const char *name, char *dst, size_t dstsz)
{
    const char *v = macro(m, name);

    if (v != NULL)
        snprintf(dst, dstsz, "%s", v);
}

static const char *queue_id(const struct tt_session *s)
{
    return s->t.queueid[0] != '\0' ? s->t.queueid : "NOQUEUE";
}

void tt_session_log(const struct tt_session *s, int level, const char *stage, const char *fmt, ...)
{
    char rest[1200];
    va_list ap;

    if (!tt_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof(rest), fmt, ap);
    va_end(ap);
    tt_log(level, "%s: %s%sclient=%s%s%s%s", queue_id(s), stage != NULL ? stage : "",
           stage != NULL ? " " : "", s->client_log, s->t.from_log[0] != '\0' ? " from=" : "",
           s->t.from_log, rest);
}

static void txn_reset(struct tt_session *s)
{
    free(s->t.dns);
    memset(&s->t, 0, sizeof(s->t));
}

void tt_session_init(struct tt_session *s, const char *local_host, bool quiet_headers,
                     bool (*fault_hook)(const char *point))
{
    s->local_host = local_host != NULL ? local_host : "localhost";
    s->quiet_headers = quiet_headers;
    s->fault = fault_hook;
}

void tt_session_observe(struct tt_session *s, tt_observer_fn fn)
{
    s->observe = fn;
}

/* Tell the observer of a decision: delivered (TT_STAGE_EOM) or refused at stage. */
static void observe(const struct tt_session *s, enum tt_stage stage,
                    const struct tt_verdict *decided, enum tt_action refusal)
{
    struct tt_observation o = {.stage = stage,
                               .refusal = refusal,
                               .decided = decided,
                               .mail = &s->t.verdict,
                               .tls = &s->tls,
                               .client = s->have_addr ? &s->addr : NULL};

    if (s->observe != NULL)
        s->observe(&o);
}

/*
 * An internal failure: OnError tempfail refuses the command; OnError accept
 * lets the message through untagged (the session continues degraded), but
 * a forged tag is still never let through (see tt_session_eom).
 */
static struct tt_answer internal_error(struct tt_session *s, const char *what)
{
    bool accept = s->cfg != NULL && s->cfg->on_error_accept;

    tt_session_log(s, LOG_ERR, NULL, ": internal error: %s; OnError %s", what,
                   accept ? "accept" : "tempfail");
    if (accept) {
        s->t.degraded = true;
        return go_on;
    }
    return answer(TT_STEP_TEMPFAIL, "451", "4.3.0", "tlstrust: internal error, try again later");
}

struct tt_answer tt_stateless_error(const struct tt_config *cfg, const char *what)
{
    bool accept = cfg != NULL && cfg->on_error_accept;

    tt_log(LOG_ERR, "NOQUEUE: internal error: %s; OnError %s", what,
           accept ? "accept" : "tempfail");
    if (accept)
        return go_on;
    return answer(TT_STEP_TEMPFAIL, "451", "4.3.0", "tlstrust: internal error, try again later");
}

struct tt_answer tt_stateless_header(const struct tt_config *cfg, const char *name)
{
    char q[100];
    bool exact;

    if (!tt_header_name_is(name, cfg->tag_header, &exact))
        return go_on;
    tt_escape_quoted(name, strlen(name), q, sizeof(q));
    tt_log(LOG_ERR, "NOQUEUE: forged %s header in a session without state; tempfail", q);
    return answer(TT_STEP_TEMPFAIL, "451", "4.3.0", "tlstrust: internal error, try again later");
}

/*
 * The client's name counts only when the MTA verified it: Postfix passes
 * "unknown" otherwise, Sendmail passes "[addr]" or sets {client_resolve} to
 * something other than OK (a name that may be forged).
 */
static void describe_client(struct tt_session *s, const char *hostname, const struct sockaddr *sa,
                            const char *resolve)
{
    char ip[INET6_ADDRSTRLEN] = "unknown", raw[600];

    if (sa != NULL && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
                  sizeof(ip));
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                  sizeof(ip));
    }
    s->have_addr = tt_ip_parse(ip, &s->addr);
    s->client_name[0] = '\0';
    if (hostname != NULL && hostname[0] != '[' && strcasecmp(hostname, "unknown") != 0 &&
        (resolve == NULL || strcmp(resolve, "OK") == 0) &&
        strlen(hostname) < sizeof(s->client_name)) {
        snprintf(s->client_name, sizeof(s->client_name), "%s", hostname);
        tt_domain_normalize(s->client_name);
    }
    snprintf(raw, sizeof(raw), "%s[%s]", s->client_name[0] ? s->client_name : "unknown", ip);
    tt_escape_quoted(raw, strlen(raw), s->client_log, sizeof(s->client_log));
}

/*
 * Take the configuration the caller holds now, and what depends on it:
 * whether the client is internal, and the authserv-id our headers carry.
 */
static void use_config(struct tt_session *s, const struct tt_config *cfg, struct tt_dns *dns)
{
    const char *id = cfg->authserv_id;

    s->cfg = cfg;
    s->dns = dns;
    s->internal = s->have_addr && tt_config_is_internal(cfg, &s->addr);
    if (id == NULL)
        id = s->mta_host[0] != '\0' ? s->mta_host : s->local_host;
    snprintf(s->authserv, sizeof(s->authserv), "%s", id);
}

struct tt_answer tt_session_connect(struct tt_session *s, const struct tt_config *cfg,
                                    const struct tt_macro_src *m, const char *hostname,
                                    const struct sockaddr *sa)
{
    const char *j = macro(m, "j");

    describe_client(s, hostname, sa, macro(m, "{client_resolve}"));
    copy_macro(m, "v", s->mta_version, sizeof(s->mta_version));
    s->have_mta_version = macro(m, "v") != NULL;
    /* An authserv-id is written unquoted: accept only a host-name-like token. */
    if (j != NULL && tt_is_token(j, 128))
        snprintf(s->mta_host, sizeof(s->mta_host), "%s", j);
    use_config(s, cfg, NULL);
    tt_session_log(s, LOG_DEBUG, "connect", "%s", s->internal ? " (internal)" : "");
    return go_on;
}

/*
 * Read the TLS macros into s->tls and classify them with the current trust
 * store. Anomalies are logged once per transaction, at MAIL (report).
 */
static void capture_tls(struct tt_session *s, const struct tt_macro_src *m, bool report)
{
    struct tt_macros tm = {
        .mta_version = s->have_mta_version ? s->mta_version : NULL,
        .tls_version = macro(m, "{tls_version}"),
        .cipher = macro(m, "{cipher}"),
        .cipher_bits = macro(m, "{cipher_bits}"),
        .cert_subject = macro(m, "{cert_subject}"),
        .cert_issuer = macro(m, "{cert_issuer}"),
        .cn_subject = macro(m, "{cn_subject}"),
        .cn_issuer = macro(m, "{cn_issuer}"),
        .verify = macro(m, "{verify}"),
    };

    tt_tls_capture(&s->tls, &tm, s->cfg->dialect, &s->cfg->trust);
    if (report && s->tls.anomaly != NULL)
        tt_session_log(s, LOG_WARNING, NULL, ": %s", s->tls.anomaly);
}

struct tt_answer tt_session_helo(struct tt_session *s, const struct tt_macro_src *m)
{
    if (s->cfg != NULL)
        capture_tls(s, m, false);
    return go_on;
}

/* The decision line: "QUEUEID: STAGE client=... from=... [rcpt=...] level=... result=...". */
static void log_decision(const struct tt_session *s, const struct tt_verdict *v, const char *stage,
                         const char *rcpt)
{
    static const char *results[] = {"none", "pass", "fail"};
    char rcptbuf[280] = "", why[200] = "";

    if (rcpt != NULL) {
        char q[264];

        tt_escape_quoted(rcpt, strlen(rcpt), q, sizeof(q));
        snprintf(rcptbuf, sizeof(rcptbuf), " rcpt=%s", q);
    }
    if (v->result == TT_RESULT_FAIL) {
        const char *rcode, *xcode, *text;

        tt_policy_reply(v, &rcode, &xcode, &text);
        snprintf(why, sizeof(why), " reason=\"%s\"%s%s%s%s", v->reason,
                 tt_policy_refuses(v) ? " reply=" : "", tt_policy_refuses(v) ? rcode : "",
                 tt_policy_refuses(v) ? " " : "", tt_policy_refuses(v) ? xcode : "");
    }
    tt_session_log(s, v->result == TT_RESULT_FAIL ? LOG_NOTICE : LOG_INFO, stage,
                   "%s level=%s network=%s rule=%s result=%s action=%s%s", rcptbuf,
                   tt_level_name(s->tls.level), s->tls.network[0] ? s->tls.network : "-",
                   v->rule != NULL ? v->rule->key : "-", results[v->result],
                   v->result == TT_RESULT_FAIL ? tt_action_name(v->action) : "-", why);
}

static struct tt_answer refuse(const struct tt_verdict *v)
{
    const char *rcode, *xcode, *text;

    tt_policy_reply(v, &rcode, &xcode, &text);
    return answer(v->action == TT_ACTION_REJECT ? TT_STEP_REJECT : TT_STEP_TEMPFAIL, rcode, xcode,
                  text);
}

struct tt_answer tt_session_mail(struct tt_session *s, const struct tt_config *cfg,
                                 struct tt_dns *dns, const struct tt_macro_src *m, const char *from)
{
    struct tt_envelope env;
    struct tt_mail_case mc;

    if (from == NULL)
        from = "<>";
    txn_reset(s);
    /* Each transaction runs under the configuration in force when it starts. */
    use_config(s, cfg, dns);
    copy_macro(m, "i", s->t.queueid, sizeof(s->t.queueid));
    tt_escape_quoted(from, strlen(from), s->t.from_log, sizeof(s->t.from_log));
    capture_tls(s, m, true);
    if (fault(s, "envfrom"))
        return internal_error(s, "injected failure at MAIL");
    if (s->internal || (cfg->table == NULL && !cfg->dns_needed))
        return go_on;
    /* The MTA's parsed sender and the client's spelling of it: both are judged. */
    tt_envelope_domains(from, macro(m, "{mail_addr}"), false, &env);
    if (env.kind == TT_ADDR_INVALID) {
        tt_session_log(s, LOG_NOTICE, NULL, ": malformed sender address");
        observe(s, TT_STAGE_MAIL, &s->t.verdict, TT_ACTION_REJECT);
        return answer(TT_STEP_REJECT, "553", "5.1.7", "tlstrust: malformed sender address");
    }
    if (cfg->dns_needed) {
        s->t.dns = fault(s, "dns-alloc") ? NULL : calloc(1, sizeof(*s->t.dns));
        if (s->t.dns == NULL)
            return internal_error(s, "cannot allocate DNS policy state");
        /* The resolver is the caller's long-lived service: it outlives reloads. */
        s->t.dns->dns = dns;
    }
    mc.id = queue_id(s);
    mc.sender = &env;
    mc.client_name = s->client_name;
    mc.client = s->have_addr ? &s->addr : NULL;
    /* Table, then policy zones and sender signals: the order lives in decide.c. */
    if (tt_decide_mail(cfg, s->t.dns, &mc, &s->tls, &s->t.verdict) != TT_DNSP_OK) {
        observe(s, TT_STAGE_MAIL, &s->t.verdict, TT_ACTION_DEFER);
        return answer(TT_STEP_TEMPFAIL, "451", "4.4.3",
                      "tlstrust: DNS policy lookup failed, try again later");
    }
    if (tt_policy_refuses(&s->t.verdict)) {
        log_decision(s, &s->t.verdict, "refused at MAIL", NULL);
        observe(s, TT_STAGE_MAIL, &s->t.verdict, s->t.verdict.action);
        return refuse(&s->t.verdict);
    }
    return go_on;
}

/*
 * Judge a recipient's to: rules for every domain the address stands for
 * (tt_envelope_domains); the strictest outcome wins.
 */
static void judge_recipient(const struct tt_session *s, const struct tt_envelope *env,
                            struct tt_verdict *acc)
{
    const struct tt_config *cfg = s->cfg;
    struct tt_verdict v;
    size_t i;

    for (i = 0; i < env->n; i++) {
        tt_policy_eval(tt_table_lookup_domain(cfg->table, TT_KEY_TO, env->domain[i]), &s->tls,
                       &cfg->trust, cfg->default_action, &v);
        tt_policy_merge(acc, &v);
    }
}

struct tt_answer tt_session_rcpt(struct tt_session *s, const struct tt_macro_src *m,
                                 const char *rcpt)
{
    struct tt_verdict v = {0};
    struct tt_envelope env;

    if (rcpt == NULL)
        rcpt = "";
    if (s->cfg == NULL || s->t.degraded || s->internal)
        return go_on;
    if (s->t.queueid[0] == '\0')
        copy_macro(m, "i", s->t.queueid, sizeof(s->t.queueid));
    if (s->cfg->table == NULL)
        return go_on;
    /* Where the MTA will deliver, where the client said, and where a % or ! hop leads. */
    tt_envelope_domains(rcpt, macro(m, "{rcpt_addr}"), true, &env);
    if (env.kind == TT_ADDR_INVALID) {
        char q[264];

        tt_escape_quoted(rcpt, strlen(rcpt), q, sizeof(q));
        tt_session_log(s, LOG_NOTICE, NULL, " rcpt=%s: malformed recipient address", q);
        observe(s, TT_STAGE_RCPT, &s->t.verdict, TT_ACTION_REJECT);
        return answer(TT_STEP_REJECT, "553", "5.1.3", "tlstrust: malformed recipient address");
    }
    judge_recipient(s, &env, &v);
    if (tt_policy_refuses(&v)) {
        log_decision(s, &v, "refused at RCPT", rcpt);
        observe(s, TT_STAGE_RCPT, &v, v.action);
        return refuse(&v);
    }
    tt_policy_merge(&s->t.verdict, &v);
    return go_on;
}

struct tt_answer tt_session_header(struct tt_session *s, const char *name, const char *value)
{
    enum tt_header_verdict v;
    const char *xcode, *why;

    if (s->cfg == NULL || s->internal || s->t.refuse_why != NULL)
        return go_on;
    v = tt_forgery_header(&s->t.forgery, name, value, s->cfg->tag_header, s->cfg->auth_results,
                          s->authserv);
    if (v == TT_HDR_OK)
        return go_on;
    why = tt_header_refusal(v, &xcode);
    tt_session_log(s, LOG_NOTICE, NULL, ": refused: %s", why);
    observe(s, TT_STAGE_HEADER, &s->t.verdict, TT_ACTION_REJECT);
    /* Without a reply at headers, the refusal waits for end of message. */
    if (s->quiet_headers) {
        s->t.refuse_xcode = xcode;
        s->t.refuse_why = why;
        return go_on;
    }
    return answer(TT_STEP_REJECT, "550", xcode, why);
}

/*
 * Queue one deletion the forgery rules ask for (tt_forgery_strip). The
 * name is copied: the transaction it comes from ends before the plan.
 */
static bool plan_delete(void *ctx, const char *name, unsigned int index)
{
    struct tt_eom_plan *p = ctx;
    const char *kept = p->n > 0 ? p->edit[p->n - 1].name : NULL;

    if (p->n >= TT_EDITS_MAX - 2)
        return false;
    if (kept == NULL || strcmp(kept, name) != 0) {
        if (p->nnames == sizeof(p->names) / sizeof(p->names[0]) ||
            strlen(name) >= sizeof(p->names[0]))
            return false;
        kept = strcpy(p->names[p->nnames++], name);
    }
    p->edit[p->n++] = (struct tt_edit){.kind = TT_EDIT_DELETE, .name = kept, .index = index};
    return true;
}

static void plan_insert(struct tt_eom_plan *p, const char *name, const char *value, bool tag)
{
    p->edit[p->n++] = (struct tt_edit){
        .kind = TT_EDIT_INSERT, .name = name, .index = 0, .value = value, .tag = tag};
}

void tt_session_eom(struct tt_session *s, const struct tt_macro_src *m, struct tt_eom_plan *plan)
{
    plan->n = 0;
    plan->nnames = 0;
    if (s->cfg == NULL)
        return;
    copy_macro(m, "i", s->t.queueid, sizeof(s->t.queueid));
    if (s->t.refuse_why != NULL || s->internal)
        return;
    /* Delete forged tags and our forged Authentication-Results (forgery.c), then add ours. */
    if (!tt_forgery_strip(&s->t.forgery, plan_delete, plan)) {
        s->t.uncleanable = true;
        plan->n = 0;
        return;
    }
    s->t.ndelete = plan->n;
    if (s->t.degraded)
        return;
    if (s->cfg->auth_results) {
        tt_authres_value(plan->authres, sizeof(plan->authres), &s->tls, s->authserv);
        plan_insert(plan, "Authentication-Results", plan->authres, false);
    }
    tt_tag_value(plan->tag, sizeof(plan->tag), &s->tls, &s->t.verdict, s->authserv);
    plan_insert(plan, s->cfg->tag_header, plan->tag, true);
}

/* The answer once applied of the plan's edits were made. */
static struct tt_answer eom_answer(struct tt_session *s, const struct tt_eom_plan *plan,
                                   size_t applied)
{
    if (s->cfg == NULL)
        return go_on;
    if (s->t.refuse_why != NULL)
        return answer(TT_STEP_REJECT, "550", s->t.refuse_xcode, s->t.refuse_why);
    if (s->internal) {
        tt_session_log(s, LOG_INFO, NULL, ": internal client: incoming tags kept, none added");
        return go_on;
    }
    /* The tag guarantee does not bend to OnError: a forgery we cannot remove is refused. */
    if (s->t.uncleanable || applied < s->t.ndelete) {
        tt_session_log(s, LOG_ERR, NULL, ": cannot remove forged headers; tempfail");
        return answer(TT_STEP_TEMPFAIL, "451", "4.3.0",
                      "tlstrust: internal error, try again later");
    }
    tt_counters_forged(s->t.forgery.tag_count);
    if (s->t.forgery.tag_count > 0)
        tt_session_log(s, LOG_NOTICE, NULL, ": removed %u forged %s header(s)",
                       s->t.forgery.tag_count, s->cfg->tag_header);
    if (s->t.degraded) {
        tt_session_log(s, LOG_WARNING, NULL,
                       ": delivered without tag after an internal error (OnError accept)");
        observe(s, TT_STAGE_EOM, &s->t.verdict, TT_ACTION_UNSET);
        return go_on;
    }
    if (applied < plan->n)
        return internal_error(s, plan->edit[applied].tag
                                     ? "cannot add the tag header"
                                     : "cannot add the Authentication-Results header");
    log_decision(s, &s->t.verdict, "tagged", NULL);
    observe(s, TT_STAGE_EOM, &s->t.verdict, TT_ACTION_UNSET);
    return go_on;
}

struct tt_answer tt_session_eom_done(struct tt_session *s, const struct tt_eom_plan *plan,
                                     size_t applied)
{
    struct tt_answer a = eom_answer(s, plan, applied);

    txn_reset(s);
    return a;
}

void tt_session_abort(struct tt_session *s)
{
    txn_reset(s);
}

void tt_session_close(struct tt_session *s)
{
    txn_reset(s);
    s->cfg = NULL;
    s->dns = NULL;
}
