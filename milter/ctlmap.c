/*
 * ctlmap.c - tlstrustctl survey and report (tlstrustctl(8)): their
 * arguments, the change to UserID (so the StateDatabase stays the
 * filter's), and the database both share.
 */
#include "ctlmap.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "privs.h"
#include "report.h"
#include "store.h"
#include "survey.h"

static int report_cmd(struct tt_store *st, int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"days", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    struct tt_report_opts ro = {.days = TT_REPORT_DEFAULT_DAYS, .now = (int64_t)time(NULL)};
    bool have_format = false;
    char err[512], *end;
    int opt;
    long n;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (!tt_report_format_parse(optarg, &ro.format)) {
                fprintf(stderr, "tlstrustctl: --format %s: html, json or csv\n", optarg);
                return EX_USAGE;
            }
            have_format = true;
            break;
        case 'd':
            n = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || n < 1 || n > TT_REPORT_MAX_DAYS) {
                fprintf(stderr, "tlstrustctl: --days %s: 1 to %d\n", optarg, TT_REPORT_MAX_DAYS);
                return EX_USAGE;
            }
            ro.days = (int)n;
            break;
        default:
            return EX_USAGE;
        }
    }
    if (!have_format || optind != argc) {
        fprintf(stderr,
                "usage: tlstrustctl [-c config] report --format html|json|csv [--days N]\n");
        return EX_USAGE;
    }
    if (!tt_report_write(st, &ro, stdout, err, sizeof(err))) {
        fprintf(stderr, "tlstrustctl: report: %s\n", err);
        return EX_IOERR;
    }
    return EX_OK;
}

/* HOST, HOST:PORT or [IPV6]:PORT. */
static bool parse_mx(const char *arg, char *host, size_t hostsz, int *port)
{
    const char *colon;
    char *end;
    size_t n;
    long p = 25;

    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');

        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return false;
        n = (size_t)(close - arg - 1);
        colon = close[1] == ':' ? close + 1 : NULL;
        arg++;
    } else {
        colon = strchr(arg, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            colon = NULL; /* a bare IPv6 address */
        n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
    }
    if (colon != NULL) {
        p = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
            return false;
    }
    if (n == 0 || n >= hostsz)
        return false;
    memcpy(host, arg, n);
    host[n] = '\0';
    *port = (int)p;
    return true;
}

/* The from: domains the table requires trusted:NETWORK of: a zone cannot be listed through DNS. */
static size_t zone_domains(const struct tt_config *cfg, const char *network, char **out, size_t max)
{
    const struct tt_rule *r;
    size_t i, k, n = 0;

    for (i = 0; (r = tt_table_rule(cfg->table, i)) != NULL && n < max; i++) {
        enum tt_key_type kt;
        const char *d;
        bool dup = false;

        if (r->type != TT_KEY_FROM || r->req != TT_REQ_TRUSTED || r->network == NULL ||
            strcmp(r->network, network) != 0)
            continue;
        d = tt_key_split(r->key, &kt);
        while (*d == '.')
            d++;
        for (k = 0; k < n && !dup; k++)
            dup = strcmp(out[k], d) == 0;
        if (!dup && *d != '\0' && (out[n] = strdup(d)) != NULL)
            n++;
    }
    return n;
}

