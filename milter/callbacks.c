/*
 * callbacks.c - one SMTP session as libmilter reports it:
 *   negotiate  ask the MTA for the macros we need (smfi_setsymlist)
 *   connect    client address and name, InternalHosts
 *   helo       capture the TLS state (only from an MTA that cannot take
 *              our macro lists: otherwise we skip HELO, see negotiate_cb)
 *   envfrom    judge from: and client: rules for the transaction
 *   envrcpt    judge to: rules per recipient
 *   header     count forged tags and our Authentication-Results
 *   eom        delete the forged copies, add our tag, log the decision
 * TLS macros are captured at MAIL (and HELO) because Postfix no longer
 * has them at end of message.
 */
#include "callbacks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "address.h"
#include "decide.h"
#include "dnspolicy.h"
#include "escape.h"
#include "fault.h"
#include "forgery.h"
#include "log.h"
#include "observe.h"
#include "policy.h"
#include "snapshot.h"
#include "tag.h"
#include "tls_state.h"

#define TLS_MACROS                                                                                 \
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "                           \
    "{cn_subject} {cn_issuer} {verify}"

struct txn {
    char queueid[32];
    char from_log[260];        /* escaped sender, for the log */
    struct tt_verdict verdict; /* strictest over MAIL and accepted RCPTs */
    struct tt_forgery forgery; /* forged tags and Authentication-Results (forgery.c) */
    bool degraded;             /* an internal error happened under OnError accept */
    bool active;
    /* A header made us refuse the message: said at end of message (no-reply headers). */
    const char *refuse_xcode, *refuse_why;
    /*
     * DNS policy rules and query budget of this message (9.8 KiB), allocated
     * at MAIL only when DNS policy is configured: an idle connection, or one
     * under a configuration without DNS, does not carry it. The verdict may
     * point into its rules until end of message; txn_reset frees it.
     */
    struct tt_dnsmsg *dns;
};

struct conn {
    struct tt_snapshot *snap;
    /* No-reply steps the MTA agreed to (negotiate_cb): return SMFIS_NOREPLY there. */
    bool nr_conn, nr_hdr;
    char client_log[300]; /* name[addr], escaped */
    struct tt_cidr addr;
    bool have_addr;
    char client_name[256];
    char mta_host[129]; /* the MTA's "j" macro, when it is a token */
    /* Both follow the snapshot of the current transaction (bind_snapshot). */
    bool internal;
    char authserv[129];
    char mta_version[64];
    bool have_mta_version;
    struct tt_tls tls;
    struct txn t;
};

static char fallback_hostname[129] = "localhost";

/* An authserv-id is written unquoted: accept only a host-name-like token. */
static bool token_ok(const char *s)
{
    return tt_is_token(s, 128);
}

void tt_callbacks_set_hostname(const char *name)
{
    if (name != NULL && token_ok(name))
        snprintf(fallback_hostname, sizeof(fallback_hostname), "%s", name);
}

static const struct tt_config *cfg_of(const struct conn *c)
{
    return tt_snapshot_config(c->snap);
}

static void txn_reset(struct conn *c)
{
    free(c->t.dns);
    memset(&c->t, 0, sizeof(c->t));
}

static void copy_macro(SMFICTX *ctx, const char *name, char *dst, size_t dstsz)
{
    const char *v = smfi_getsymval(ctx, (char *)name);

    if (v != NULL)
        snprintf(dst, dstsz, "%s", v);
}

/*
 * An internal failure: OnError tempfail refuses the command; OnError accept
 * lets the message through untagged (the session continues degraded), but
 * a forged tag is still never let through (see header_cb and eom_cb).
 */
static sfsistat internal_error(SMFICTX *ctx, struct conn *c, const char *what)
{
    bool accept = c != NULL && c->snap != NULL && cfg_of(c)->on_error_accept;

    tt_log(LOG_ERR, "%s: internal error: %s; OnError %s", c != NULL ? c->t.queueid : "-", what,
           accept ? "accept" : "tempfail");
    if (accept) {
        c->t.degraded = true;
        return SMFIS_CONTINUE;
    }
    smfi_setreply(ctx, "451", "4.3.0", "tlstrust: internal error, try again later");
    return SMFIS_TEMPFAIL;
}

