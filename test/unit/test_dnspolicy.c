/*
 * test_dnspolicy.c - the policy zone TXT grammar (valid records, unknown
 * versions, broken records), the table's identity=dns attribute, the DNS
 * configuration keys with the start-up bound warning, and the zone walk
 * against a tiny DNS server in a thread on 127.0.0.1 (the daemon's
 * lookups are tested against ldns-testns in test/dns).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "dnspolicy.h"
#include "helpers.h"

static struct tt_trust trust;

/* ---- a policy zone server: records below, NXDOMAIN elsewhere ---- */

static const struct {
    const char *name; /* question name */
    const char *txt;  /* NULL: SERVFAIL */
} zone_data[] = {
    {"ministerio.example.policy.test.", "v=TLSTRUST1; req=encrypt; action=reject"},
    {"own.ministerio.example.policy.test.", "v=TLSTRUST1; req=none"},
    {"deeper.own.ministerio.example.policy.test.", "v=TLSTRUST1; req=verify; action=reject"},
    {"example.policy.flaky.test.", NULL},
    {"ministerio.example.policy.flaky.test.", "v=TLSTRUST1; req=verify; action=defer"},
    {"example.policy.broken.test.", NULL},
    {"ministerio.example.policy.broken.test.", NULL},
    {"a.ministerio.example.policy.broken.test.", NULL},
};

static int srv_port;
static pthread_mutex_t asked_lock = PTHREAD_MUTEX_INITIALIZER;
static char asked[4096]; /* names asked, each followed by '\n' */

static void zone_answer(int fd, const uint8_t *q, size_t qlen, const struct sockaddr_storage *from,
                        socklen_t fromlen)
{
    ldns_pkt *query = NULL, *a;
    ldns_rr *qrr, *rr = NULL;
    char *name, line[600];
    uint8_t *wire = NULL;
    size_t wlen, i, n = sizeof(zone_data) / sizeof(zone_data[0]);

    if (ldns_wire2pkt(&query, q, qlen) != LDNS_STATUS_OK)
        return;
    qrr = ldns_rr_list_rr(ldns_pkt_question(query), 0);
    name = ldns_rdf2str(ldns_rr_owner(qrr));
    pthread_mutex_lock(&asked_lock);
    snprintf(asked + strlen(asked), sizeof(asked) - strlen(asked), "%s\n", name);
    pthread_mutex_unlock(&asked_lock);
    a = ldns_pkt_new();
    ldns_pkt_set_id(a, ldns_pkt_id(query));
    ldns_pkt_set_qr(a, true);
    ldns_pkt_set_ad(a, true);
    ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
    for (i = 0; i < n && strcmp(name, zone_data[i].name) != 0; i++)
        ;
    if (i < n && zone_data[i].txt == NULL) {
        ldns_pkt_set_rcode(a, LDNS_RCODE_SERVFAIL);
    } else if (i < n) {
        snprintf(line, sizeof(line), "%s 60 IN TXT \"%s\"", name, zone_data[i].txt);
        ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
    } else {
        ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
        ldns_rr_new_frm_str(&rr, "test. 60 IN SOA ns.test. h.test. 1 2 3 4 60", 0, NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_AUTHORITY, rr);
    }
    if (ldns_pkt2wire(&wire, a, &wlen) == LDNS_STATUS_OK)
        (void)sendto(fd, wire, wlen, 0, (const struct sockaddr *)from, fromlen);
    free(wire);
    ldns_pkt_free(a);
    free(name);
    ldns_pkt_free(query);
}

/* Whether the server was asked for name (with its final dot). */
static bool was_asked(const char *name)
{
    char needle[300];
    bool found;

    snprintf(needle, sizeof(needle), "\n%s\n", name);
    pthread_mutex_lock(&asked_lock);
    found = strstr(asked, needle) != NULL || strncmp(asked, needle + 1, strlen(needle + 1)) == 0;
    pthread_mutex_unlock(&asked_lock);
    return found;
}

static int setup(void **state)
{
    (void)state;
    srv_port = th_udp_start(zone_answer);
    if (srv_port < 0)
        return -1;
    return th_trust_redsegura(&trust, "CN=Red Segura CA");
}

/* The resolver of the last zone_conf(): a fresh cache for each configuration, as a daemon's. */
static struct tt_dns *zone_dns;

