/*
 * config.c - parse tlstrust.conf. Every key is known in advance; an unknown
 * key, a missing or malformed value or a repeated single-valued key is an
 * error with file and line, so a typo never silently weakens the policy.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>

#include "address.h"
#include "escape.h"
#include "lines.h"
#include "peers.h"
#include "rule.h"
#include "log.h"
#include "sockspec.h"

#define CONF_LINE_MAX 4096

struct cparser {
    struct tt_config *c;
    const char *file;
    char *dir; /* directory of file, for relative paths */
    unsigned int line;
    unsigned int seen[40]; /* line where each single-valued key was set, by key */
    char *err;
    size_t errsz;
    time_t now;
};

static bool cfail(struct cparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool cfail(struct cparser *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tt_line_error(p->err, p->errsz, p->file, p->line, fmt, ap);
    va_end(ap);
    return false;
}

static char *resolve_path(struct cparser *p, const char *v)
{
    char *out;
    size_t n;

    if (v[0] == '/' || p->dir == NULL)
        return strdup(v);
    n = strlen(p->dir) + 1 + strlen(v) + 1;
    out = malloc(n);
    if (out != NULL)
        snprintf(out, n, "%s/%s", p->dir, v);
    return out;
}

static int parse_bool(const char *v)
{
    if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
        return 1;
    if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return 0;
    return -1;
}

/* RFC 5322 field name: printable ASCII without ':' or blanks. */
static bool valid_header_name(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++)
        if (*s < 33 || *s > 126 || *s == ':')
            return false;
    return n > 0 && n <= 64;
}

/* An authserv-id goes into headers unquoted: the tag writer's token rule. */
static bool valid_authserv(const char *s)
{
    return tt_is_token(s, 128);
}

static bool set_string(struct cparser *p, char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst != NULL || cfail(p, "out of memory");
}

static bool set_socket(struct cparser *p, const char *v)
{
    char why[128];

    if (!tt_sockspec_check(v, why, sizeof(why)))
        return cfail(p, "invalid socket '%s': %s", v, why);
    return set_string(p, &p->c->socket, v);
}

static bool set_metrics_socket(struct cparser *p, const char *v)
{
    struct sockaddr_storage ss;
    unsigned int len;
    char why[128];

    if (!tt_sockspec_inet(v, &ss, &len, why, sizeof(why)))
        return cfail(p, "invalid MetricsSocket '%s': %s", v, why);
    return set_string(p, &p->c->metrics_socket, v);
}

static bool set_policy_socket(struct cparser *p, const char *v)
{
    char why[128];

    if (strncmp(v, "inet:", 5) != 0 && strncmp(v, "inet6:", 6) != 0 && strncmp(v, "unix:", 5) != 0)
        return cfail(p,
                     "invalid PolicyMapSocket '%s': expected inet:PORT@ADDR, inet6:PORT@ADDR "
                     "or unix:PATH",
                     v);
    if (!tt_sockspec_check(v, why, sizeof(why)))
        return cfail(p, "invalid PolicyMapSocket '%s': %s", v, why);
    return set_string(p, &p->c->policy_socket, v);
}

static bool add_internal(struct cparser *p, const char *v)
{
    char buf[CONF_LINE_MAX];
    char *tok, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", v);
    for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
        struct tt_cidr *n;

        n = realloc(p->c->internal, (p->c->ninternal + 1) * sizeof(*n));
        if (n == NULL)
            return cfail(p, "out of memory");
        p->c->internal = n;
        if (!tt_cidr_parse(tok, &n[p->c->ninternal]))
            return cfail(p, "InternalHosts: invalid address or CIDR '%s'", tok);
        p->c->ninternal++;
    }
    return true;
}

