/*
 * config.c - parse tlstrust.conf. Every key is known in advance; an unknown
 * key, a missing or malformed value or a repeated single-valued key is an
 * error with file and line, so a typo never silently weakens the policy.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"

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

static bool valid_socket(const char *s)
{
    return strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0 ||
           strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0 || s[0] == '/';
}

static bool set_string(struct cparser *p, char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst != NULL || cfail(p, "out of memory");
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
};

static bool apply(struct cparser *p, enum key_id id, const char *name, const char *v)
{
    struct tt_config *c = p->c;
    int i;

    switch (id) {
    case K_SOCKET:
        if (!valid_socket(v))
            return cfail(p, "Socket must be inet:PORT@ADDR, inet6:PORT@ADDR or unix:PATH");
        return set_string(p, &c->socket, v);
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

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

struct tt_config *tt_config_load_stream(FILE *f, const char *path, time_t now, char *err,
                                        size_t errsz)
{
    struct cparser p = {.file = path, .err = err, .errsz = errsz, .now = now};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool ok = true;

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
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        p.line++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len > CONF_LINE_MAX)
            ok = cfail(&p, "line too long (max %d bytes)", CONF_LINE_MAX);
        else if (memchr(line, '\0', (size_t)len) != NULL)
            ok = cfail(&p, "NUL byte in line");
        else
            ok = parse_line(&p, line);
    }
    free(line);
    if (ok)
        ok = set_string(&p, &p.c->path, path);
    if (ok && p.c->socket == NULL)
        ok = set_string(&p, &p.c->socket, TT_DEFAULT_SOCKET);
    if (ok && p.c->tag_header == NULL)
        ok = set_string(&p, &p.c->tag_header, TT_DEFAULT_TAG);
    if (ok && p.c->table_path != NULL) {
        p.c->table = tt_table_load(p.c->table_path, &p.c->trust, err, errsz);
        ok = p.c->table != NULL;
    }
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
    free(c);
}

bool tt_config_is_internal(const struct tt_config *c, const struct tt_cidr *addr)
{
    size_t i;

    for (i = 0; c != NULL && addr != NULL && i < c->ninternal; i++)
        if (tt_cidr_contains(&c->internal[i], addr))
            return true;
    return false;
}