/*
 * Where our answer is always "continue", the MTA need not wait for it: at
 * connect, and at each header (a refusal found in a header is given at end
 * of message instead, which is when the client hears it anyway). The
 * session state is allocated here, to remember what was agreed; without
 * it (no memory), we ask for no such step and connect_cb tries again.
 */
static unsigned long no_reply_steps(SMFICTX *ctx, unsigned long offered)
{
    struct conn *c = tt_fault("connect-alloc") ? NULL : calloc(1, sizeof(*c));

    if (c == NULL)
        return 0;
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
        free(c);
        return 0;
    }
    c->nr_conn = (offered & SMFIP_NR_CONN) != 0;
    c->nr_hdr = (offered & SMFIP_NR_HDR) != 0;
    return offered & (SMFIP_NR_CONN | SMFIP_NR_HDR);
}

static sfsistat negotiate_cb(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    static const struct {
        int stage;
        const char *macros;
    } lists[] = {
        {SMFIM_CONNECT, "j v _ {daemon_name} {client_addr} {client_name} {client_resolve}"},
        {SMFIM_ENVFROM, "i {mail_addr} " TLS_MACROS},
        {SMFIM_ENVRCPT, "i {rcpt_addr}"},
        {SMFIM_EOM, "i"},
    };
    size_t i;

    (void)f2;
    (void)f3;
    if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) {
        tt_log(LOG_ERR, "MTA does not allow adding and changing headers; cannot tag");
        return SMFIS_REJECT;
    }
    *pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | (f0 & SMFIF_SETSYMLIST);
    /*
     * Every stage the MTA sends is a round trip it waits for: skip those we
     * do not use: the body, unknown commands, end of headers, and HELO when
     * the MTA takes our macro lists (the TLS state is then captured at
     * MAIL, where we ask for the same macros; without our lists, MAIL sees
     * the TLS macros only through the HELO stage). DATA is not skipped, on
     * purpose: when it is, Postfix sends the DATA macros alone and, with no
     * reply to carry our ACK, holds its next packet for our delayed ACK
     * (about 40 ms a message over inet; BENCHMARKS.md). The DATA round trip
     * costs far less than that stall.
     */
    *pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NOEOH |
                 ((f0 & SMFIF_SETSYMLIST) != 0 ? SMFIP_NOHELO : 0));
    *pf1 |= no_reply_steps(ctx, f1);
    *pf2 = 0;
    *pf3 = 0;
    if ((f0 & SMFIF_SETSYMLIST) == 0) {
        tt_log(LOG_WARNING, "MTA cannot take our macro list; relying on its configured macros");
        return SMFIS_CONTINUE;
    }
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        if (smfi_setsymlist(ctx, lists[i].stage, (char *)lists[i].macros) != MI_SUCCESS)
            tt_log(LOG_WARNING, "smfi_setsymlist(%d) failed; relying on the MTA's macros",
                   lists[i].stage);
    return SMFIS_CONTINUE;
}

/*
 * The client's name counts only when the MTA verified it: Postfix passes
 * "unknown" otherwise, Sendmail passes "[addr]" or sets {client_resolve} to
 * something other than OK (a name that may be forged).
 */
static void describe_client(struct conn *c, const char *hostname, const struct sockaddr *sa,
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
    c->have_addr = tt_ip_parse(ip, &c->addr);
    if (hostname != NULL && hostname[0] != '[' && strcasecmp(hostname, "unknown") != 0 &&
        (resolve == NULL || strcmp(resolve, "OK") == 0) &&
        strlen(hostname) < sizeof(c->client_name)) {
        snprintf(c->client_name, sizeof(c->client_name), "%s", hostname);
        tt_domain_normalize(c->client_name);
    }
    snprintf(raw, sizeof(raw), "%s[%s]", c->client_name[0] ? c->client_name : "unknown", ip);
    tt_escape_quoted(raw, strlen(raw), c->client_log, sizeof(c->client_log));
}

/*
 * Session state could not be allocated. Kept out of connect_cb so that the
 * frame of every connect does not hold a whole struct conn (5 KiB) on the
 * worker's fresh stack.
 */
static __attribute__((noinline)) sfsistat connect_nomem(SMFICTX *ctx)
{
    struct conn tmp = {.snap = tt_snapshot_get()};
    sfsistat r = internal_error(ctx, &tmp, "cannot allocate session state");

    tt_snapshot_put(tmp.snap);
    /* Under OnError accept the session goes on stateless (header_cb checks forgeries). */
    return r;
}

