/*
 * tlstrustctl.c - the administrator's tool, built beside the daemon:
 *   tlstrustctl [-c FILE] lookup [from:|to:|client:]KEY
 *       the effective policy for KEY and where it comes from (a table line,
 *       a policy zone record with its AD state, or a DNS sender signal), in
 *       table syntax, like postmap -q; exit 0 found, 1 not found, 2 a DNS
 *       lookup failed (what was found is shown too), 78 configuration
 *       error (tlstrustctl(8), EXIT STATUS).
 *   tlstrustctl [-c FILE] check
 *       what tlstrust-milter -n does: load and check everything, print a
 *       summary, exit 0 when fine.
 *   tlstrustctl [-c FILE] cert-check [-n NETWORK] [-H HOST]... CERT [KEY]
 *       judge a member's certificate against the network's criteria
 *       (lib/certcheck.c): one line per criterion, exit 0 when none
 *       failed, 1 when one did, 66 unreadable file.
 *   tlstrustctl [-c FILE] export postfix|sendmail
 *       the domain table's outbound policy (lib/outbound.c) as a postmap
 *       source for smtp_tls_policy_maps, or as makemap access entries;
 *       exit 0, 78 when a rule cannot be written for that MTA.
 *   tlstrustctl [-c FILE] survey ... | report ...
 *       the mail-state map (ctlmap.c): probe members' MX, report what the
 *       StateDatabase holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "certcheck.h"
#include "cidr.h"
#include "config.h"
#include "ctlmap.h"
#include "decide.h"
#include "dnspolicy.h"
#include "log.h"
#include "outbound.h"
#include "privs.h"

#define DEFAULT_CONFIG "/etc/tlstrust/tlstrust.conf"

static void usage(FILE *out)
{
    fprintf(out, "usage: tlstrustctl [-c config] lookup [from:|to:|client:]KEY\n"
                 "       tlstrustctl [-c config] check\n"
                 "       tlstrustctl [-c config] cert-check [-n network] [-H host]... cert.pem "
                 "[key.pem]\n"
                 "       tlstrustctl [-c config] export postfix|sendmail\n"
                 "       tlstrustctl [-c config] survey [--mx host[:port]] [--timeout s] "
                 "[--delay ms] [domain... | --zone network]\n"
                 "       tlstrustctl [-c config] report --format html|json|csv [--days n]\n"
                 "  -c FILE    configuration file (default " DEFAULT_CONFIG ")\n");
}

/* The rule in table syntax: REQUIREMENT [ACTION] [attr=value ...]. */
static void print_rule(const struct tt_config *cfg, const struct tt_rule *r)
{
    size_t i;

    if (r->req == TT_REQ_TRUSTED && r->network != NULL)
        printf("trusted:%s", r->network);
    else
        printf("%s", tt_req_name(r->req));
    if (r->req != TT_REQ_NONE)
        printf(" %s%s",
               tt_action_name(r->action != TT_ACTION_UNSET ? r->action : cfg->default_action),
               r->action == TT_ACTION_UNSET ? " (DefaultAction)" : "");
    if (r->min_version > 0)
        printf(" min_version=%s", tt_tls_version_name(r->min_version));
    if (r->min_bits > 0)
        printf(" min_bits=%d", r->min_bits);
    for (i = 0; r->subjects != NULL && r->subjects[i] != NULL; i++)
        printf("%s%s", i == 0 ? " subject=" : ",", r->subjects[i]);
    if (r->identity_dns)
        printf(" identity=dns");
    if (r->reply != NULL)
        printf(" reply=\"%s\"", r->reply);
    printf("\n");
}

/* The rules that apply and where each comes from; exit 0 some, 1 none, 2 a DNS lookup failed. */
static int print_rules(const struct tt_config *cfg, const struct tt_mail_rule *rules, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct tt_rule *r = rules[i].rule;

        print_rule(cfg, r);
        if (rules[i].dns != NULL) {
            printf("source: %s\nrule: %s\n", rules[i].dns->source, rules[i].dns->key);
            continue;
        }
        printf("source: table %s:%u (%s)\n", cfg->table_path, r->line, r->key);
        if (r->identity_dns)
            printf("note: identity=dns is checked against the client address at MAIL FROM\n");
    }
    return n > 0 ? 0 : 1;
}

/*
 * from: and client: keys get the rules the milter would find at MAIL FROM,
 * in its order (decide.c); to: keys, judged per recipient, the table's.
 */