static bool add_network(struct cparser *p, const char *v)
{
    char name[64];
    const char *sp = v + strcspn(v, " \t");
    size_t n = (size_t)(sp - v);
    char *file, err[600];
    bool ok;

    while (*sp == ' ' || *sp == '\t')
        sp++;
    if (*sp == '\0')
        return cfail(p, "TrustedNetwork needs a name and a file");
    if (n == 0 || n >= sizeof(name))
        return cfail(p, "TrustedNetwork name must be 1 to 63 characters");
    memcpy(name, v, n);
    name[n] = '\0';
    if (!tt_network_name_ok(name))
        return cfail(p, "TrustedNetwork name '%s' may hold letters, digits, '-', '_' and '.'",
                     name);
    file = resolve_path(p, sp);
    if (file == NULL)
        return cfail(p, "out of memory");
    ok = tt_trust_add(&p->c->trust, name, file, p->now, err, sizeof(err));
    free(file);
    return ok || cfail(p, "%s", err);
}

/* A whole number from lo to hi, or -1. */
static long parse_number(const char *v, long lo, long hi)
{
    char *end;
    long n;

    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    n = strtol(v, &end, 10);
    return *end == '\0' && errno == 0 && n >= lo && n <= hi ? n : -1;
}

/* DnsTimeout: "2", "2s" or "500ms", from 100 ms to 30 s; -1 if malformed. */
static long parse_timeout_ms(const char *v)
{
    char *end;
    long n;

    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || n > 30000)
        return -1;
    if (strcasecmp(end, "ms") == 0)
        ;
    else if (*end == '\0' || strcasecmp(end, "s") == 0)
        n *= 1000;
    else
        return -1;
    return n >= 100 && n <= 30000 ? n : -1;
}

static bool add_zone(struct cparser *p, const char *v)
{
    char net[64], zone[256], canon[TT_DNSNAME_MAX];
    struct tt_policy_zone *z;
    size_t i;

    /* Split at blanks, as every other key does (sscanf's %s would also split at \f or \v). */
    size_t nl = strcspn(v, " \t");
    const char *zs = v + nl + strspn(v + nl, " \t");
    size_t zl = strcspn(zs, " \t");

    if (nl == 0 || zl == 0)
        return cfail(p, "PolicyZone needs a network name and a zone");
    if (zs[zl + strspn(zs + zl, " \t")] != '\0')
        return cfail(p, "PolicyZone takes a network name and one zone");
    if (nl >= sizeof(net))
        return cfail(p, "PolicyZone network name must be 1 to 63 characters");
    if (zl >= sizeof(zone))
        return cfail(p, "PolicyZone: zone name too long");
    memcpy(net, v, nl);
    net[nl] = '\0';
    memcpy(zone, zs, zl);
    zone[zl] = '\0';
    if (!tt_network_name_ok(net))
        return cfail(p, "PolicyZone network name '%s' may hold letters, digits, '-', '_' and '.'",
                     net);
    /* Owner names are the sender's labels before the zone: keep 53 bytes for them. */
    if (!tt_domain_canonical(zone, canon, sizeof(canon)) || strlen(canon) > 200)
        return cfail(p, "PolicyZone: invalid zone name '%s'", zone);
    memcpy(zone, canon, strlen(canon) + 1);
    if (p->c->nzones == TT_MAX_POLICY_ZONES)
        return cfail(p, "too many PolicyZone lines (max %d)", TT_MAX_POLICY_ZONES);
    for (i = 0; i < p->c->nzones; i++)
        if (strcmp(p->c->zones[i].zone, zone) == 0)
            return cfail(p, "PolicyZone %s given twice", zone);
    z = realloc(p->c->zones, (p->c->nzones + 1) * sizeof(*z));
    if (z == NULL)
        return cfail(p, "out of memory");
    p->c->zones = z;
    z[p->c->nzones].network = strdup(net);
    z[p->c->nzones].zone = strdup(zone);
    if (z[p->c->nzones].network == NULL || z[p->c->nzones].zone == NULL) {
        free(z[p->c->nzones].network);
        free(z[p->c->nzones].zone);
        return cfail(p, "out of memory");
    }
    p->c->nzones++;
    return true;
}