static int teardown(void **state)
{
    (void)state;
    tt_dns_free(zone_dns);
    th_udp_stop();
    tt_trust_free(&trust);
    return 0;
}

static enum tt_dnsrec parse(const char *txt, struct tt_dnsrule *r, char *err)
{
    return tt_dnspolicy_parse(txt, "zone:redsegura:ministerio.example", "redsegura", &trust, r, err,
                              300);
}

static void test_valid_full(void **state)
{
    struct tt_dnsrule r;
    char err[300];

    (void)state;
    assert_int_equal(parse("v=TLSTRUST1; req=trusted; action=defer; subject=*.ministerio.example,"
                           "mx.other.example; min_version=TLSv1.2; min_bits=128",
                           &r, err),
                     TT_DNSREC_OK);
    assert_int_equal(r.rule.req, TT_REQ_TRUSTED);
    /* "trusted" in a zone record means the zone's own network when it is configured. */
    assert_string_equal(r.rule.network, "redsegura");
    assert_int_equal(r.rule.action, TT_ACTION_DEFER);
    assert_int_equal(r.rule.min_version, 12);
    assert_int_equal(r.rule.min_bits, 128);
    assert_non_null(r.rule.subjects);
    assert_string_equal(r.rule.subjects[0], "*.ministerio.example");
    assert_string_equal(r.rule.subjects[1], "mx.other.example");
    assert_null(r.rule.subjects[2]);
    assert_string_equal(r.rule.key, "zone:redsegura:ministerio.example");
    assert_false(r.rule.identity_dns);
    assert_null(r.rule.reply);
}

static void test_valid_minimal_and_spacing(void **state)
{
    struct tt_dnsrule r;
    char err[300];

    (void)state;
    assert_int_equal(parse("v=TLSTRUST1;req=encrypt", &r, err), TT_DNSREC_OK);
    assert_int_equal(r.rule.req, TT_REQ_ENCRYPT);
    assert_int_equal(r.rule.action, TT_ACTION_UNSET);
    assert_null(r.rule.network);
    assert_int_equal(parse("  v=TLSTRUST1 ;  REQ = verify ; identity=dns ;", &r, err),
                     TT_DNSREC_OK);
    assert_int_equal(r.rule.req, TT_REQ_VERIFY);
    assert_true(r.rule.identity_dns);
    assert_int_equal(parse("v=TLSTRUST1; req=trusted:redsegura; action=monitor", &r, err),
                     TT_DNSREC_OK);
    assert_string_equal(r.rule.network, "redsegura");
    assert_int_equal(parse("v=TLSTRUST1; req=none", &r, err), TT_DNSREC_OK);
    assert_int_equal(r.rule.req, TT_REQ_NONE);
}

static void test_trusted_without_local_network(void **state)
{
    struct tt_dnsrule r;
    char err[300];

    (void)state;
    /* A zone of a network we hold no CAs for: "trusted" is any trusted network. */
    assert_int_equal(tt_dnspolicy_parse("v=TLSTRUST1; req=trusted", "zone:other:x.example", "other",
                                        &trust, &r, err, sizeof(err)),
                     TT_DNSREC_OK);
    assert_null(r.rule.network);
}

static void test_not_ours_and_versions(void **state)
{
    struct tt_dnsrule r;
    char err[300];

    (void)state;
    assert_int_equal(parse("v=spf1 -all", &r, err), TT_DNSREC_NOT_OURS);
    assert_int_equal(parse("", &r, err), TT_DNSREC_NOT_OURS);
    assert_int_equal(parse("v=TLSTRUST2; req=encrypt", &r, err), TT_DNSREC_VERSION);
    assert_non_null(strstr(err, "unknown version"));
    assert_int_equal(parse("v=TLSTRUST; req=encrypt", &r, err), TT_DNSREC_VERSION);
    assert_int_equal(parse("v=TLSTRUST10; req=encrypt", &r, err), TT_DNSREC_VERSION);
}

