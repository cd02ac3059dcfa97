/*
 * config.c - parse tlstrust.conf. Every key is known in advance; an unknown
 * key, a missing or malformed value or a repeated single-valued key is an
 * error with file and line, so a typo never silently weakens the policy.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "address.h"
#include "lines.h"
#include "log.h"
#include "sockspec.h"

#define CONF_LINE_MAX 4096

struct cparser {
    struct tt_config *c;
    const char *file;
    char *dir; /* directory of file, for relative paths */
    unsigned int line;
    unsigned int seen[32]; /* line where each single-valued key was set */
    char *err;
    size_t errsz;
    time_t now;
};

static bool cfail(struct cparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool cfail(struct cparser *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errsz, "%s:%u: %s", p->file, p->line, msg);
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

/* An authserv-id goes into headers unquoted: keep it to a safe token. */
static bool valid_authserv(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return false;
    return n > 0 && n <= 128;
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
    if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n)
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

/* A DNS name for PolicyZone: letters, digits, '-', '_' in labels of 1..63 bytes. */
static bool valid_zone(const char *z)
{
    size_t label = 0, total = 0;

    for (; *z != '\0'; z++, total++) {
        if (*z == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!((*z >= 'a' && *z <= 'z') || (*z >= 'A' && *z <= 'Z') || (*z >= '0' && *z <= '9') ||
              *z == '-' || *z == '_') ||
            ++label > 63)
            return false;
    }
    return label > 0 && total <= 200;
}

static bool add_zone(struct cparser *p, const char *v)
{
    char net[64], zone[256];
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
    if (strspn(net, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
        strlen(net))
        return cfail(p, "PolicyZone network name '%s' may hold letters, digits, '-', '_' and '.'",
                     net);
    tt_domain_normalize(zone);
    if (!valid_zone(zone))
        return cfail(p, "PolicyZone: invalid zone name '%s'", zone);
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
    struct tt_config *c = p->c;

    c->sender_network = NULL;
    if (strcasecmp(v, "encrypt") == 0) {
        c->sender_req = TT_REQ_ENCRYPT;
    } else if (strcasecmp(v, "verify") == 0) {
        c->sender_req = TT_REQ_VERIFY;
    } else if (strcasecmp(v, "trusted") == 0) {
        c->sender_req = TT_REQ_TRUSTED;
    } else if (strncasecmp(v, "trusted:", 8) == 0) {
        const struct tt_network *n = tt_trust_find(&c->trust, v + 8);

        if (n == NULL)
            return cfail(p,
                         "DnsSenderRequirement: unknown network '%s' (TrustedNetwork lines "
                         "come first)",
                         v + 8);
        c->sender_req = TT_REQ_TRUSTED;
        c->sender_network = n->name;
    } else {
        return cfail(p, "DnsSenderRequirement must be encrypt, verify, trusted or "
                        "trusted:NETWORK");
    }
    return true;
}

enum key_id {
    K_SOCKET,
    K_TRUSTEDNETWORK,
    K_DOMAINTABLE,
    K_DEFAULTACTION,
    K_AUTHSERVID,
    K_TAGHEADER,
    K_AUTHRESULTS,
    K_INTERNALHOSTS,
    K_USERID,
    K_PIDFILE,
    K_LOGLEVEL,
    K_SYSLOG,
    K_SYSLOGFACILITY,
    K_ONERROR,
    K_MTADIALECT,
    K_DNSRESOLVER,
    K_DNSTIMEOUT,
    K_DNSRETRIES,
    K_DNSCACHESIZE,
    K_POLICYZONE,
    K_POLICYZONEDEPTH,
    K_POLICYZONEREQUIREDNSSEC,
    K_DNSSENDERSIGNALS,
    K_DNSSENDERREQUIREMENT,
    K_DNSSENDERACTION,
    K_ONDNSERROR,
    K_DNSQUERYBUDGET,
};

static const struct {
    const char *name;
    enum key_id id;
    bool repeatable;
} keys[] = {
    {"Socket", K_SOCKET, false},
    {"TrustedNetwork", K_TRUSTEDNETWORK, true},
    {"DomainTable", K_DOMAINTABLE, false},
    {"DefaultAction", K_DEFAULTACTION, false},
    {"AuthservID", K_AUTHSERVID, false},
    {"TagHeader", K_TAGHEADER, false},
    {"AuthResults", K_AUTHRESULTS, false},
    {"InternalHosts", K_INTERNALHOSTS, true},
    {"UserID", K_USERID, false},
    {"PidFile", K_PIDFILE, false},
    {"LogLevel", K_LOGLEVEL, false},
    {"Syslog", K_SYSLOG, false},
    {"SyslogFacility", K_SYSLOGFACILITY, false},
    {"OnError", K_ONERROR, false},
    {"MTADialect", K_MTADIALECT, false},
    {"DnsResolver", K_DNSRESOLVER, true},
    {"DnsTimeout", K_DNSTIMEOUT, false},
    {"DnsRetries", K_DNSRETRIES, false},
    {"DnsCacheSize", K_DNSCACHESIZE, false},
    {"PolicyZone", K_POLICYZONE, true},
    {"PolicyZoneDepth", K_POLICYZONEDEPTH, false},
    {"PolicyZoneRequireDNSSEC", K_POLICYZONEREQUIREDNSSEC, false},
    {"DnsSenderSignals", K_DNSSENDERSIGNALS, false},
    {"DnsSenderRequirement", K_DNSSENDERREQUIREMENT, false},
    {"DnsSenderAction", K_DNSSENDERACTION, false},
    {"OnDnsError", K_ONDNSERROR, false},
    {"DnsQueryBudget", K_DNSQUERYBUDGET, false},
};

static bool apply(struct cparser *p, enum key_id id, const char *name, const char *v)
{
    struct tt_config *c = p->c;
    int i;

    switch (id) {
    case K_SOCKET:
        return set_socket(p, v);
    case K_TRUSTEDNETWORK:
        return add_network(p, v);
    case K_DOMAINTABLE:
        free(c->table_path);
        c->table_path = resolve_path(p, v);
        return c->table_path != NULL || cfail(p, "out of memory");
    case K_DEFAULTACTION:
        if ((i = tt_action_from_name(v)) < 0)
            return cfail(p, "DefaultAction must be defer, reject or monitor");
        c->default_action = (enum tt_action)i;
        return true;
    case K_AUTHSERVID:
        if (!valid_authserv(v))
            return cfail(p, "AuthservID must be a host-name-like token");
        return set_string(p, &c->authserv_id, v);
    case K_TAGHEADER:
        if (!valid_header_name(v))
            return cfail(p, "TagHeader '%s' is not a valid header field name", v);
        return set_string(p, &c->tag_header, v);
    case K_AUTHRESULTS:
    case K_SYSLOG:
        if ((i = parse_bool(v)) < 0)
            return cfail(p, "%s must be yes or no", name);
        if (id == K_AUTHRESULTS)
            c->auth_results = i;
        else
            c->syslog = i;
        return true;
    case K_INTERNALHOSTS:
        return add_internal(p, v);
    case K_USERID:
        return set_string(p, &c->user, v);
    case K_PIDFILE:
        free(c->pidfile);
        c->pidfile = resolve_path(p, v);
        return c->pidfile != NULL || cfail(p, "out of memory");
    case K_LOGLEVEL:
        if ((c->log_level = tt_log_level_from_name(v)) < 0)
            return cfail(p, "LogLevel must be error, warning, notice, info or debug");
        return true;
    case K_SYSLOGFACILITY:
        if ((c->facility = tt_log_facility_from_name(v)) < 0)
            return cfail(p, "SyslogFacility must be mail, daemon or local0..local7");
        return true;
    case K_ONERROR:
        if (strcasecmp(v, "tempfail") != 0 && strcasecmp(v, "accept") != 0)
            return cfail(p, "OnError must be tempfail or accept");
        c->on_error_accept = strcasecmp(v, "accept") == 0;
        return true;
    case K_MTADIALECT:
        if (strcasecmp(v, "auto") == 0)
            c->dialect = TT_DIALECT_AUTO;
        else if (strcasecmp(v, "postfix") == 0)
            c->dialect = TT_DIALECT_POSTFIX;
        else if (strcasecmp(v, "sendmail") == 0)
            c->dialect = TT_DIALECT_SENDMAIL;
        else
            return cfail(p, "MTADialect must be auto, postfix or sendmail");
        return true;
    case K_DNSRESOLVER: {
        char e[300];

        return tt_dns_conf_add_server(&c->dns_conf, v, e, sizeof(e)) ||
               cfail(p, "DnsResolver: %s", e);
    }
    case K_DNSTIMEOUT: {
        long ms = parse_timeout_ms(v);

        if (ms < 0)
            return cfail(p, "DnsTimeout must be seconds (1 to 30) or 100ms to 30000ms");
        c->dns_conf.timeout_ms = (int)ms;
        return true;
    }
    case K_DNSRETRIES:
        if ((i = (int)parse_number(v, 0, 10)) < 0)
            return cfail(p, "DnsRetries must be a number from 0 to 10");
        c->dns_conf.retries = i;
        return true;
    case K_DNSCACHESIZE: {
        long n = parse_number(v, 1, 10000000);

        if (n < 0)
            return cfail(p, "DnsCacheSize must be a number from 1 to 10000000");
        c->dns_conf.cache_size = (size_t)n;
        return true;
    }
    case K_POLICYZONE:
        return add_zone(p, v);
    case K_POLICYZONEDEPTH:
        if ((i = (int)parse_number(v, 1, 10)) < 0)
            return cfail(p, "PolicyZoneDepth must be a number from 1 to 10");
        c->zone_depth = i;
        return true;
    case K_POLICYZONEREQUIREDNSSEC:
    case K_DNSSENDERSIGNALS:
        if ((i = parse_bool(v)) < 0)
            return cfail(p, "%s must be yes or no", name);
        if (id == K_POLICYZONEREQUIREDNSSEC)
            c->zone_require_dnssec = i;
        else
            c->sender_signals = i;
        return true;
    case K_DNSSENDERREQUIREMENT:
        return set_sender_req(p, v);
    case K_DNSSENDERACTION:
        if ((i = tt_action_from_name(v)) < 0)
            return cfail(p, "DnsSenderAction must be defer, reject or monitor");
        c->sender_action = (enum tt_action)i;
        return true;
    case K_ONDNSERROR:
        if (strcasecmp(v, "tempfail") != 0 && strcasecmp(v, "ignore") != 0)
            return cfail(p, "OnDnsError must be tempfail or ignore");
        c->on_dns_error_ignore = strcasecmp(v, "ignore") == 0;
        return true;
    case K_DNSQUERYBUDGET:
        if ((i = (int)parse_number(v, 1, 100)) < 0)
            return cfail(p, "DnsQueryBudget must be a number from 1 to 100");
        c->dns_budget = i;
        return true;
    }
    return cfail(p, "internal error: unhandled key");
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
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcasecmp(name, keys[i].name) == 0)
            break;
    if (i == sizeof(keys) / sizeof(keys[0]))
        return cfail(p, "unknown key '%s'", name);
    if (*v == '\0')
        return cfail(p, "%s needs a value", keys[i].name);
    if (!keys[i].repeatable) {
        if (p->seen[keys[i].id] != 0)
            return cfail(p, "%s given twice (first at line %u)", keys[i].name, p->seen[keys[i].id]);
        p->seen[keys[i].id] = p->line;
    }
    return apply(p, keys[i].id, keys[i].name, v);
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
    for (i = 0; i < tt_dns_server_count(c->dns); i++)
        if (!tt_dns_server_loopback(c->dns, i, addr, sizeof(addr)))
            tt_log(LOG_WARNING,
                   "%s: resolver %s%s is not a loopback address: its AD bit is no proof of "
                   "DNSSEC validation (PolicyZoneRequireDNSSEC, DANE); use a validating "
                   "resolver on 127.0.0.1 or ::1",
                   p->file, addr, c->dns_conf.nservers == 0 ? " (from /etc/resolv.conf)" : "");
}

/*
 * The resolver exists only when something needs it: a PolicyZone,
 * DnsSenderSignals or an identity=dns rule. The bound check warns when a
 * message's lookups could outlast the MTA's milter command timeout.
 */
static bool start_dns(struct cparser *p)
{
    struct tt_config *c = p->c;
    char e[300];
    long worst;

    if (c->nzones == 0 && !c->sender_signals && tt_table_count_identity(c->table) == 0)
        return true;
    c->dns = tt_dns_new(&c->dns_conf, e, sizeof(e));
    if (c->dns == NULL) {
        snprintf(p->err, p->errsz, "%s: %s", p->file, e);
        return false;
    }
    warn_remote_resolvers(p);
    worst = tt_dns_bound_ms(c->dns) * c->dns_budget;
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
    p.c->default_action = TT_ACTION_DEFER;
    p.c->log_level = LOG_INFO;
    p.c->syslog = true;
    p.c->facility = LOG_MAIL;
    tt_dns_conf_init(&p.c->dns_conf);
    p.c->zone_depth = TT_DEFAULT_ZONE_DEPTH;
    p.c->zone_require_dnssec = true;
    p.c->sender_req = TT_REQ_ENCRYPT;
    p.c->sender_action = TT_ACTION_MONITOR;
    p.c->dns_budget = TT_DEFAULT_DNS_BUDGET;
    if (!tt_each_line(f, CONF_LINE_MAX, config_line, &p, &read_error)) {
        if (read_error)
            snprintf(err, errsz, "%s: read error: %s", path, strerror(errno));
        ok = false;
    }
    if (ok)
        ok = set_string(&p, &p.c->path, path);
    if (ok && p.c->socket == NULL)
        ok = set_string(&p, &p.c->socket, TT_DEFAULT_SOCKET);
    if (ok && p.c->tag_header == NULL)
        ok = set_string(&p, &p.c->tag_header, TT_DEFAULT_TAG);
    /* Only now is MTADialect known, wherever its line stood. */
    if (ok)
        ok = tt_trust_check_dialect(&p.c->trust, p.c->dialect, err, errsz);
    if (ok && p.c->table_path != NULL) {
        p.c->table = tt_table_load(p.c->table_path, &p.c->trust, err, errsz);
        ok = p.c->table != NULL;
    }
    if (ok)
        ok = start_dns(&p);
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
    struct stat st;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
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
    tt_dns_free(c->dns);
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
    if (c->dns != NULL)
        fprintf(out, "  dns: a lookup blocks at most %ld ms, %d lookups per message\n",
                tt_dns_bound_ms(c->dns), c->dns_budget);
}

bool tt_config_is_internal(const struct tt_config *c, const struct tt_cidr *addr)
{
    size_t i;

    for (i = 0; c != NULL && addr != NULL && i < c->ninternal; i++)
        if (tt_cidr_contains(&c->internal[i], addr))
            return true;
    return false;
}