static bool set_sender_req(struct cparser *p, const char *v)
{
    struct tt_rule r = {0};
    char err[300];

    /* The table's requirement grammar; TrustedNetwork lines must come first. */
    if (!tt_rule_set_req(&r, v, &p->c->trust, err, sizeof(err)))
        return cfail(p, "DnsSenderRequirement: %s", err);
    if (r.req == TT_REQ_NONE)
        return cfail(p, "DnsSenderRequirement must be encrypt, verify, trusted or "
                        "trusted:NETWORK");
    p->c->sender_req = r.req;
    p->c->sender_network = r.network;
    return true;
}

/* ---------------------------------------------------------------- printers */

static void print_socket(const struct tt_config *c, const char *name, FILE *out)
{
    fprintf(out, "%s %s\n", name, c->socket);
}

static void print_metrics_socket(const struct tt_config *c, const char *name, FILE *out)
{
    fprintf(out, "%s%s%s\n", name, c->metrics_socket != NULL ? " " : "",
            c->metrics_socket != NULL ? c->metrics_socket : "");
}

static void print_policy_socket(const struct tt_config *c, const char *name, FILE *out)
{
    if (c->policy_socket != NULL)
        fprintf(out, "%s %s\n", name, c->policy_socket);
    else
        fprintf(out, "%s\n", name);
}

static void print_networks(const struct tt_config *c, const char *name, FILE *out)
{
    size_t i;

    if (c->trust.nnets == 0)
        fprintf(out, "%s\n", name); /* unset: the key alone, as -d prints it */

    for (i = 0; i < c->trust.nnets; i++)
        fprintf(out, "%s %s %s\n", name, c->trust.nets[i].name, c->trust.nets[i].file);
}

static void print_internal(const struct tt_config *c, const char *name, FILE *out)
{
    char a[INET6_ADDRSTRLEN];
    size_t i;

    if (c->ninternal == 0)
        fprintf(out, "%s\n", name); /* unset: the key alone, as -d prints it */

    for (i = 0; i < c->ninternal; i++) {
        const struct tt_cidr *n = &c->internal[i];

        inet_ntop(n->family, n->addr, a, sizeof(a));
        fprintf(out, "%s %s/%u\n", name, a, n->bits);
    }
}

