/*
 * dnspolicy.c - DNS as a policy source. A policy zone record
 *   v=TLSTRUST1; req=trusted; action=defer; subject=*.example; min_version=TLSv1.2
 * is read with the rule grammar of the domain table (rule.c), so a record
 * is held to exactly the checks of a table line. The zone is walked
 * from the top: the sender domain's suffixes of 1 to PolicyZoneDepth
 * labels, and the most specific usable record wins. DNSSEC comes from the
 * resolver's AD bit.
 * Every lookup is charged to the message's budget. A failed lookup ends
 * the search under OnDnsError tempfail; under ignore it is logged and the
 * search goes on without it, until the budget runs out.
 */
#include "dnspolicy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "address.h"
#include "dns.h"
#include "log.h"
#include "rule.h"

/* Key of the throw-away one-line table a record is parsed into. */
/* MX hosts whose TLSA records are looked at. */
#define MAX_MX 4
/* Most names one zone walk asks (PolicyZoneDepth's maximum). */
#define MAX_WALK 10
/* Most labels in a name of 253 bytes. */
#define MAX_LABELS 127

static const char *tag_names[] = {"req",         "action",   "subject",
                                  "min_version", "min_bits", "identity"};

/* A tag value: printable ASCII without blanks, quotes, '#', ';', '=' or '\'. */
static bool value_ok(const char *v, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++)
        if (v[i] <= 0x20 || v[i] >= 0x7f || strchr("\"#;=\\", v[i]) != NULL)
            return false;
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* A rule's strings go into the record's own buffer: nothing to free. */
static void *record_store(void *owner, size_t n)
{
    struct tt_dnsrule *out = owner;
    size_t start = (out->used + sizeof(void *) - 1) & ~(sizeof(void *) - 1);

    if (start > sizeof(out->store) || sizeof(out->store) - start < n)
        return NULL;
    out->used = start + n;
    return out->store + start;
}

/* One tag of a record, value copied out and NUL-terminated, into the rule. */
static bool apply_tag(struct tt_dnsrule *out, size_t tag, const char *v, size_t n,
                      const char *network, const struct tt_trust *trust, unsigned int *seen,
                      char *err, size_t errsz)
{
    struct tt_rule_store store = {record_store, out};
    char value[1024];
    size_t i, commas = 0;

    memcpy(value, v, n);
    value[n] = '\0';
    switch (tag) {
    case 0:
        /* req=trusted in a network's zone means that network, when it is one of ours. */
        if (strcasecmp(value, "trusted") == 0 && network != NULL &&
            tt_trust_find(trust, network) != NULL)
            snprintf(value, sizeof(value), "trusted:%s", network);
        return tt_rule_set_req(&out->rule, value, trust, err, errsz);
    case 1:
        return tt_rule_set_action(&out->rule, value, err, errsz);
    default:
        for (i = 0; i < n; i++)
            commas += value[i] == ',';
        if (tag == 2 && commas >= TT_DNSP_SUBJECTS) {
            snprintf(err, errsz, "too many subject patterns (at most %d)", TT_DNSP_SUBJECTS);
            return false;
        }
        return tt_rule_set_attr(&out->rule, tag_names[tag], value, seen, &store, err, errsz);
    }
}