static int survey_cmd(const struct tt_config *cfg, struct tt_store *st, int argc, char **argv)
{
    static const struct option opts[] = {{"mx", required_argument, NULL, 'm'},
                                         {"zone", required_argument, NULL, 'z'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"delay", required_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    struct tt_survey_opts so = {.cfg = cfg,
                                .store = st,
                                .mx_port = 25,
                                .timeout_s = TT_SURVEY_DEFAULT_TIMEOUT,
                                .delay_ms = TT_SURVEY_DEFAULT_DELAY_MS,
                                .out = stdout};
    struct tt_dns_conf dc = cfg->dns_conf;
    char mx[TT_DOMAIN_MAX], ehlo[TT_DOMAIN_MAX], err[512], **domains = NULL, *end;
    const char *zone = NULL;
    size_t i, n = 0;
    int opt, rc = EX_OK;
    long v;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            if (!parse_mx(optarg, mx, sizeof(mx), &so.mx_port)) {
                fprintf(stderr, "tlstrustctl: --mx %s: HOST, HOST:PORT or [ADDRESS]:PORT\n",
                        optarg);
                return EX_USAGE;
            }
            so.mx_host = mx;
            break;
        case 'z':
            zone = optarg;
            break;
        case 't':
        case 'w':
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < (opt == 't' ? 1 : 0) ||
                v > (opt == 't' ? 600 : 60000)) {
                fprintf(stderr, "tlstrustctl: --%s %s: out of range\n",
                        opt == 't' ? "timeout" : "delay", optarg);
                return EX_USAGE;
            }
            if (opt == 't')
                so.timeout_s = (int)v;
            else
                so.delay_ms = (int)v;
            break;
        default:
            return EX_USAGE;
        }
    }
    /* DOMAIN... or --zone, not both; neither only with --mx (the host is then the domain). */
    if ((zone != NULL && optind < argc) || (zone == NULL && optind == argc && so.mx_host == NULL)) {
        fprintf(stderr, "usage: tlstrustctl [-c config] survey [--mx HOST[:PORT]] "
                        "[--timeout S] [--delay MS] [DOMAIN... | --zone NETWORK]\n");
        return EX_USAGE;
    }
    if (argc - optind > TT_SURVEY_MAX_DOMAINS) {
        fprintf(stderr, "tlstrustctl: at most %d domains at once\n", TT_SURVEY_MAX_DOMAINS);
        return EX_USAGE;
    }
    domains = calloc(TT_SURVEY_MAX_DOMAINS, sizeof(*domains));
    if (domains == NULL)
        return EX_OSERR;
    if (zone != NULL) {
        if (tt_trust_find(&cfg->trust, zone) == NULL) {
            fprintf(stderr, "tlstrustctl: no TrustedNetwork %s in %s\n", zone, cfg->path);
            rc = EX_CONFIG;
            goto out;
        }
        n = zone_domains(cfg, zone, domains, TT_SURVEY_MAX_DOMAINS);
        fprintf(stderr,
                "tlstrustctl: a policy zone cannot be listed through DNS: surveying the %zu "
                "domain(s) DomainTable requires trusted:%s of\n",
                n, zone);
    } else if (optind == argc) {
        domains[n++] = strdup(mx);
    }
    for (i = (size_t)optind; zone == NULL && i < (size_t)argc; i++) {
        char dom[TT_DOMAIN_MAX];

        if (!tt_domain_canonical(argv[i], dom, sizeof(dom))) {
            fprintf(stderr, "tlstrustctl: '%s' is not a domain name\n", argv[i]);
            rc = EX_USAGE;
            goto out;
        }
        domains[n++] = strdup(dom);
    }
    if (n == 0) {
        fprintf(stderr, "tlstrustctl: nothing to survey\n");
        rc = EX_NOINPUT;
        goto out;
    }
    for (i = 0; i < n; i++)
        if (domains[i] == NULL) {
            rc = EX_OSERR;
            goto out;
        }
    if (!tt_dns_conf_complete(&dc, err, sizeof(err)) ||
        (so.dns = tt_dns_new(&dc, err, sizeof(err))) == NULL) {
        fprintf(stderr, "tlstrustctl: %s\n", err);
        rc = EX_CONFIG;
        goto out;
    }
    if (cfg->authserv_id != NULL)
        snprintf(ehlo, sizeof(ehlo), "%s", cfg->authserv_id);
    else if (gethostname(ehlo, sizeof(ehlo)) != 0 || ehlo[0] == '\0')
        snprintf(ehlo, sizeof(ehlo), "localhost");
    ehlo[sizeof(ehlo) - 1] = '\0';
    so.ehlo_name = ehlo;
    rc = tt_survey_run(&so, domains, n);
    tt_dns_free(so.dns);
out:
    for (i = 0; i < n; i++)
        free(domains[i]);
    free(domains);
    return rc;
}

int tt_ctl_map(const struct tt_config *cfg, uid_t uid, gid_t gid, int argc, char **argv)
{
    struct tt_store *st;
    char err[1024];
    int rc;

    if (cfg->state_db == NULL) {
        fprintf(stderr, "tlstrustctl: %s sets no StateDatabase\n", cfg->path);
        return EX_CONFIG;
    }
    /* As root, become the filter's UserID first: the database stays writable by the filter. */
    if (getuid() == 0 && cfg->user != NULL &&
        !tt_privs_drop(cfg->user, uid, gid, err, sizeof(err))) {
        fprintf(stderr, "tlstrustctl: %s\n", err);
        return EX_NOPERM;
    }
    st = tt_store_open(cfg->state_db, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "tlstrustctl: StateDatabase %s\n", err);
        return EX_CANTCREAT;
    }
    if (strcmp(argv[0], "report") == 0)
        rc = report_cmd(st, argc, argv);
    else
        rc = survey_cmd(cfg, st, argc, argv);
    tt_store_close(st);
    return rc;
}