static void print_resolvers(const struct tt_config *c, const char *name, FILE *out)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];
    size_t i;

    if (c->dns_conf.nservers == 0)
        fprintf(out, "%s\n", name); /* unset: the key alone, as -d prints it */

    for (i = 0; i < c->dns_conf.nservers; i++)
        if (getnameinfo((const struct sockaddr *)&c->dns_conf.servers[i], c->dns_conf.server_len[i],
                        host, sizeof(host), port, sizeof(port),
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            fprintf(out, "%s %s@%s\n", name, host, port);
}

static void print_timeout(const struct tt_config *c, const char *name, FILE *out)
{
    if (c->dns_conf.timeout_ms % 1000 == 0)
        fprintf(out, "%s %ds\n", name, c->dns_conf.timeout_ms / 1000);
    else
        fprintf(out, "%s %dms\n", name, c->dns_conf.timeout_ms);
}

static void print_zones(const struct tt_config *c, const char *name, FILE *out)
{
    size_t i;

    if (c->nzones == 0)
        fprintf(out, "%s\n", name); /* unset: the key alone, as -d prints it */

    for (i = 0; i < c->nzones; i++)
        fprintf(out, "%s %s %s\n", name, c->zones[i].network, c->zones[i].zone);
}

static void print_sender_req(const struct tt_config *c, const char *name, FILE *out)
{
    fprintf(out, "%s %s%s%s\n", name, tt_req_name(c->sender_req),
            c->sender_network != NULL ? ":" : "",
            c->sender_network != NULL ? c->sender_network : "");
}

/* ---------------------------------------------------------------- the key table */

/*
 * Every key of tlstrust.conf, typed, with its default, as OpenDKIM's and
 * OpenARC's configuration tables do. The parser, the defaults, the
 * duplicate check, -n -v and -d all read this one table.
 */
enum key_type {
    KT_STRING, /* char *, checked by ok() when given */
    KT_PATH,   /* char *, relative to the configuration's directory */
    KT_BOOL,   /* yes|no|true|false|1|0 */
    KT_INT,    /* a whole number from min to max */
    KT_CHOICE, /* one of choices[], stored as its value */
    KT_CUSTOM, /* set() parses, print() writes the effective value(s) */
};

struct choice {
    const char *name;
    int value;
};

struct key {
    const char *name;
    enum key_type type;
    bool repeatable;
    size_t off, size; /* the field in struct tt_config */
    long min, max;
    const struct choice *choices;
    const char *dflt; /* NULL: unset */
    bool (*ok)(const char *v);
    const char *what; /* what a value must be, for the error message */
    bool (*set)(struct cparser *p, const char *v);
    void (*print)(const struct tt_config *c, const char *name, FILE *out);
};

static const struct choice actions[] = {{"defer", TT_ACTION_DEFER},
                                        {"reject", TT_ACTION_REJECT},
                                        {"monitor", TT_ACTION_MONITOR},
                                        {NULL, 0}};
static const struct choice log_levels[] = {
    {"error", LOG_ERR},   {"warning", LOG_WARNING}, {"notice", LOG_NOTICE}, {"info", LOG_INFO},
    {"debug", LOG_DEBUG}, {"err", LOG_ERR},         {"warn", LOG_WARNING},  {NULL, 0}};
static const struct choice facilities[] = {{"mail", LOG_MAIL},
                                           {"daemon", LOG_DAEMON},
                                           {"local0", LOG_LOCAL0},
                                           {"local1", LOG_LOCAL1},
                                           {"local2", LOG_LOCAL2},
                                           {"local3", LOG_LOCAL3},
                                           {"local4", LOG_LOCAL4},
                                           {"local5", LOG_LOCAL5},
                                           {"local6", LOG_LOCAL6},
                                           {"local7", LOG_LOCAL7},
                                           {NULL, 0}};
static const struct choice on_error[] = {{"tempfail", 0}, {"accept", 1}, {NULL, 0}};
static const struct choice dialects[] = {{"auto", TT_DIALECT_AUTO},
                                         {"postfix", TT_DIALECT_POSTFIX},
                                         {"sendmail", TT_DIALECT_SENDMAIL},
                                         {NULL, 0}};
static const struct choice on_dns_error[] = {{"tempfail", 0}, {"ignore", 1}, {NULL, 0}};

#define XSTR(x) #x
#define STR(x) XSTR(x)
#define FIELD(f) offsetof(struct tt_config, f), sizeof(((struct tt_config *)0)->f)
#define NOFIELD 0, 0

static bool add_resolver(struct cparser *p, const char *v);
static bool set_timeout(struct cparser *p, const char *v);

static const struct key keys[] = {
    {"Socket", KT_CUSTOM, false, NOFIELD, 0, 0, NULL, TT_DEFAULT_SOCKET, NULL, NULL, set_socket,
     print_socket},
    {"TrustedNetwork", KT_CUSTOM, true, NOFIELD, 0, 0, NULL, NULL, NULL, NULL, add_network,
     print_networks},
    {"DomainTable", KT_PATH, false, FIELD(table_path), 0, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"DefaultAction", KT_CHOICE, false, FIELD(default_action), 0, 0, actions, "defer", NULL, NULL,
     NULL, NULL},
    {"AuthservID", KT_STRING, false, FIELD(authserv_id), 0, 0, NULL, NULL, valid_authserv,
     "a host-name-like token", NULL, NULL},
    {"TagHeader", KT_STRING, false, FIELD(tag_header), 0, 0, NULL, TT_DEFAULT_TAG,
     valid_header_name, "a valid header field name", NULL, NULL},
    {"AuthResults", KT_BOOL, false, FIELD(auth_results), 0, 0, NULL, "no", NULL, NULL, NULL, NULL},
    {"InternalHosts", KT_CUSTOM, true, NOFIELD, 0, 0, NULL, NULL, NULL, NULL, add_internal,
     print_internal},
    {"UserID", KT_STRING, false, FIELD(user), 0, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"PidFile", KT_PATH, false, FIELD(pidfile), 0, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"PolicyMapSocket", KT_CUSTOM, false, NOFIELD, 0, 0, NULL, NULL, NULL, NULL, set_policy_socket,
     print_policy_socket},
    {"StateDatabase", KT_PATH, false, FIELD(state_db), 0, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"PeerTableSize", KT_INT, false, FIELD(peer_table_size), TT_MIN_PEER_TABLE, TT_MAX_PEER_TABLE,
     NULL, STR(TT_DEFAULT_PEER_TABLE), NULL, NULL, NULL, NULL},
    {"MetricsSocket", KT_CUSTOM, false, NOFIELD, 0, 0, NULL, NULL, NULL, NULL, set_metrics_socket,
     print_metrics_socket},
    {"LogLevel", KT_CHOICE, false, FIELD(log_level), 0, 0, log_levels, "info", NULL, NULL, NULL,
     NULL},
    {"Syslog", KT_BOOL, false, FIELD(syslog), 0, 0, NULL, "yes", NULL, NULL, NULL, NULL},
    {"SyslogFacility", KT_CHOICE, false, FIELD(facility), 0, 0, facilities, "mail", NULL, NULL,
     NULL, NULL},
    {"OnError", KT_CHOICE, false, FIELD(on_error_accept), 0, 0, on_error, "tempfail", NULL, NULL,
     NULL, NULL},
    {"MTADialect", KT_CHOICE, false, FIELD(dialect), 0, 0, dialects, "auto", NULL, NULL, NULL,
     NULL},
    {"DnsResolver", KT_CUSTOM, true, NOFIELD, 0, 0, NULL, NULL, NULL, NULL, add_resolver,
     print_resolvers},
    {"DnsTimeout", KT_CUSTOM, false, NOFIELD, 0, 0, NULL, "2s", NULL, NULL, set_timeout,
     print_timeout},
    {"DnsRetries", KT_INT, false, FIELD(dns_conf.retries), 0, 10, NULL, "1", NULL, NULL, NULL,
     NULL},
    {"DnsCacheSize", KT_INT, false, FIELD(dns_conf.cache_size), 1, 10000000, NULL, "10000", NULL,
     NULL, NULL, NULL},
    {"PolicyZone", KT_CUSTOM, true, NOFIELD, 0, 0, NULL, NULL, NULL, NULL, add_zone, print_zones},
    {"PolicyZoneDepth", KT_INT, false, FIELD(zone_depth), 1, 10, NULL, STR(TT_DEFAULT_ZONE_DEPTH),
     NULL, NULL, NULL, NULL},
    {"PolicyZoneRequireDNSSEC", KT_BOOL, false, FIELD(zone_require_dnssec), 0, 0, NULL, "yes", NULL,
     NULL, NULL, NULL},
    {"DnsSenderSignals", KT_BOOL, false, FIELD(sender_signals), 0, 0, NULL, "no", NULL, NULL, NULL,
     NULL},
    {"DnsSenderRequirement", KT_CUSTOM, false, NOFIELD, 0, 0, NULL, "encrypt", NULL, NULL,
     set_sender_req, print_sender_req},
    {"DnsSenderAction", KT_CHOICE, false, FIELD(sender_action), 0, 0, actions, "monitor", NULL,
     NULL, NULL, NULL},
    {"OnDnsError", KT_CHOICE, false, FIELD(on_dns_error_ignore), 0, 0, on_dns_error, "tempfail",
     NULL, NULL, NULL, NULL},
    {"DnsQueryBudget", KT_INT, false, FIELD(dns_budget), 1, 100, NULL, STR(TT_DEFAULT_DNS_BUDGET),
     NULL, NULL, NULL, NULL},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static bool add_resolver(struct cparser *p, const char *v)
{
    char e[300];

    return tt_dns_conf_add_server(&p->c->dns_conf, v, e, sizeof(e)) ||
           cfail(p, "DnsResolver: %s", e);
}

static bool set_timeout(struct cparser *p, const char *v)
{
    long ms = parse_timeout_ms(v);

    if (ms < 0)
        return cfail(p, "DnsTimeout must be seconds (1 to 30) or 100ms to 30000ms");
    p->c->dns_conf.timeout_ms = (int)ms;
    return true;
}

/* Integer fields come in three sizes: bool, int (and enums) and size_t. */
static void store_int(struct tt_config *c, const struct key *k, long v)
{
    void *f = (char *)c + k->off;

    if (k->size == sizeof(bool))
        *(bool *)f = v != 0;
    else if (k->size == sizeof(int))
        *(int *)f = (int)v;
    else
        *(size_t *)f = (size_t)v;
}

static long load_int(const struct tt_config *c, const struct key *k)
{
    const void *f = (const char *)c + k->off;

    if (k->size == sizeof(bool))
        return *(const bool *)f;
    if (k->size == sizeof(int))
        return *(const int *)f;
    return (long)*(const size_t *)f;
}

/* An alias ("warn" for "warning") is accepted but not advertised. */
static bool is_alias(const struct choice *ch, size_t i)
{
    size_t j;

    for (j = 0; j < i; j++)
        if (ch[j].value == ch[i].value)
            return true;
    return false;
}

/* "defer, reject or monitor" */
static void list_choices(const struct choice *ch, char *buf, size_t bufsz)
{
    size_t i, n = 0, total = 0, used = 0;

    for (i = 0; ch[i].name != NULL; i++)
        total += !is_alias(ch, i);
    buf[0] = '\0';
    for (i = 0; ch[i].name != NULL && n < bufsz; i++) {
        if (is_alias(ch, i))
            continue;
        used++;
        n += (size_t)snprintf(buf + n, bufsz - n, "%s%s",
                              used == 1       ? ""
                              : used == total ? " or "
                                              : ", ",
                              ch[i].name);
    }
}

static bool set_key(struct cparser *p, const struct key *k, const char *v)
{
    struct tt_config *c = p->c;
    char **str = (char **)((char *)c + k->off);
    char buf[256];
    long n;
    int b;
    size_t i;

    switch (k->type) {
    case KT_STRING:
        if (k->ok != NULL && !k->ok(v))
            return cfail(p, "%s must be %s, not '%s'", k->name, k->what, v);
        return set_string(p, str, v);
    case KT_PATH:
        free(*str);
        *str = resolve_path(p, v);
        return *str != NULL || cfail(p, "out of memory");
    case KT_BOOL:
        if ((b = parse_bool(v)) < 0)
            return cfail(p, "%s must be yes or no", k->name);
        store_int(c, k, b);
        return true;
    case KT_INT:
        if ((n = parse_number(v, k->min, k->max)) < 0)
            return cfail(p, "%s must be a number from %ld to %ld", k->name, k->min, k->max);
        store_int(c, k, n);
        return true;
    case KT_CHOICE:
        for (i = 0; k->choices[i].name != NULL; i++)
            if (strcasecmp(v, k->choices[i].name) == 0) {
                store_int(c, k, k->choices[i].value);
                return true;
            }
        list_choices(k->choices, buf, sizeof(buf));
        return cfail(p, "%s must be %s", k->name, buf);
    case KT_CUSTOM:
        return k->set(p, v);
    }
    return cfail(p, "internal error: key type");
}

static void print_key(const struct tt_config *c, const struct key *k, FILE *out)
{
    const char *s;
    long v;
    size_t i;

    switch (k->type) {
    case KT_STRING:
    case KT_PATH:
        s = *(char *const *)((const char *)c + k->off);
        fprintf(out, "%s%s%s\n", k->name, s != NULL ? " " : "", s != NULL ? s : "");
        return;
    case KT_BOOL:
        fprintf(out, "%s %s\n", k->name, load_int(c, k) ? "yes" : "no");
        return;
    case KT_INT:
        fprintf(out, "%s %ld\n", k->name, load_int(c, k));
        return;
    case KT_CHOICE:
        v = load_int(c, k);
        for (i = 0; k->choices[i].name != NULL; i++)
            if (k->choices[i].value == v)
                break;
        fprintf(out, "%s %s\n", k->name, k->choices[i].name != NULL ? k->choices[i].name : "?");
        return;
    case KT_CUSTOM:
        k->print(c, k->name, out);
        return;
    }
}

void tt_config_print(const struct tt_config *c, FILE *out)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        print_key(c, &keys[i], out);
}

void tt_config_print_defaults(FILE *out)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        fprintf(out, "%s%s%s\n", keys[i].name, keys[i].dflt != NULL ? " " : "",
                keys[i].dflt != NULL ? keys[i].dflt : "");
}