static void test_broken(void **state)
{
    static const struct {
        const char *txt;
        const char *msg;
    } cases[] = {
        {"v=TLSTRUST1", "missing req="},
        {"v=TLSTRUST1;", "missing req="},
        {"v=TLSTRUST1; action=reject", "missing req="},
        {"v=TLSTRUST1; req=bogus", "unknown requirement"},
        {"v=TLSTRUST1; req=trusted:nosuchnet", "unknown network"},
        {"v=TLSTRUST1; req=encrypt; action=bounce", "unknown action"},
        {"v=TLSTRUST1; req=encrypt; req=verify", "given twice"},
        {"v=TLSTRUST1; req=encrypt; colour=blue", "unknown tag"},
        {"v=TLSTRUST1; req=encrypt; reply=hello", "unknown tag"},
        {"v=TLSTRUST1; req=encrypt; min_version=SSLv3", "unknown TLS version"},
        {"v=TLSTRUST1; req=encrypt; min_bits=-5", "min_bits"},
        {"v=TLSTRUST1; req=encrypt; min_bits=", "bad value"},
        {"v=TLSTRUST1; req=encrypt; subject=a b", "bad value"},
        {"v=TLSTRUST1; req=encrypt; subject=\"x\"", "bad value"},
        {"v=TLSTRUST1; req=encrypt; subject=bad..name", "invalid subject"},
        {"v=TLSTRUST1; req=encrypt; identity=yes", "identity must be"},
        {"v=TLSTRUST1; req=encrypt; justtext", "expected tag=value"},
        {"v=TLSTRUST1 req=encrypt", "unknown version"},
        {"v=TLSTRUST1; req=none; action=reject", "takes no action"},
        {"v=TLSTRUST1; req=encrypt; subject=a\nb", "non-printable"},
        {"v=TLSTRUST1; req=encrypt; subject=\xc3\xb1.example", "non-printable"},
    };
    struct tt_dnsrule r;
    char err[300];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum tt_dnsrec got = parse(cases[i].txt, &r, err);

        if (got == TT_DNSREC_OK || strstr(err, cases[i].msg) == NULL)
            fail_msg("'%s': got %d, err '%s', want '%s'", cases[i].txt, got, err, cases[i].msg);
    }
}

static void test_long_record(void **state)
{
    struct tt_dnsrule r;
    char txt[3000], err[300];

    (void)state;
    snprintf(txt, sizeof(txt), "v=TLSTRUST1; req=encrypt; subject=");
    while (strlen(txt) < 2900)
        strcat(txt, "a.example,");
    strcat(txt, "b.example");
    assert_int_equal(parse(txt, &r, err), TT_DNSREC_BROKEN);
}

static void test_table_identity(void **state)
{
    char err[300];
    struct tt_table *t;
    const struct tt_rule *r;

    (void)state;
    t = tt_table_load(th_write("id.table", "a.example verify reject identity=dns\n"
                                           "client:192.0.2.0/24 encrypt identity=DNS\n"
                                           "b.example encrypt\n"),
                      &trust, err, sizeof(err));
    assert_non_null(t);
    r = tt_table_lookup_domain(t, TT_KEY_FROM, "a.example");
    assert_non_null(r);
    assert_true(r->identity_dns);
    assert_false(tt_table_lookup_domain(t, TT_KEY_FROM, "b.example")->identity_dns);
    assert_int_equal(tt_table_count_identity(t), 2);
    tt_table_free(t);
    assert_null(tt_table_load(th_write("id2.table", "to:a.example encrypt identity=dns\n"), &trust,
                              err, sizeof(err)));
    assert_non_null(strstr(err, "from: and client: rules only"));
    assert_null(tt_table_load(th_write("id3.table", "a.example encrypt identity=dane\n"), &trust,
                              err, sizeof(err)));
    assert_non_null(strstr(err, ":1: identity must be 'dns'"));
}

static struct tt_config *conf(const char *text, char *err)
{
    char full[2048];

    snprintf(full, sizeof(full), "TrustedNetwork redsegura net.pem\n%s", text);
    return tt_config_load(th_write("dns.conf", full), time(NULL), err, 600);
}