static int lookup(const struct tt_config *cfg, const char *arg)
{
    enum tt_key_type type;
    const char *key = tt_key_split(arg, &type);
    struct tt_mail_rule rules[TT_MAIL_RULES];
    struct tt_mail_case mc = {.id = "lookup"};
    struct tt_envelope env = {.kind = TT_ADDR_DOMAIN, .n = 1};
    struct tt_dnsmsg *m = NULL;
    struct tt_cidr addr;
    char dom[TT_DNSNAME_MAX], err[300];
    size_t n = 0;
    int rc;

    /* The key is judged in the form the milter judges envelopes in (A-labels). */
    if (type == TT_KEY_CLIENT && tt_ip_parse(key, &addr)) {
        snprintf(dom, sizeof(dom), "%s", key);
        mc.client = &addr;
    } else if (strchr(key, '@') != NULL || strchr(key, '<') != NULL) {
        if (tt_addr_domain(key, dom, sizeof(dom)) != TT_ADDR_DOMAIN) {
            fprintf(stderr, "tlstrustctl: '%s' has no domain\n", key);
            return EX_USAGE;
        }
    } else if (!tt_domain_canonical(key, dom, sizeof(dom))) {
        fprintf(stderr, "tlstrustctl: '%s' is not a domain name\n", key);
        return EX_USAGE;
    }
    if (type == TT_KEY_TO) {
        rules[0].rule = tt_table_lookup_domain(cfg->table, TT_KEY_TO, dom);
        rules[0].dns = NULL;
        n = rules[0].rule != NULL;
    } else {
        if (type == TT_KEY_CLIENT && mc.client == NULL)
            mc.client_name = dom;
        if (type == TT_KEY_FROM) {
            snprintf(env.domain[0], sizeof(env.domain[0]), "%s", dom);
            mc.sender = &env;
        }
        if (type == TT_KEY_FROM && cfg->dns_needed) {
            m = calloc(1, sizeof(*m));
            if (m == NULL)
                return EX_OSERR;
            m->dns = tt_dns_new(&cfg->dns_effective, err, sizeof(err));
            if (m->dns == NULL) {
                fprintf(stderr, "tlstrustctl: %s\n", err);
                free(m);
                return EX_OSERR;
            }
        }
        if (tt_mail_rules(cfg, m, &mc, rules, &n) != TT_DNSP_OK && m->failed[0] == '\0')
            snprintf(m->failed, sizeof(m->failed), "lookup failed");
    }
    if (m != NULL && m->failed[0] != '\0')
        printf("DNS error: %s\n", m->failed);
    rc = print_rules(cfg, rules, n);
    if (m != NULL) {
        struct tt_dns_stats st;

        if (m->used > 0) {
            tt_dns_get_stats(m->dns, &st);
            printf("dns: %u lookup(s), queries sent=%lu, cache hits=%lu\n", m->used, st.sent,
                   st.hits);
        }
        if (m->failed[0] != '\0')
            rc = 2;
        tt_dns_free(m->dns);
        free(m);
    }
    if (rc == 1)
        printf("no policy for %s%s\n", tt_key_prefix(type), dom);
    return rc;
}

static int check(const struct tt_config *cfg)
{
    tt_config_describe(cfg, stdout);
    return EX_OK;
}

/* cert-check's arguments, parsed before the configuration is loaded. */
#define CERT_CHECK_MAX_HOSTS 64
struct cert_check_args {
    const char *network;
    char hosts[CERT_CHECK_MAX_HOSTS][TT_DOMAIN_MAX];
    const char *host_ptrs[CERT_CHECK_MAX_HOSTS];
    size_t nhosts;
    const char *cert, *key;
};