/* Every default goes through the parser, so the table is its only source. */
static bool set_defaults(struct cparser *p)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        if (keys[i].dflt != NULL && !set_key(p, &keys[i], keys[i].dflt))
            return false;
    return true;
}

static bool parse_line(struct cparser *p, char *line)
{
    char *s = line, *name, *v, *e;
    size_t i;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0' || *s == '#')
        return true;
    name = s;
    s += strcspn(s, " \t");
    if (*s != '\0')
        *s++ = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    v = s;
    /* A '#' after a blank starts a comment, as in OpenDKIM's files. */
    for (e = v; *e != '\0'; e++)
        if (*e == '#' && (e == v || e[-1] == ' ' || e[-1] == '\t')) {
            *e = '\0';
            break;
        }
    e = v + strlen(v);
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    for (i = 0; i < NKEYS; i++)
        if (strcasecmp(name, keys[i].name) == 0)
            break;
    if (i == NKEYS)
        return cfail(p, "unknown key '%s'", name);
    if (*v == '\0')
        return cfail(p, "%s needs a value", keys[i].name);
    if (!keys[i].repeatable) {
        if (p->seen[i] != 0)
            return cfail(p, "%s given twice (first at line %u)", keys[i].name, p->seen[i]);
        p->seen[i] = p->line;
    }
    return set_key(p, &keys[i], v);
}