/*
 * Take the configuration in force now, and what depends on it: whether
 * the client is internal, and the authserv-id our headers carry.
 */
static void bind_snapshot(struct conn *c)
{
    const char *id;

    tt_snapshot_put(c->snap);
    c->snap = tt_snapshot_get();
    c->internal = c->have_addr && tt_config_is_internal(cfg_of(c), &c->addr);
    id = cfg_of(c)->authserv_id;
    if (id == NULL)
        id = c->mta_host[0] != '\0' ? c->mta_host : fallback_hostname;
    snprintf(c->authserv, sizeof(c->authserv), "%s", id);
}

static sfsistat connect_cb(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
    struct conn *c = smfi_getpriv(ctx);
    const bool fresh = c == NULL;
    const char *j;

    /* Normally allocated at negotiate (no_reply_steps); then nothing here can fail. */
    if (fresh)
        c = tt_fault("connect-alloc") ? NULL : calloc(1, sizeof(*c));
    if (c == NULL)
        return connect_nomem(ctx);
    describe_client(c, hostname, hostaddr, smfi_getsymval(ctx, "{client_resolve}"));
    copy_macro(ctx, "v", c->mta_version, sizeof(c->mta_version));
    c->have_mta_version = smfi_getsymval(ctx, "v") != NULL;
    j = smfi_getsymval(ctx, "j");
    if (j != NULL && token_ok(j))
        snprintf(c->mta_host, sizeof(c->mta_host), "%s", j);
    bind_snapshot(c);
    if (fresh && smfi_setpriv(ctx, c) != MI_SUCCESS) {
        tt_snapshot_put(c->snap);
        free(c);
        return internal_error(ctx, NULL, "smfi_setpriv failed");
    }
    tt_log(LOG_DEBUG, "connect from %s%s", c->client_log, c->internal ? " (internal)" : "");
    return c->nr_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/*
 * Read the TLS macros into c->tls and classify them with the current trust
 * store. Anomalies are logged once per transaction, at MAIL (report).
 */
static void capture_tls(SMFICTX *ctx, struct conn *c, bool report)
{
    struct tt_macros m = {
        .mta_version = c->have_mta_version ? c->mta_version : NULL,
        .tls_version = smfi_getsymval(ctx, "{tls_version}"),
        .cipher = smfi_getsymval(ctx, "{cipher}"),
        .cipher_bits = smfi_getsymval(ctx, "{cipher_bits}"),
        .cert_subject = smfi_getsymval(ctx, "{cert_subject}"),
        .cert_issuer = smfi_getsymval(ctx, "{cert_issuer}"),
        .cn_subject = smfi_getsymval(ctx, "{cn_subject}"),
        .cn_issuer = smfi_getsymval(ctx, "{cn_issuer}"),
        .verify = smfi_getsymval(ctx, "{verify}"),
    };

    tt_tls_capture(&c->tls, &m, cfg_of(c)->dialect, &cfg_of(c)->trust);
    if (report && c->tls.anomaly != NULL)
        tt_log(LOG_WARNING, "client %s: %s", c->client_log, c->tls.anomaly);
}

static sfsistat helo_cb(SMFICTX *ctx, char *helohost)
{
    struct conn *c = smfi_getpriv(ctx);

    (void)helohost;
    if (c == NULL)
        return SMFIS_CONTINUE;
    capture_tls(ctx, c, false);
    return SMFIS_CONTINUE;
}

static void log_decision(const struct conn *c, const char *stage, const char *rcpt)
{
    const struct tt_verdict *v = &c->t.verdict;
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
    tt_log(v->result == TT_RESULT_FAIL ? LOG_NOTICE : LOG_INFO,
           "%s: %s client=%s from=%s%s level=%s network=%s rule=%s result=%s action=%s%s",
           c->t.queueid[0] ? c->t.queueid : "NOQUEUE", stage, c->client_log, c->t.from_log, rcptbuf,
           tt_level_name(c->tls.level), c->tls.network[0] ? c->tls.network : "-",
           v->rule != NULL ? v->rule->key : "-", results[v->result],
           v->result == TT_RESULT_FAIL ? tt_action_name(v->action) : "-", why);
}

/* issue 12: count a decision for the metrics and the history (observe.c). */
static void observe(const struct conn *c, enum tt_stage stage, const struct tt_verdict *decided,
                    enum tt_action refusal)
{
    struct tt_observation o = {.stage = stage,
                               .refusal = refusal,
                               .decided = decided,
                               .mail = &c->t.verdict,
                               .tls = &c->tls,
                               .client = c->have_addr ? &c->addr : NULL};

    tt_observe(&o);
}

static sfsistat refuse(SMFICTX *ctx, const struct tt_verdict *v)
{
    const char *rcode, *xcode, *text;

    tt_policy_reply(v, &rcode, &xcode, &text);
    if (smfi_setreply(ctx, (char *)rcode, (char *)xcode, (char *)text) != MI_SUCCESS)
        tt_log(LOG_WARNING, "smfi_setreply failed; the MTA uses its default reply");
    return v->action == TT_ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/*
 * Judge a recipient's to: rules for every domain the address stands for
 * (tt_envelope_domains); the strictest outcome wins.
 */
static void judge_recipient(const struct conn *c, const struct tt_envelope *env,
                            struct tt_verdict *acc)
{
    const struct tt_config *cfg = cfg_of(c);
    struct tt_verdict v;
    size_t i;

    for (i = 0; i < env->n; i++) {
        tt_policy_eval(tt_table_lookup_domain(cfg->table, TT_KEY_TO, env->domain[i]), &c->tls,
                       &cfg->trust, cfg->default_action, &v);
        tt_policy_merge(acc, &v);
    }
}

/* The MAIL verdict is complete: refuse the sender now if it says so. */
static sfsistat finish_mail(SMFICTX *ctx, const struct conn *c)
{
    if (tt_policy_refuses(&c->t.verdict)) {
        log_decision(c, "refused at MAIL", NULL);
        observe(c, TT_STAGE_MAIL, &c->t.verdict, c->t.verdict.action);
        return refuse(ctx, &c->t.verdict);
    }
    return SMFIS_CONTINUE;
}

static sfsistat envfrom_cb(SMFICTX *ctx, char **argv)
{
    struct conn *c = smfi_getpriv(ctx);
    const struct tt_config *cfg;
    const char *from = argv != NULL && argv[0] != NULL ? argv[0] : "<>";
    struct tt_envelope env;
    struct tt_mail_case mc;

    if (c == NULL)
        return SMFIS_CONTINUE;
    txn_reset(c);
    c->t.active = true;
    /* Each transaction runs under the configuration in force when it starts. */
    bind_snapshot(c);
    cfg = cfg_of(c);
    capture_tls(ctx, c, true);
    copy_macro(ctx, "i", c->t.queueid, sizeof(c->t.queueid));
    tt_escape_quoted(from, strlen(from), c->t.from_log, sizeof(c->t.from_log));
    if (tt_fault("envfrom"))
        return internal_error(ctx, c, "injected failure at MAIL");
    if (c->internal || (cfg->table == NULL && !cfg->dns_needed))
        return SMFIS_CONTINUE;
    /* The MTA's parsed sender and the client's spelling of it: both are judged. */
    tt_envelope_domains(from, smfi_getsymval(ctx, "{mail_addr}"), false, &env);
    if (env.kind == TT_ADDR_INVALID) {
        tt_log(LOG_NOTICE, "%s: client=%s from=%s: malformed sender address",
               c->t.queueid[0] ? c->t.queueid : "NOQUEUE", c->client_log, c->t.from_log);
        observe(c, TT_STAGE_MAIL, &c->t.verdict, TT_ACTION_REJECT);
        smfi_setreply(ctx, "553", "5.1.7", "tlstrust: malformed sender address");
        return SMFIS_REJECT;
    }
    if (cfg->dns_needed) {
        c->t.dns = tt_fault("dns-alloc") ? NULL : calloc(1, sizeof(*c->t.dns));
        if (c->t.dns == NULL)
            return internal_error(ctx, c, "cannot allocate DNS policy state");
        /* The resolver belongs to the snapshot, not the configuration: it outlives reloads. */
        c->t.dns->dns = tt_snapshot_dns(c->snap);
    }
    mc.id = c->t.queueid[0] ? c->t.queueid : "NOQUEUE";
    mc.sender = &env;
    mc.client_name = c->client_name;
    mc.client = c->have_addr ? &c->addr : NULL;
    /* Table, then policy zones and sender signals: the order lives in decide.c. */
    if (tt_decide_mail(cfg, c->t.dns, &mc, &c->tls, &c->t.verdict) != TT_DNSP_OK) {
        observe(c, TT_STAGE_MAIL, &c->t.verdict, TT_ACTION_DEFER);
        smfi_setreply(ctx, "451", "4.4.3", "tlstrust: DNS policy lookup failed, try again later");
        return SMFIS_TEMPFAIL;
    }
    return finish_mail(ctx, c);
}

static sfsistat envrcpt_cb(SMFICTX *ctx, char **argv)
{
    struct conn *c = smfi_getpriv(ctx);
    const struct tt_config *cfg;
    const char *rcpt = argv != NULL && argv[0] != NULL ? argv[0] : "";
    struct tt_verdict v = {0};
    struct tt_envelope env;

    if (c == NULL || c->t.degraded || c->internal)
        return SMFIS_CONTINUE;
    cfg = cfg_of(c);
    if (c->t.queueid[0] == '\0')
        copy_macro(ctx, "i", c->t.queueid, sizeof(c->t.queueid));
    if (cfg->table == NULL)
        return SMFIS_CONTINUE;
    /* Where the MTA will deliver, where the client said, and where a % or ! hop leads. */
    tt_envelope_domains(rcpt, smfi_getsymval(ctx, "{rcpt_addr}"), true, &env);
    if (env.kind == TT_ADDR_INVALID) {
        char q[264];

        tt_escape_quoted(rcpt, strlen(rcpt), q, sizeof(q));
        tt_log(LOG_NOTICE, "%s: client=%s from=%s rcpt=%s: malformed recipient address",
               c->t.queueid[0] ? c->t.queueid : "NOQUEUE", c->client_log, c->t.from_log, q);
        observe(c, TT_STAGE_RCPT, &c->t.verdict, TT_ACTION_REJECT);
        smfi_setreply(ctx, "553", "5.1.3", "tlstrust: malformed recipient address");
        return SMFIS_REJECT;
    }
    judge_recipient(c, &env, &v);
    if (tt_policy_refuses(&v)) {
        struct tt_verdict saved = c->t.verdict;

        c->t.verdict = v;
        log_decision(c, "refused at RCPT", rcpt);
        c->t.verdict = saved;
        observe(c, TT_STAGE_RCPT, &v, v.action);
        return refuse(ctx, &v);
    }
    tt_policy_merge(&c->t.verdict, &v);
    return SMFIS_CONTINUE;
}

static sfsistat refuse_now(SMFICTX *ctx, const char *xcode, const char *why)
{
    smfi_setreply(ctx, "550", (char *)xcode, (char *)why);
    return SMFIS_REJECT;
}

/*
 * A header makes us refuse the message. Without a reply at headers
 * (nr_hdr), the refusal waits for end of message: the client hears it
 * after its final dot either way, with the same reply.
 */
static sfsistat refuse_message(SMFICTX *ctx, struct conn *c, const char *xcode, const char *why)
{
    tt_log(LOG_NOTICE, "%s: client=%s from=%s: refused: %s",
           c->t.queueid[0] ? c->t.queueid : "NOQUEUE", c->client_log, c->t.from_log, why);
    observe(c, TT_STAGE_HEADER, &c->t.verdict, TT_ACTION_REJECT);
    if (!c->nr_hdr)
        return refuse_now(ctx, xcode, why);
    c->t.refuse_xcode = xcode;
    c->t.refuse_why = why;
    return SMFIS_NOREPLY;
}

static sfsistat header_cb(SMFICTX *ctx, char *name, char *value)
{
    struct conn *c = smfi_getpriv(ctx);
    struct tt_snapshot *snap;
    enum tt_header_verdict v;
    bool forged, exact;

    if (c != NULL) {
        const struct tt_config *cfg = cfg_of(c);
        const sfsistat go_on = c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;

        if (c->internal || c->t.refuse_why != NULL)
            return go_on;
        v = tt_forgery_header(&c->t.forgery, name, value, cfg->tag_header, cfg->auth_results,
                              c->authserv);
        if (v != TT_HDR_OK) {
            const char *xcode, *why = tt_header_refusal(v, &xcode);

            return refuse_message(ctx, c, xcode, why);
        }
        return go_on;
    }
    /* No session state (OnError accept after a failed allocation): refuse forgeries. */
    snap = tt_snapshot_get();
    forged = tt_header_name_is(name, tt_snapshot_config(snap)->tag_header, &exact);
    tt_snapshot_put(snap);
    if (forged) {
        tt_log(LOG_ERR, "forged %s header in a session without state; tempfail", name);
        smfi_setreply(ctx, "451", "4.3.0", "tlstrust: internal error, try again later");
        return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

/* One deletion the forgery rules ask for (the fault hook fails the first). */
static bool delete_header(void *ctx, const char *name, unsigned int index)
{
    return !tt_fault("chgheader") &&
           smfi_chgheader(ctx, (char *)name, (int)index, NULL) == MI_SUCCESS;
}

/* Delete forged tags and our forged Authentication-Results (forgery.c). */
static bool strip_forgeries(SMFICTX *ctx, struct conn *c)
{
    const struct tt_config *cfg = cfg_of(c);

    if (!tt_forgery_strip(&c->t.forgery, delete_header, ctx))
        return false;
    tt_counters_forged(c->t.forgery.tag_count);
    if (c->t.forgery.tag_count > 0)
        tt_log(LOG_NOTICE, "%s: removed %u forged %s header(s) from %s",
               c->t.queueid[0] ? c->t.queueid : "NOQUEUE", c->t.forgery.tag_count, cfg->tag_header,
               c->client_log);
    return true;
}

static sfsistat eom_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);
    const struct tt_config *cfg;
    char value[TT_TAG_MAX];

    if (c == NULL)
        return SMFIS_CONTINUE;
    cfg = cfg_of(c);
    copy_macro(ctx, "i", c->t.queueid, sizeof(c->t.queueid));
    if (c->t.refuse_why != NULL) {
        sfsistat r = refuse_now(ctx, c->t.refuse_xcode, c->t.refuse_why);

        txn_reset(c);
        return r;
    }
    if (c->internal) {
        tt_log(LOG_INFO, "%s: client=%s is internal: incoming tags kept, none added", c->t.queueid,
               c->client_log);
        txn_reset(c);
        return SMFIS_CONTINUE;
    }
    /* The tag guarantee does not bend to OnError: a forgery we cannot remove is refused. */
    if (!strip_forgeries(ctx, c)) {
        tt_log(LOG_ERR, "%s: cannot remove forged headers; tempfail", c->t.queueid);
        smfi_setreply(ctx, "451", "4.3.0", "tlstrust: internal error, try again later");
        txn_reset(c);
        return SMFIS_TEMPFAIL;
    }
    if (c->t.degraded) {
        tt_log(LOG_WARNING, "%s: delivered without tag after an internal error (OnError accept)",
               c->t.queueid);
        observe(c, TT_STAGE_EOM, &c->t.verdict, TT_ACTION_UNSET);
        txn_reset(c);
        return SMFIS_CONTINUE;
    }
    if (cfg->auth_results) {
        tt_authres_value(value, sizeof(value), &c->tls, c->authserv);
        if (smfi_insheader(ctx, 0, "Authentication-Results", value) != MI_SUCCESS) {
            sfsistat r = internal_error(ctx, c, "smfi_insheader(Authentication-Results) failed");

            txn_reset(c);
            return r;
        }
    }
    tt_tag_value(value, sizeof(value), &c->tls, &c->t.verdict, c->authserv);
    if (tt_fault("insheader") || smfi_insheader(ctx, 0, cfg->tag_header, value) != MI_SUCCESS) {
        sfsistat r = internal_error(ctx, c, "cannot add the tag header");

        txn_reset(c);
        return r;
    }
    log_decision(c, "tagged", NULL);
    observe(c, TT_STAGE_EOM, &c->t.verdict, TT_ACTION_UNSET);
    txn_reset(c);
    return SMFIS_CONTINUE;
}

static sfsistat abort_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c != NULL)
        txn_reset(c);
    return SMFIS_CONTINUE;
}

static sfsistat close_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c != NULL) {
        txn_reset(c);
        tt_snapshot_put(c->snap);
        free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc tt_milter_desc = {
    .xxfi_name = "tlstrust",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
    .xxfi_connect = connect_cb,
    .xxfi_helo = helo_cb,
    .xxfi_envfrom = envfrom_cb,
    .xxfi_envrcpt = envrcpt_cb,
    .xxfi_header = header_cb,
    .xxfi_eom = eom_cb,
    .xxfi_abort = abort_cb,
    .xxfi_close = close_cb,
    .xxfi_negotiate = negotiate_cb,
};