/* argv[0] is "cert-check". Host names are taken in the form certificates carry (A-labels). */
static int cert_check_parse(int argc, char **argv, struct cert_check_args *a)
{
    int opt;

    optind = 1;
    while ((opt = getopt(argc, argv, "+n:H:")) != -1) {
        switch (opt) {
        case 'n':
            a->network = optarg;
            break;
        case 'H':
            if (a->nhosts == CERT_CHECK_MAX_HOSTS) {
                fprintf(stderr, "tlstrustctl: more than %d -H names\n", CERT_CHECK_MAX_HOSTS);
                return EX_USAGE;
            }
            if (!tt_domain_canonical(optarg, a->hosts[a->nhosts], TT_DOMAIN_MAX)) {
                fprintf(stderr, "tlstrustctl: -H '%s' is not a host name\n", optarg);
                return EX_USAGE;
            }
            a->host_ptrs[a->nhosts] = a->hosts[a->nhosts];
            a->nhosts++;
            break;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        usage(stderr);
        return EX_USAGE;
    }
    a->cert = argv[optind];
    a->key = optind + 1 < argc ? argv[optind + 1] : NULL;
    return EX_OK;
}

/* Without -n the configuration must name exactly one network: never guess among several. */
static int cert_check(const struct tt_config *cfg, const struct cert_check_args *a)
{
    const struct tt_network *net = NULL;
    struct tt_cc_request rq = {.cert_file = a->cert,
                               .key_file = a->key,
                               .hosts = a->host_ptrs,
                               .nhosts = a->nhosts,
                               .now = time(NULL)};
    struct tt_cc_report rep;
    char err[1024];

    if (a->network != NULL)
        net = tt_trust_find(&cfg->trust, a->network);
    else if (cfg->trust.nnets == 1)
        net = &cfg->trust.nets[0];
    if (net == NULL) {
        if (a->network != NULL)
            fprintf(stderr, "tlstrustctl: no TrustedNetwork %s in %s\n", a->network, cfg->path);
        else
            fprintf(stderr, "tlstrustctl: %s has %zu networks: say which with -n\n", cfg->path,
                    cfg->trust.nnets);
        return a->network != NULL || cfg->trust.nnets == 0 ? EX_CONFIG : EX_USAGE;
    }
    rq.ca_file = net->file;
    rq.network = net->name;
    switch (tt_certcheck(&rq, &rep, err, sizeof(err))) {
    case TT_CC_OK:
        tt_cc_print(&rep, stdout);
        return tt_cc_failed(&rep) ? 1 : EX_OK;
    case TT_CC_BAD_INPUT:
        fprintf(stderr, "tlstrustctl: %s\n", err);
        return EX_NOINPUT;
    case TT_CC_BAD_BUNDLE:
        fprintf(stderr, "tlstrustctl: network %s: %s\n", net->name, err);
        return EX_CONFIG;
    default:
        fprintf(stderr, "tlstrustctl: %s\n", err);
        return EX_OSERR;
    }
}

/* The outbound policy for postmap or makemap on stdout. */
static int export(const struct tt_config *cfg, const char *mta)
{
    char err[1024];
    bool ok = strcmp(mta, "postfix") == 0
                  ? tt_outbound_export_postfix(cfg, stdout, err, sizeof(err))
                  : tt_outbound_export_sendmail(cfg, stdout, err, sizeof(err));

    if (!ok) {
        fprintf(stderr, "tlstrustctl: export %s: %s\n", mta, err);
        return EX_CONFIG;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tlstrustctl: export %s: %s\n", mta, strerror(errno));
        return EX_IOERR;
    }
    return EX_OK;
}

int main(int argc, char **argv)
{
    const char *path = DEFAULT_CONFIG;
    struct cert_check_args cc = {0};
    struct tt_config *cfg;
    char err[1024], *abs_path;
    uid_t uid;
    gid_t gid;
    int opt, rc;

    /* '+': stop at the command, whose own options (cert-check -n, -H) follow it. */
    while ((opt = getopt(argc, argv, "+c:h")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            usage(stdout);
            return EX_OK;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind >= argc || (strcmp(argv[optind], "check") == 0 && optind + 1 != argc) ||
        (strcmp(argv[optind], "lookup") == 0 && optind + 2 != argc) ||
        (strcmp(argv[optind], "export") == 0 &&
         (optind + 2 != argc || (strcmp(argv[optind + 1], "postfix") != 0 &&
                                 strcmp(argv[optind + 1], "sendmail") != 0))) ||
        (strcmp(argv[optind], "check") != 0 && strcmp(argv[optind], "lookup") != 0 &&
         strcmp(argv[optind], "cert-check") != 0 && strcmp(argv[optind], "export") != 0 &&
         strcmp(argv[optind], "survey") != 0 && strcmp(argv[optind], "report") != 0)) {
        usage(stderr);
        return EX_USAGE;
    }
    if (strcmp(argv[optind], "cert-check") == 0) {
        int cmd = optind;

        rc = cert_check_parse(argc - cmd, argv + cmd, &cc);
        if (rc != EX_OK)
            return rc;
        optind = cmd;
    }
    abs_path = realpath(path, NULL);
    if (abs_path == NULL) {
        fprintf(stderr, "tlstrustctl: %s: %s\n", path, strerror(errno));
        return EX_CONFIG;
    }
    tt_log_open("tlstrustctl", false, LOG_MAIL);
    tt_log_set_level(strcmp(argv[optind], "check") == 0 ? LOG_INFO : LOG_WARNING);
    cfg = tt_config_load(abs_path, time(NULL), err, sizeof(err));
    free(abs_path);
    if (cfg == NULL) {
        fprintf(stderr, "tlstrustctl: %s\n", err);
        return EX_CONFIG;
    }
    if (cfg->user != NULL && !tt_privs_lookup(cfg->user, &uid, &gid, err, sizeof(err))) {
        fprintf(stderr, "tlstrustctl: %s\n", err);
        tt_config_free(cfg);
        return EX_CONFIG;
    }
    if (strcmp(argv[optind], "check") == 0)
        rc = check(cfg);
    else if (strcmp(argv[optind], "cert-check") == 0)
        rc = cert_check(cfg, &cc);
    else if (strcmp(argv[optind], "export") == 0)
        rc = export(cfg, argv[optind + 1]);
    else if (strcmp(argv[optind], "survey") == 0 || strcmp(argv[optind], "report") == 0)
        rc = tt_ctl_map(cfg, uid, gid, argc - optind, argv + optind);
    else
        rc = lookup(cfg, argv[optind + 1]);
    tt_config_free(cfg);
    return rc;
}