enum tt_dnsrec tt_dnspolicy_parse(const char *txt, const char *key, const char *network,
                                  const struct tt_trust *trust, struct tt_dnsrule *out, char *err,
                                  size_t errsz)
{
    const char *s = txt, *ver;
    unsigned int seen = 0, attrs = 0;
    size_t vn;

    memset(out, 0, sizeof(*out));
    err[0] = '\0';
    out->rule.type = TT_KEY_FROM;
    snprintf(out->key, sizeof(out->key), "%s", key);
    out->rule.key = out->key;
    while (*s == ' ' || *s == '\t')
        s++;
    if (strncasecmp(s, "v=TLSTRUST", 10) != 0)
        return TT_DNSREC_NOT_OURS;
    /* Printable ASCII only, so that no message below can carry control bytes into a log. */
    for (ver = txt; *ver != '\0'; ver++)
        if ((*ver < 0x20 && *ver != '\t') || *ver >= 0x7f) {
            snprintf(err, errsz, "non-printable byte in record");
            return TT_DNSREC_BROKEN;
        }
    ver = s + 10;
    vn = strcspn(ver, ";");
    s = ver + vn;
    trim(&ver, &vn);
    if (vn != 1 || ver[0] != '1') {
        snprintf(err, errsz, "unknown version 'v=TLSTRUST%.*s' (this is TLSTRUST1)", (int)vn, ver);
        return TT_DNSREC_VERSION;
    }
    if (strlen(txt) > 2048) {
        snprintf(err, errsz, "record longer than 2048 bytes");
        return TT_DNSREC_BROKEN;
    }

    while (*s == ';') {
        const char *tag = s + 1, *eq, *v;
        size_t tn, n, i;

        s = tag + strcspn(tag, ";");
        n = (size_t)(s - tag);
        trim(&tag, &n);
        if (n == 0)
            continue; /* empty segment: "a=1;;b=2" or a final ';' */
        eq = memchr(tag, '=', n);
        if (eq == NULL) {
            snprintf(err, errsz, "expected tag=value, got '%.*s'", (int)n, tag);
            return TT_DNSREC_BROKEN;
        }
        tn = (size_t)(eq - tag);
        v = eq + 1;
        n -= tn + 1;
        trim(&tag, &tn);
        trim(&v, &n);
        for (i = 0; i < sizeof(tag_names) / sizeof(tag_names[0]); i++)
            if (strlen(tag_names[i]) == tn && strncasecmp(tag, tag_names[i], tn) == 0)
                break;
        if (i == sizeof(tag_names) / sizeof(tag_names[0])) {
            snprintf(err, errsz, "unknown tag '%.*s'", (int)tn, tag);
            return TT_DNSREC_BROKEN;
        }
        if (seen & (1u << i)) {
            snprintf(err, errsz, "tag '%s' given twice", tag_names[i]);
            return TT_DNSREC_BROKEN;
        }
        seen |= 1u << i;
        if (!value_ok(v, n) || n > 1000) {
            snprintf(err, errsz, "bad value for tag '%s'", tag_names[i]);
            return TT_DNSREC_BROKEN;
        }
        if (!apply_tag(out, i, v, n, network, trust, &attrs, err, errsz))
            return TT_DNSREC_BROKEN;
    }
    if (*s != '\0') {
        snprintf(err, errsz, "expected ';' after the version");
        return TT_DNSREC_BROKEN;
    }
    if ((seen & 1u) == 0) {
        snprintf(err, errsz, "missing req= tag");
        return TT_DNSREC_BROKEN;
    }
    if (!tt_rule_check(&out->rule, attrs, err, errsz))
        return TT_DNSREC_BROKEN;
    return TT_DNSREC_OK;
}

/* ---- lookups under the message's budget ---- */

/* A lookup that may fail; NULL means m->failed says why. NXDOMAIN and NODATA are answers. */
static const struct tt_dns_answer *lookup(struct tt_dnsmsg *m, const struct tt_config *cfg,
                                          const char *name, uint16_t type)
{
    const struct tt_dns_answer *a;
    bool hit;

    if (m->dns == NULL) {
        snprintf(m->failed, sizeof(m->failed), "%s %s: no resolver", tt_dns_type_name(type), name);
        return NULL;
    }
    if (m->used >= (unsigned int)cfg->dns_budget) {
        snprintf(m->failed, sizeof(m->failed), "%s %s: DnsQueryBudget (%d) exhausted",
                 tt_dns_type_name(type), name, cfg->dns_budget);
        return NULL;
    }
    m->used++;
    a = tt_dns_lookup(m->dns, name, type, &hit);
    if (!hit)
        m->sent++;
    if (a == NULL) {
        snprintf(m->failed, sizeof(m->failed), "%s %s: out of memory", tt_dns_type_name(type),
                 name);
        return NULL;
    }
    if (a->status >= TT_DNS_SERVFAIL) {
        snprintf(m->failed, sizeof(m->failed), "%s %s: %s", tt_dns_type_name(type), name,
                 tt_dns_status_name(a->status));
        tt_dns_answer_put(a);
        return NULL;
    }
    return a;
}