/*
 * The AD bit (PolicyZoneRequireDNSSEC, DANE signals) says something only
 * when a validating resolver on this host sets it: from anywhere else it
 * crossed a network in clear and anyone on the path can set it.
 */
static void warn_remote_resolvers(const struct cparser *p)
{
    const struct tt_config *c = p->c;
    char addr[INET6_ADDRSTRLEN + 8];
    size_t i;

    if (!(c->nzones > 0 && c->zone_require_dnssec) && !c->sender_signals)
        return;
    for (i = 0; i < tt_dns_server_count(&c->dns_effective); i++)
        if (!tt_dns_server_loopback(&c->dns_effective, i, addr, sizeof(addr)))
            tt_log(LOG_WARNING,
                   "%s: resolver %s%s is not a loopback address: its AD bit is no proof of "
                   "DNSSEC validation (PolicyZoneRequireDNSSEC, DANE); use a validating "
                   "resolver on 127.0.0.1 or ::1",
                   p->file, addr,
                   c->dns_effective.from_resolv_conf ? " (from /etc/resolv.conf)" : "");
}

/*
 * DNS is needed only for a PolicyZone, DnsSenderSignals or an identity=dns
 * rule. The configuration holds the settings, servers filled in from
 * resolv.conf; the resolver itself is a long-lived service that whoever
 * runs the configuration makes (see dns.h). The bound check warns when a
 * message's lookups could outlast the MTA's milter command timeout.
 */