static void test_config_keys(void **state)
{
    char err[600];
    struct tt_config *c;

    (void)state;
    /* No DNS feature: no resolver object, nothing can be sent. */
    c = conf("DnsResolver 127.0.0.1@5353\n", err);
    assert_non_null(c);
    assert_false(c->dns_needed);
    assert_int_equal(c->dns_budget, TT_DEFAULT_DNS_BUDGET);
    assert_int_equal(c->dns_conf.timeout_ms, 2000);
    assert_true(c->zone_require_dnssec);
    assert_int_equal(c->sender_action, TT_ACTION_MONITOR);
    assert_int_equal(c->sender_req, TT_REQ_ENCRYPT);
    tt_config_free(c);

    c = conf("DnsResolver 127.0.0.1@5353\nDnsResolver ::1\nDnsTimeout 500ms\nDnsRetries 0\n"
             "DnsCacheSize 10\nPolicyZone redsegura Policy.RedSegura.Example.\n"
             "PolicyZone other policy.other.example\nPolicyZoneDepth 2\n"
             "PolicyZoneRequireDNSSEC no\nDnsSenderSignals yes\n"
             "DnsSenderRequirement trusted:redsegura\nDnsSenderAction defer\n"
             "OnDnsError ignore\nDnsQueryBudget 5\n",
             err);
    assert_non_null(c);
    assert_true(c->dns_needed);
    assert_int_equal(c->dns_conf.nservers, 2);
    assert_int_equal(c->dns_conf.timeout_ms, 500);
    assert_int_equal(c->dns_conf.retries, 0);
    assert_int_equal(c->dns_conf.cache_size, 10);
    assert_int_equal(c->nzones, 2);
    assert_string_equal(c->zones[0].zone, "policy.redsegura.example");
    assert_string_equal(c->zones[1].network, "other");
    assert_int_equal(c->zone_depth, 2);
    assert_false(c->zone_require_dnssec);
    assert_true(c->sender_signals);
    assert_int_equal(c->sender_req, TT_REQ_TRUSTED);
    assert_string_equal(c->sender_network, "redsegura");
    assert_int_equal(c->sender_action, TT_ACTION_DEFER);
    assert_true(c->on_dns_error_ignore);
    assert_int_equal(c->dns_budget, 5);
    assert_int_equal(tt_dns_bound_ms(&c->dns_effective), 500);
    tt_config_free(c);
}

static void test_config_errors(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"DnsResolver 999.1.1.1\n", ":2: DnsResolver: invalid resolver address"},
        {"DnsResolver 127.0.0.1@0\n", "invalid resolver port"},
        {"DnsResolver 127.0.0.1@70000\n", "invalid resolver port"},
        {"DnsTimeout 0\n", "DnsTimeout must be"},
        {"DnsTimeout 2m\n", "DnsTimeout must be"},
        {"DnsTimeout 31\n", "DnsTimeout must be"},
        {"DnsRetries -1\n", "DnsRetries must be"},
        {"DnsCacheSize 0\n", "DnsCacheSize must be"},
        {"PolicyZone redsegura\n", "PolicyZone needs"},
        {"PolicyZone red/segura zone.example\n", "network name"},
        {"PolicyZone redsegura bad..zone\n", "invalid zone name"},
        {"PolicyZone redsegura a.example b.example\n", "one zone"},
        {"PolicyZone a z.example\nPolicyZone b z.example\n", "given twice"},
        {"PolicyZoneDepth 0\n", "PolicyZoneDepth must be"},
        {"PolicyZoneRequireDNSSEC maybe\n", "must be yes or no"},
        {"DnsSenderSignals 2\n", "must be yes or no"},
        {"DnsSenderRequirement none\n", "DnsSenderRequirement must be"},
        {"DnsSenderRequirement trusted:nope\n", "unknown network 'nope'"},
        {"DnsSenderAction bounce\n", "DnsSenderAction must be"},
        {"OnDnsError accept\n", "OnDnsError must be"},
        {"DnsQueryBudget 0\n", "DnsQueryBudget must be"},
        {"DnsTimeout 2\nDnsTimeout 3\n", "given twice"},
    };
    char err[600];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tt_config *c = conf(cases[i].text, err);

        if (c != NULL || strstr(err, cases[i].msg) == NULL)
            fail_msg("'%s': err '%s', want '%s'", cases[i].text, c ? "(loaded)" : err,
                     cases[i].msg);
    }
}

/* A configuration whose resolver is the zone server above. */
static struct tt_config *zone_conf(const char *text)
{
    char full[1024], err[600];
    struct tt_config *c;

    snprintf(full, sizeof(full), "DnsResolver 127.0.0.1@%d\nDnsTimeout 500ms\nDnsRetries 0\n%s",
             srv_port, text);
    c = conf(full, err);
    if (c == NULL)
        fail_msg("%s", err);
    tt_dns_free(zone_dns);
    zone_dns = tt_dns_new(&c->dns_effective, err, sizeof(err));
    if (zone_dns == NULL)
        fail_msg("%s", err);
    return c;
}