static enum tt_dnsp_status dns_failed(const struct tt_dnsmsg *m, const struct tt_config *cfg,
                                      const char *id)
{
    tt_log(LOG_WARNING, "%s: DNS lookup failed: %s; OnDnsError %s", id, m->failed,
           cfg->on_dns_error_ignore ? "ignore (continuing without it)" : "tempfail");
    return cfg->on_dns_error_ignore ? TT_DNSP_OK : TT_DNSP_TEMPFAIL;
}

static struct tt_dnsrule *next_slot(struct tt_dnsmsg *m)
{
    return m->nrules < TT_DNSP_RULES ? &m->rules[m->nrules] : NULL;
}

/* Examine the TXT answer at qname; true when a usable record was stored. */
static bool zone_record(struct tt_dnsmsg *m, const struct tt_config *cfg, const char *id,
                        const struct tt_policy_zone *z, const char *owner, const char *qname,
                        const struct tt_dns_answer *a)
{
    struct tt_dnsrule *slot = next_slot(m);
    const char *rec = NULL;
    char key[340], err[300];
    size_t i, ours = 0;

    for (i = 0; i < a->n; i++) {
        const char *s = a->rdata[i] + strspn(a->rdata[i], " \t");

        if (strncasecmp(s, "v=TLSTRUST", 10) == 0) {
            ours++;
            rec = a->rdata[i];
        }
    }
    if (ours == 0 || slot == NULL)
        return false;
    if (ours > 1) {
        tt_log(LOG_WARNING, "%s: policy zone %s: %zu v=TLSTRUST records at %s; all ignored", id,
               z->network, ours, qname);
        return false;
    }
    if (cfg->zone_require_dnssec && !a->ad) {
        tt_log(LOG_WARNING,
               "%s: policy zone %s: record at %s ignored: answer not DNSSEC-validated (no AD "
               "bit from the resolver)",
               id, z->network, qname);
        return false;
    }
    snprintf(key, sizeof(key), "zone:%s:%s", z->network, owner);
    switch (tt_dnspolicy_parse(rec, key, z->network, &cfg->trust, slot, err, sizeof(err))) {
    case TT_DNSREC_OK:
        snprintf(slot->source, sizeof(slot->source), "zone %s record %.253s TXT \"%.200s\" (%s)",
                 z->network, qname, rec,
                 a->ad ? "AD set: DNSSEC-validated" : "no AD: not validated, DNSSEC not required");
        m->nrules++;
        tt_log(LOG_DEBUG, "%s: %s", id, slot->source);
        return true;
    case TT_DNSREC_VERSION:
        tt_log(LOG_WARNING, "%s: policy zone %s: record at %s ignored: %s", id, z->network, qname,
               err);
        return false;
    default:
        tt_log(LOG_WARNING, "%s: policy zone %s: broken record at %s ignored: %s", id, z->network,
               qname, err);
        return false;
    }
}