static bool check_dns(struct cparser *p)
{
    struct tt_config *c = p->c;
    char e[300];
    long worst;

    if (c->nzones == 0 && !c->sender_signals && tt_table_count_identity(c->table) == 0)
        return true;
    c->dns_needed = true;
    c->dns_effective = c->dns_conf;
    if (!tt_dns_conf_complete(&c->dns_effective, e, sizeof(e))) {
        snprintf(p->err, p->errsz, "%s: %s", p->file, e);
        return false;
    }
    warn_remote_resolvers(p);
    worst = tt_dns_bound_ms(&c->dns_effective) * c->dns_budget;
    if (worst > TT_MTA_COMMAND_TIMEOUT_MS)
        tt_log(LOG_WARNING,
               "%s: DnsTimeout x (DnsRetries + 1) x DnsQueryBudget = %ld ms: DNS lookups at MAIL "
               "FROM could outlast the MTA's milter command timeout (Postfix: 30 s)",
               p->file, worst);
    return true;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static bool config_line(void *ctx, unsigned int lineno, char *line, size_t len,
                        enum tt_line_problem problem)
{
    struct cparser *p = ctx;

    (void)len;
    p->line = lineno;
    if (problem == TT_LINE_TOO_LONG)
        return cfail(p, "line too long (max %d bytes)", CONF_LINE_MAX);
    if (problem == TT_LINE_NUL)
        return cfail(p, "NUL byte in line");
    return parse_line(p, line);
}

struct tt_config *tt_config_load_stream(FILE *f, const char *path, time_t now, char *err,
                                        size_t errsz)
{
    struct cparser p = {.file = path, .err = err, .errsz = errsz, .now = now};
    bool ok = true, read_error;

    p.c = calloc(1, sizeof(*p.c));
    p.dir = dir_of(path);
    if (p.c == NULL || p.dir == NULL) {
        snprintf(err, errsz, "%s: out of memory", path);
        free(p.dir);
        free(p.c);
        return NULL;
    }
    tt_dns_conf_init(&p.c->dns_conf);
    if (!set_defaults(&p)) {
        ok = false;
    } else if (!tt_each_line(f, CONF_LINE_MAX, config_line, &p, &read_error)) {
        if (read_error)
            snprintf(err, errsz, "%s: read error: %s", path, strerror(errno));
        ok = false;
    }
    if (ok)
        ok = set_string(&p, &p.c->path, path);
    /* Only now is MTADialect known, wherever its line stood. */
    if (ok)
        ok = tt_trust_check_dialect(&p.c->trust, p.c->dialect, err, errsz);
    if (ok && p.c->table_path != NULL) {
        p.c->table = tt_table_load(p.c->table_path, &p.c->trust, err, errsz);
        ok = p.c->table != NULL;
    }
    if (ok)
        ok = check_dns(&p);
    free(p.dir);
    if (!ok) {
        tt_config_free(p.c);
        return NULL;
    }
    return p.c;
}

struct tt_config *tt_config_load(const char *path, time_t now, char *err, size_t errsz)
{
    struct tt_config *c;
    FILE *f = tt_open_regular(path, err, errsz);

    if (f == NULL)
        return NULL;
    c = tt_config_load_stream(f, path, now, err, errsz);
    fclose(f);
    return c;
}

void tt_config_free(struct tt_config *c)
{
    if (c == NULL)
        return;
    tt_table_free(c->table);
    tt_trust_free(&c->trust);
    free(c->path);
    free(c->socket);
    free(c->table_path);
    free(c->authserv_id);
    free(c->tag_header);
    free(c->internal);
    free(c->user);
    free(c->pidfile);
    free(c->state_db);
    free(c->metrics_socket);
    free(c->policy_socket);
    for (size_t i = 0; i < c->nzones; i++) {
        free(c->zones[i].network);
        free(c->zones[i].zone);
    }
    free(c->zones);
    free(c);
}

void tt_config_describe(const struct tt_config *c, FILE *out)
{
    size_t i;

    fprintf(out, "%s: OK\n", c->path);
    fprintf(out, "  socket %s\n", c->socket);
    for (i = 0; i < c->trust.nnets; i++)
        fprintf(out, "  network %s: %zu CA(s) from %s\n", c->trust.nets[i].name,
                c->trust.nets[i].ncas, c->trust.nets[i].file);
    if (c->table_path != NULL)
        fprintf(out, "  table %s: %zu entries\n", c->table_path, tt_table_count(c->table));
    else
        fprintf(out, "  no DomainTable: tagging only\n");
    for (i = 0; i < c->nzones; i++)
        fprintf(out, "  policy zone %s: %s\n", c->zones[i].network, c->zones[i].zone);
    if (c->dns_needed)
        fprintf(out, "  dns: a lookup blocks at most %ld ms, %d lookups per message\n",
                tt_dns_bound_ms(&c->dns_effective), c->dns_budget);
}

bool tt_config_is_internal(const struct tt_config *c, const struct tt_cidr *addr)
{
    size_t i;

    for (i = 0; c != NULL && addr != NULL && i < c->ninternal; i++)
        if (tt_cidr_contains(&c->internal[i], addr))
            return true;
    return false;
}