/* A message's DNS state, empty, using that resolver. */
static void fresh(struct tt_dnsmsg *m)
{
    memset(m, 0, sizeof(*m));
    m->dns = zone_dns;
}

/*
 * The sender chooses its domain's depth: a name six labels below a member
 * must still meet the member's record, within PolicyZoneDepth lookups.
 */
static void test_walk_deep_sender(void **state)
{
    struct tt_config *c = zone_conf("PolicyZone redsegura policy.test\n");
    struct tt_dnsmsg m;

    (void)state;
    fresh(&m);
    assert_int_equal(tt_dnspolicy_find(&m, c, "deep", "a.b.c.d.e.f.ministerio.example"),
                     TT_DNSP_OK);
    assert_int_equal(m.nrules, 1);
    assert_string_equal(m.rules[0].key, "zone:redsegura:ministerio.example");
    assert_int_equal(m.used, 3); /* PolicyZoneDepth, whatever the sender's depth */
    assert_false(was_asked("a.b.c.d.e.f.ministerio.example.policy.test."));
    tt_config_free(c);
}

/*
 * Within the bound the most specific record wins, as a table's nearer
 * parent does; a record deeper than PolicyZoneDepth labels is never read.
 */
static void test_walk_most_specific_within_depth(void **state)
{
    struct tt_config *c = zone_conf("PolicyZone redsegura policy.test\n");
    struct tt_dnsmsg m;

    (void)state;
    fresh(&m);
    assert_int_equal(tt_dnspolicy_find(&m, c, "own", "x.y.own.ministerio.example"), TT_DNSP_OK);
    assert_int_equal(m.nrules, 1);
    assert_string_equal(m.rules[0].key, "zone:redsegura:own.ministerio.example");
    assert_int_equal(m.rules[0].rule.req, TT_REQ_NONE);
    fresh(&m);
    assert_int_equal(tt_dnspolicy_find(&m, c, "deeper", "deeper.own.ministerio.example"),
                     TT_DNSP_OK);
    assert_int_equal(m.nrules, 1);
    assert_string_equal(m.rules[0].key, "zone:redsegura:own.ministerio.example");
    tt_config_free(c);
    /* With PolicyZoneDepth 4 the deeper record is read and wins. */
    c = zone_conf("PolicyZone redsegura policy.test\nPolicyZoneDepth 4\n");
    fresh(&m);
    assert_int_equal(tt_dnspolicy_find(&m, c, "deeper4", "a.deeper.own.ministerio.example"),
                     TT_DNSP_OK);
    assert_int_equal(m.nrules, 1);
    assert_string_equal(m.rules[0].key, "zone:redsegura:deeper.own.ministerio.example");
    assert_int_equal(m.used, 4);
    tt_config_free(c);
}

/*
 * OnDnsError ignore goes on: a zone that fails does not keep the others
 * from being asked, and a failed name does not end its zone's walk.
 * tempfail still stops at the first failure.
 */
static void test_ignore_goes_on(void **state)
{
    static const char zones[] = "PolicyZone broken policy.broken.test\n"
                                "PolicyZone flaky policy.flaky.test\n"
                                "PolicyZone redsegura policy.test\n";
    char text[512];
    struct tt_config *c;
    struct tt_dnsmsg m;

    (void)state;
    snprintf(text, sizeof(text), "%sOnDnsError ignore\nDnsQueryBudget 9\n", zones);
    c = zone_conf(text);
    fresh(&m);
    assert_int_equal(tt_dnspolicy_find(&m, c, "ignore", "a.ministerio.example"), TT_DNSP_OK);
    if (m.nrules != 2)
        fail_msg("%zu rule(s) found, want the flaky and the redsegura zones' (failed: %s)",
                 m.nrules, m.failed);
    assert_string_equal(m.rules[0].key, "zone:flaky:ministerio.example");
    assert_string_equal(m.rules[1].key, "zone:redsegura:ministerio.example");
    assert_int_equal(m.used, 9);
    assert_non_null(strstr(m.failed, "SERVFAIL"));
    tt_config_free(c);

    /* A budget that runs out ends the search: no later lookup could be made. */
    snprintf(text, sizeof(text), "%sOnDnsError ignore\nDnsQueryBudget 4\n", zones);
    c = zone_conf(text);
    fresh(&m);
    assert_int_equal(tt_dnspolicy_find(&m, c, "budget", "a.ministerio.example"), TT_DNSP_OK);
    assert_int_equal(m.used, 4);
    assert_int_equal(m.nrules, 0);
    assert_non_null(strstr(m.failed, "DnsQueryBudget (4) exhausted"));
    tt_config_free(c);

    c = zone_conf(zones); /* OnDnsError tempfail */
    fresh(&m);
    assert_int_equal(tt_dnspolicy_find(&m, c, "tempfail", "a.ministerio.example"),
                     TT_DNSP_TEMPFAIL);
    assert_int_equal(m.used, 1);
    assert_string_equal(m.failed, "TXT example.policy.broken.test: SERVFAIL");
    tt_config_free(c);
}