/* A copy of DNS text for logs and tlstrustctl: non-printable bytes become '?'. */
static void printable(char *dst, size_t dstsz, const char *src)
{
    size_t i;

    for (i = 0; i + 1 < dstsz && src[i] != '\0'; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
    if (dstsz > 0)
        dst[i] = '\0';
}

static void signal_rule(struct tt_dnsmsg *m, const struct tt_config *cfg, const char *kind,
                        const char *domain, const char *source)
{
    struct tt_dnsrule *slot = next_slot(m);

    if (slot == NULL)
        return;
    memset(slot, 0, sizeof(*slot));
    snprintf(slot->key, sizeof(slot->key), "dns:%s:%s", kind, domain);
    snprintf(slot->source, sizeof(slot->source), "%s", source);
    slot->rule.type = TT_KEY_FROM;
    slot->rule.req = cfg->sender_req;
    slot->rule.network = cfg->sender_network;
    slot->rule.action = cfg->sender_action;
    slot->rule.key = slot->key;
    m->nrules++;
}

/* MTA-STS, then DANE on the MX hosts. false: a lookup failed (m->failed). */
static bool sender_signals(struct tt_dnsmsg *m, const struct tt_config *cfg, const char *id,
                           const char *domain)
{
    const struct tt_dns_answer *a, *mx;
    char name[300], src[600];
    size_t i, checked = 0;

    snprintf(name, sizeof(name), "_mta-sts.%s", domain);
    if ((a = lookup(m, cfg, name, TT_DNS_TXT)) == NULL)
        return false;
    for (i = 0; i < a->n; i++) {
        const char *s = a->rdata[i];

        if (strncmp(s, "v=STSv1", 7) == 0 && strchr("; \t", s[7]) != NULL) {
            char text[201];

            printable(text, sizeof(text), s);
            snprintf(src, sizeof(src), "DNS signal: MTA-STS record %s TXT \"%s\" (%s)", name, text,
                     a->ad ? "AD set" : "no AD");
            signal_rule(m, cfg, "mta-sts", domain, src);
            tt_dns_answer_put(a);
            return true;
        }
    }
    tt_dns_answer_put(a);
    if ((mx = lookup(m, cfg, domain, TT_DNS_MX)) == NULL)
        return false;
    for (i = 0; i < mx->n && checked < MAX_MX; i++) {
        const char *host = mx->rdata[i];

        if (host[0] == '\0' || strcmp(host, ".") == 0 || strlen(host) > 250)
            continue; /* null MX (RFC 7505) */
        if (m->used >= (unsigned int)cfg->dns_budget) {
            tt_log(LOG_INFO, "%s: DnsQueryBudget reached: TLSA of %s's other MX hosts not checked",
                   id, domain);
            break;
        }
        checked++;
        snprintf(name, sizeof(name), "_25._tcp.%s", host);
        if ((a = lookup(m, cfg, name, TT_DNS_TLSA)) == NULL) {
            tt_dns_answer_put(mx);
            return false;
        }
        if (a->n > 0 && a->ad) {
            snprintf(src, sizeof(src), "DNS signal: DANE, %zu TLSA record(s) at %s (AD set)", a->n,
                     name);
            signal_rule(m, cfg, "dane", domain, src);
            tt_dns_answer_put(a);
            break;
        }
        if (a->n > 0)
            tt_log(LOG_NOTICE, "%s: TLSA at %s ignored: answer not DNSSEC-validated (no AD bit)",
                   id, name);
        tt_dns_answer_put(a);
    }
    tt_dns_answer_put(mx);
    return true;
}

/*
 * The suffixes of domain asked in a zone walk, shortest first: the names of
 * 1, 2, ... labels, at most depth of them. Returns how many.
 */
static size_t walk_names(const char *domain, int depth, const char *names[MAX_WALK])
{
    const char *starts[MAX_LABELS + 1];
    size_t nlabels = 0, n;
    const char *p;

    starts[nlabels++] = domain;
    for (p = domain; *p != '\0' && nlabels <= MAX_LABELS; p++)
        if (*p == '.')
            starts[nlabels++] = p + 1;
    for (n = 0; n < nlabels && n < (size_t)depth && n < MAX_WALK; n++)
        names[n] = starts[nlabels - 1 - n];
    return n;
}

static void put_answers(const struct tt_dns_answer **a, size_t n)
{
    while (n > 0)
        tt_dns_answer_put(a[--n]);
}

enum walk {
    WALK_DONE,     /* every name asked, or failures ignored */
    WALK_TEMPFAIL, /* a lookup failed under OnDnsError tempfail (m->failed) */
    WALK_STOP,     /* ignore, but no lookup can be made any more (budget, no resolver) */
};

/*
 * A lookup failed (m->failed). Under ignore it is logged here and the
 * search goes on, unless the failure was that no lookup could be made.
 */
static enum walk lookup_failed(const struct tt_dnsmsg *m, const struct tt_config *cfg,
                               const char *id, unsigned int used_before)
{
    if (!cfg->on_dns_error_ignore)
        return WALK_TEMPFAIL;
    (void)dns_failed(m, cfg, id);
    return m->used == used_before ? WALK_STOP : WALK_DONE;
}

/*
 * One zone's walk. The sender chooses how deep its domain is, so the walk
 * is bounded from the top: it asks for the domain's suffixes of 1 to
 * PolicyZoneDepth labels, shortest first, never for deeper names. A
 * member's record, a few labels from the top, is thus met whatever the
 * depth of the sender below it, in at most PolicyZoneDepth lookups. Among
 * the records found the most specific usable one wins, as a nearer
 * parent does in the table. Under OnDnsError ignore a failed name is
 * skipped and the walk goes on.
 */
static enum walk zone_walk(struct tt_dnsmsg *m, const struct tt_config *cfg, const char *id,
                           const struct tt_policy_zone *z, const char *domain)
{
    const char *owners[MAX_WALK];
    const struct tt_dns_answer *answers[MAX_WALK];
    size_t nnames = walk_names(domain, cfg->zone_depth, owners), fetched, i;
    char qname[600];
    enum walk st = WALK_DONE;

    if (nnames == 0)
        return WALK_DONE;
    if (owners[nnames - 1] != domain)
        tt_log(LOG_DEBUG,
               "%s: policy zone %s: %s is deeper than PolicyZoneDepth (%d): %s is the "
               "deepest name asked",
               id, z->network, domain, cfg->zone_depth, owners[nnames - 1]);
    for (fetched = 0; fetched < nnames; fetched++) {
        unsigned int used = m->used;

        /* The names only grow: past 253 bytes none can be asked. */
        if (strlen(owners[fetched]) + 1 + strlen(z->zone) > 253)
            break;
        snprintf(qname, sizeof(qname), "%s.%s", owners[fetched], z->zone);
        answers[fetched] = lookup(m, cfg, qname, TT_DNS_TXT);
        if (answers[fetched] == NULL && (st = lookup_failed(m, cfg, id, used)) != WALK_DONE)
            break;
    }
    if (st == WALK_TEMPFAIL) {
        put_answers(answers, fetched);
        return st;
    }
    /* The most specific first; a record that cannot be used gives way to its parent's. */
    for (i = fetched; i > 0; i--) {
        if (answers[i - 1] == NULL)
            continue;
        snprintf(qname, sizeof(qname), "%s.%s", owners[i - 1], z->zone);
        if (zone_record(m, cfg, id, z, owners[i - 1], qname, answers[i - 1]))
            break;
    }
    put_answers(answers, fetched);
    return st;
}

/* A domain the DNS can hold records for; false (logged) otherwise. */
static bool askable(const char *id, const char *domain)
{
    if (domain == NULL || domain[0] == '\0')
        return false;
    if (!tt_is_dns_name(domain, false)) {
        /* No record can exist under a name DNS cannot carry (UTF-8: its A-label would). */
        tt_log(LOG_DEBUG, "%s: domain is not a DNS host name: no DNS policy", id);
        return false;
    }
    return true;
}

/* The zones in order; WALK_TEMPFAIL under tempfail, WALK_STOP when no lookup can be made. */
static enum walk zones_walk(struct tt_dnsmsg *m, const struct tt_config *cfg, const char *id,
                            const char *domain)
{
    size_t zi;

    /* Under ignore a failed zone does not keep the next from being asked. */
    for (zi = 0; zi < cfg->nzones && next_slot(m) != NULL; zi++) {
        enum walk st = zone_walk(m, cfg, id, &cfg->zones[zi], domain);

        if (st != WALK_DONE)
            return st;
    }
    return WALK_DONE;
}

enum tt_dnsp_status tt_dnspolicy_find_zones(struct tt_dnsmsg *m, const struct tt_config *cfg,
                                            const char *id, const char *domain)
{
    if (m->dns == NULL || !askable(id, domain))
        return TT_DNSP_OK;
    return zones_walk(m, cfg, id, domain) == WALK_TEMPFAIL ? dns_failed(m, cfg, id) : TT_DNSP_OK;
}

enum tt_dnsp_status tt_dnspolicy_find(struct tt_dnsmsg *m, const struct tt_config *cfg,
                                      const char *id, const char *domain)
{
    enum walk st;

    if (m->dns == NULL || !askable(id, domain))
        return TT_DNSP_OK;
    st = zones_walk(m, cfg, id, domain);
    if (st == WALK_TEMPFAIL)
        return dns_failed(m, cfg, id);
    if (st == WALK_STOP)
        return TT_DNSP_OK;
    if (m->nrules == 0 && cfg->sender_signals && !sender_signals(m, cfg, id, domain))
        return dns_failed(m, cfg, id);
    return TT_DNSP_OK;
}

enum tt_dnsp_status tt_dnspolicy_identity(struct tt_dnsmsg *m, const struct tt_config *cfg,
                                          const char *id, const struct tt_tls *tls,
                                          const struct tt_cidr *client, struct tt_verdict *v)
{
    const struct tt_dns_answer *a;
    const char *why = NULL;
    size_t i;

    if (v->result != TT_RESULT_PASS || v->rule == NULL || !v->rule->identity_dns)
        return TT_DNSP_OK;
    if (tls->level < TT_LEVEL_VERIFIED || tls->subject_cn[0] == '\0')
        why = "verified TLS client certificate required (identity check)";
    else if (client == NULL)
        why = "client address unknown (identity check)";
    else if (!tt_is_dns_name(tls->subject_cn, false))
        why = "TLS client certificate subject is not a host name (identity check)";
    if (why == NULL) {
        uint16_t type = client->family == AF_INET ? TT_DNS_A : TT_DNS_AAAA;
        size_t alen = client->family == AF_INET ? 4 : 16;

        if ((a = lookup(m, cfg, tls->subject_cn, type)) == NULL) {
            enum tt_dnsp_status st = dns_failed(m, cfg, id);

            if (st == TT_DNSP_OK)
                tt_log(LOG_WARNING, "%s: identity=dns of %s not checked", id, tls->subject_cn);
            return st;
        }
        why = "TLS client certificate host name does not resolve to the client address";
        for (i = 0; i < a->n; i++) {
            struct tt_cidr x;

            if (tt_ip_parse(a->rdata[i], &x) && x.family == client->family &&
                memcmp(x.addr, client->addr, alen) == 0) {
                why = NULL;
                break;
            }
        }
        tt_log(LOG_DEBUG, "%s: identity=dns: %s %s has %zu address(es)%s: %s", id, tls->subject_cn,
               tt_dns_type_name(type), a->n, a->ad ? " (AD)" : "",
               why == NULL ? "client address among them" : "client address not among them");
        tt_dns_answer_put(a);
    }
    if (why != NULL) {
        v->result = TT_RESULT_FAIL;
        v->no_tls = false;
        v->reason = why;
    }
    return TT_DNSP_OK;
}