/*
 * The outbound rule of a domain (decide.c, tt_domain_rule): the table's
 * from: rule before any DNS, then the zones; the sender signals are never
 * asked (the MTA has its own MTA-STS and DANE).
 */
static void test_outbound_rule_order(void **state)
{
    char text[512];
    struct tt_config *c;
    struct tt_dnsmsg m;
    const struct tt_rule *r;
    const struct tt_dnsrule *d;

    (void)state;
    snprintf(text, sizeof(text),
             "PolicyZone redsegura policy.test\nDnsSenderSignals yes\nDomainTable %s\n",
             th_write("out.table", "x.ministerio.example trusted:redsegura reject\n"
                                   "exempt.ministerio.example none\n"));
    c = zone_conf(text);
    fresh(&m);
    assert_int_equal(tt_domain_rule(c, &m, "t", "x.ministerio.example", &r, &d), TT_DNSP_OK);
    assert_non_null(r);
    assert_string_equal(r->key, "from:x.ministerio.example");
    assert_null(d);
    assert_int_equal(m.used, 0);
    /* An exemption in the table is a rule: the zone's parent record is not asked. */
    fresh(&m);
    assert_int_equal(tt_domain_rule(c, &m, "t", "exempt.ministerio.example", &r, &d), TT_DNSP_OK);
    assert_int_equal(r->req, TT_REQ_NONE);
    assert_int_equal(m.used, 0);
    fresh(&m);
    assert_int_equal(tt_domain_rule(c, &m, "t", "a.ministerio.example", &r, &d), TT_DNSP_OK);
    assert_non_null(d);
    assert_string_equal(r->key, "zone:redsegura:ministerio.example");
    assert_int_equal(r->req, TT_REQ_ENCRYPT);
    fresh(&m);
    assert_int_equal(tt_domain_rule(c, &m, "t", "outsider.example", &r, &d), TT_DNSP_OK);
    assert_null(r);
    assert_false(was_asked("_mta-sts.outsider.example."));
    assert_false(was_asked("mta-sts.outsider.example."));
    /* Without a resolver only the table speaks. */
    assert_int_equal(tt_domain_rule(c, NULL, "t", "a.ministerio.example", &r, &d), TT_DNSP_OK);
    assert_null(r);
    tt_config_free(c);
}

/* Outbound fails closed: a failed zone lookup is a temporary failure even under ignore. */
static void test_outbound_fails_closed(void **state)
{
    struct tt_config *c = zone_conf("PolicyZone flaky policy.flaky.test\nOnDnsError ignore\n");
    struct tt_dnsmsg m;
    const struct tt_rule *r;
    const struct tt_dnsrule *d;

    (void)state;
    /* The inbound search goes on past the failure and finds the record below it... */
    fresh(&m);
    assert_int_equal(tt_dnspolicy_find(&m, c, "in", "ministerio.example"), TT_DNSP_OK);
    assert_int_equal(m.nrules, 1);
    /* ...the outbound one does not send on a policy it may have read only in part. */
    fresh(&m);
    assert_int_equal(tt_domain_rule(c, &m, "out", "ministerio.example", &r, &d), TT_DNSP_TEMPFAIL);
    assert_non_null(strstr(m.failed, "SERVFAIL"));
    tt_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_full),
        cmocka_unit_test(test_valid_minimal_and_spacing),
        cmocka_unit_test(test_trusted_without_local_network),
        cmocka_unit_test(test_not_ours_and_versions),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_long_record),
        cmocka_unit_test(test_table_identity),
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_walk_deep_sender),
        cmocka_unit_test(test_walk_most_specific_within_depth),
        cmocka_unit_test(test_ignore_goes_on),
        cmocka_unit_test(test_outbound_rule_order),
        cmocka_unit_test(test_outbound_fails_closed),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
