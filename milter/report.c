/*
 * report.c - tlstrustctl report: reads the busiest peers, the daily totals
 * and the latest probe of every MX from the StateDatabase into bounded
 * arrays, then writes them as HTML (one page, inline CSS and SVG, nothing
 * fetched), JSON or CSV. Every string from the database is untrusted: peer
 * names are certificate subjects a client chose. Each is cleaned to valid
 * UTF-8 without control characters, then escaped for its output format.
 */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Longest database string shown in the HTML page, in bytes; the JSON and CSV keep it whole. */
#define SHOW_MAX 300

static const char *const level_names[4] = {"none", "encrypted", "verified", "trusted"};
static const char *const version_names[4] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

enum light { LIGHT_GREY, LIGHT_GREEN, LIGHT_AMBER, LIGHT_RED };
static const char *const light_names[] = {"grey", "green", "amber", "red"};

struct peer {
    char *peer, *network, *member;
    int64_t clients, n[4], r[3], a[4], v[4], first_seen, last_seen, total;
    bool has_not_after;
    int64_t not_after;
    enum light light, cap; /* inbound observed, capability probed */
};

/* A probe row with its own copies of the strings. */
struct probe {
    struct tt_probe p;
    char *strs[11];
    enum light light;
    bool matched; /* some observed peer is of its domain */
};

struct data {
    const struct tt_report_opts *o;
    char since[11];
    struct peer *peers;
    size_t npeers;
    struct tt_obs_day *days;
    size_t ndays, days_cap;
    struct probe *probes;
    size_t nprobes;
    bool oom;
};

bool tt_report_format_parse(const char *s, enum tt_report_format *f)
{
    if (strcmp(s, "html") == 0)
        *f = TT_REPORT_HTML;
    else if (strcmp(s, "json") == 0)
        *f = TT_REPORT_JSON;
    else if (strcmp(s, "csv") == 0)
        *f = TT_REPORT_CSV;
    else
        return false;
    return true;
}

/* ------------------------------------------------------------ escaping */

/*
 * Length of the UTF-8 sequence at s (n bytes left) and its code point, or
 * 0 when it is not a valid, shortest-form, non-surrogate sequence.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len, i;
    uint32_t c;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        c = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        c = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

enum esc { ESC_HTML, ESC_JSON, ESC_CSV };

/*
 * Write s escaped for mode, at most max bytes of it ("..." marks a cut).
 * Bytes that are not valid UTF-8, and control characters (C0, DEL, C1),
 * become the visible text \xHH: nothing from the database can end a
 * string, a cell, an element or a line.
 */
static void put_esc(FILE *out, const char *str, enum esc mode, size_t max)
{
    const unsigned char *s = (const unsigned char *)(str != NULL ? str : "");
    size_t n = strlen((const char *)s), i = 0;

    while (i < n) {
        uint32_t cp;
        size_t len = utf8_seq(s + i, n - i, &cp);

        if (i >= max) {
            fputs("...", out);
            return;
        }
        if (len == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
            size_t k, m = len == 0 ? 1 : len;

            for (k = 0; k < m; k++)
                fprintf(out, mode == ESC_JSON ? "\\\\x%02X" : "\\x%02X", s[i + k]);
            i += m;
            continue;
        }
        if (mode == ESC_HTML && cp == '&')
            fputs("&amp;", out);
        else if (mode == ESC_HTML && cp == '<')
            fputs("&lt;", out);
        else if (mode == ESC_HTML && cp == '>')
            fputs("&gt;", out);
        else if (mode == ESC_HTML && cp == '"')
            fputs("&quot;", out);
        else if (mode == ESC_HTML && cp == '\'')
            fputs("&#39;", out);
        else if (mode == ESC_JSON && (cp == '"' || cp == '\\'))
            fprintf(out, "\\%c", (int)cp);
        else if (mode == ESC_JSON &&
                 (cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 || cp == 0x2029))
            fprintf(out, "\\u%04x", (unsigned int)cp); /* safe inside a <script> too */
        else if (mode == ESC_CSV && cp == '"')
            fputs("\"\"", out);
        else
            fwrite(s + i, 1, len, out);
        i += len;
    }
}

static void html(FILE *out, const char *s)
{
    put_esc(out, s, ESC_HTML, SHOW_MAX);
}

static void json_str(FILE *out, const char *s)
{
    if (s == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    put_esc(out, s, ESC_JSON, SIZE_MAX);
    fputc('"', out);
}

/*
 * A CSV text cell, always quoted (RFC 4180). A cell a spreadsheet would
 * take for a formula (= + - @ tab CR first) gets a leading apostrophe.
 */
static void csv_str(FILE *out, const char *s)
{
    if (s == NULL)
        s = "";
    fputc('"', out);
    if (strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0')
        fputc('\'', out);
    put_esc(out, s, ESC_CSV, SIZE_MAX);
    fputc('"', out);
}

/* ------------------------------------------------------------ reading */

static char *dup_or_null(const char *s, bool *oom)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *oom = true;
    return d;
}

/*
 * The member domain a peer names, for matching probes: "from:D" and
 * "from:.D" give D, "zone:NETWORK:D" gives D, a bare host name itself;
 * a certificate subject DN or "*other*" gives none.
 */
static char *member_of(const char *peer, bool *oom)
{
    const char *d = peer;
    size_t i;

    if (strncmp(d, "from:", 5) == 0) {
        d += 5;
    } else if (strncmp(d, "zone:", 5) == 0) {
        d = strchr(d + 5, ':');
        if (d == NULL)
            return NULL;
        d++;
    }
    while (*d == '.')
        d++;
    if (*d == '\0')
        return NULL;
    for (i = 0; d[i] != '\0'; i++)
        if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= 'A' && d[i] <= 'Z') ||
              (d[i] >= '0' && d[i] <= '9') || d[i] == '-' || d[i] == '.' || d[i] == '_'))
            return NULL;
    return dup_or_null(d, oom);
}

/* d is domain or one of its subdomains (ASCII case-insensitive). */
static bool in_domain(const char *d, const char *domain)
{
    size_t n = strlen(d), m = strlen(domain);

    if (n < m || m == 0)
        return false;
    return strcasecmp(d + n - m, domain) == 0 && (n == m || d[n - m - 1] == '.');
}

static enum light inbound_light(const struct peer *p)
{
    if (p->total == 0)
        return LIGHT_GREY;
    if (p->n[0] > 0)
        return LIGHT_RED;
    return p->n[1] + p->n[2] > 0 ? LIGHT_AMBER : LIGHT_GREEN;
}

static enum light probe_light(const struct tt_probe *p)
{
    if (p->result == TT_PROBE_INCONCLUSIVE)
        return LIGHT_GREY;
    if (p->result == TT_PROBE_FAIL)
        return LIGHT_RED;
    if (strcmp(p->level, "trusted") == 0 && p->name_match == TT_TRI_YES &&
        p->days_left >= TT_REPORT_EXPIRY_DAYS)
        return LIGHT_GREEN;
    return LIGHT_AMBER;
}

/* The worst light of the probes of a member domain; grey when none concluded. */
static enum light capability_light(struct data *d, const char *member)
{
    enum light worst = LIGHT_GREY;
    size_t i;

    if (member == NULL)
        return LIGHT_GREY;
    for (i = 0; i < d->nprobes; i++) {
        if (!in_domain(member, d->probes[i].p.domain))
            continue;
        d->probes[i].matched = true;
        if (d->probes[i].light > worst)
            worst = d->probes[i].light;
    }
    return worst;
}

static bool add_peer(void *ctx, const struct tt_obs_peer *o)
{
    struct data *d = ctx;
    struct peer *p = &d->peers[d->npeers];
    int i;

    memset(p, 0, sizeof(*p));
    p->peer = dup_or_null(o->peer, &d->oom);
    p->network = dup_or_null(o->network, &d->oom);
    p->member = member_of(o->peer, &d->oom);
    p->clients = o->clients;
    for (i = 0; i < 4; i++) {
        p->n[i] = o->n[i];
        p->a[i] = o->a[i];
        p->v[i] = o->v[i];
        p->total += o->n[i];
    }
    for (i = 0; i < 3; i++)
        p->r[i] = o->r[i];
    p->first_seen = o->first_seen;
    p->last_seen = o->last_seen;
    p->has_not_after = o->has_not_after;
    p->not_after = o->not_after;
    p->light = inbound_light(p);
    d->npeers++;
    return !d->oom && d->npeers < TT_REPORT_MAX_PEERS;
}

static bool add_day(void *ctx, const struct tt_obs_day *day)
{
    struct data *d = ctx;

    if (d->ndays == d->days_cap)
        return false;
    d->days[d->ndays++] = *day;
    return true;
}

static bool add_probe(void *ctx, const struct tt_probe *p)
{
    struct data *d = ctx;
    struct probe *c = &d->probes[d->nprobes];
    const char *src[11] = {p->domain, p->mx,        p->address, p->reason,  p->level, p->subject,
                           p->issuer, p->chain_pem, p->network, p->mta_sts, NULL};
    size_t i;

    memset(c, 0, sizeof(*c));
    c->p = *p;
    for (i = 0; i < 10; i++)
        c->strs[i] = dup_or_null(src[i], &d->oom);
    c->p.domain = c->strs[0] != NULL ? c->strs[0] : "";
    c->p.mx = c->strs[1] != NULL ? c->strs[1] : "";
    c->p.address = c->strs[2] != NULL ? c->strs[2] : "";
    c->p.reason = c->strs[3] != NULL ? c->strs[3] : "";
    c->p.level = c->strs[4] != NULL ? c->strs[4] : "";
    c->p.subject = c->strs[5];
    c->p.issuer = c->strs[6];
    c->p.chain_pem = c->strs[7];
    c->p.network = c->strs[8] != NULL ? c->strs[8] : "";
    c->p.mta_sts = c->strs[9];
    c->light = probe_light(&c->p);
    d->nprobes++;
    return !d->oom && d->nprobes < TT_REPORT_MAX_PROBES;
}

static void data_free(struct data *d)
{
    size_t i, k;

    for (i = 0; i < d->npeers; i++) {
        free(d->peers[i].peer);
        free(d->peers[i].network);
        free(d->peers[i].member);
    }
    for (i = 0; i < d->nprobes; i++)
        for (k = 0; k < 11; k++)
            free(d->probes[i].strs[k]);
    free(d->peers);
    free(d->days);
    free(d->probes);
}

static bool data_load(struct tt_store *st, struct data *d, char *err, size_t errsz)
{
    size_t i;

    /* The first day of the period: today (UTC) and the days - 1 before it. */
    tt_store_day(d->o->now - (int64_t)(d->o->days - 1) * 86400, d->since, sizeof(d->since));
    d->peers = calloc(TT_REPORT_MAX_PEERS, sizeof(*d->peers));
    d->probes = calloc(TT_REPORT_MAX_PROBES, sizeof(*d->probes));
    d->days_cap = (size_t)d->o->days + 1;
    d->days = calloc(d->days_cap, sizeof(*d->days));
    if (d->peers == NULL || d->probes == NULL || d->days == NULL) {
        snprintf(err, errsz, "out of memory");
        return false;
    }
    if (!tt_store_each_probe(st, d->o->now - (int64_t)d->o->days * 86400, TT_REPORT_MAX_PROBES,
                             add_probe, d, err, errsz) ||
        !tt_store_each_peer(st, d->since, TT_REPORT_MAX_PEERS, add_peer, d, err, errsz) ||
        !tt_store_each_day(st, d->since, add_day, d, err, errsz))
        return false;
    if (d->oom) {
        snprintf(err, errsz, "out of memory");
        return false;
    }
    for (i = 0; i < d->npeers; i++)
        d->peers[i].cap = capability_light(d, d->peers[i].member);
    return true;
}

/* ------------------------------------------------------------ shared */

static void iso_time(int64_t t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, outsz, "?");
}

/* Whole days from now to t, rounded down (an expired certificate gives a negative count). */
static int64_t days_until(int64_t t, int64_t now)
{
    int64_t s = t - now;

    return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

static void age_text(int64_t seconds, char *out, size_t outsz)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 120)
        snprintf(out, outsz, "%" PRId64 " s", seconds);
    else if (seconds < 7200)
        snprintf(out, outsz, "%" PRId64 " min", seconds / 60);
    else if (seconds < 2 * 86400)
        snprintf(out, outsz, "%" PRId64 " h", seconds / 3600);
    else
        snprintf(out, outsz, "%" PRId64 " d", seconds / 86400);
}

static const char *tri_json(enum tt_tri t)
{
    return t == TT_TRI_UNKNOWN ? "null" : t == TT_TRI_YES ? "true" : "false";
}

static const char *tri_text(enum tt_tri t)
{
    return t == TT_TRI_UNKNOWN ? "" : t == TT_TRI_YES ? "yes" : "no";
}

static void versions_text(unsigned int v, char *out, size_t outsz)
{
    size_t i, len = 0;

    out[0] = '\0';
    for (i = 0; i < 4; i++)
        if ((v >> i) & 1)
            len += (size_t)snprintf(out + len, outsz - len, "%s%s", len > 0 ? " " : "",
                                    version_names[i]);
}

static bool peer_expiring(const struct data *d, const struct peer *p)
{
    return p->has_not_after && days_until(p->not_after, d->o->now) < TT_REPORT_EXPIRY_DAYS;
}

static bool probe_expiring(const struct probe *p)
{
    return p->p.has_not_after && p->p.days_left < TT_REPORT_EXPIRY_DAYS;
}

/* ------------------------------------------------------------ JSON */

static void json_counts(FILE *out, const char *const *names, const int64_t *v, size_t n)
{
    size_t i;

    fputc('{', out);
    for (i = 0; i < n; i++)
        fprintf(out, "%s\"%s\": %" PRId64, i > 0 ? ", " : "", names[i], v[i]);
    fputc('}', out);
}

static void write_json(const struct data *d, FILE *out)
{
    static const char *const results[] = {"pass", "fail", "none"};
    static const char *const actions[] = {"accept", "monitor", "defer", "reject"};
    int64_t totals[4] = {0};
    char when[32];
    size_t i, k;
    bool first;

    iso_time(d->o->now, when, sizeof(when));
    fprintf(out, "{\n  \"schema\": \"%s\",\n  \"generated\": %" PRId64 ",\n", TT_REPORT_SCHEMA,
            d->o->now);
    fprintf(out, "  \"generated_utc\": \"%s\",\n  \"days\": %d,\n  \"since\": \"%s\",\n", when,
            d->o->days, d->since);
    fprintf(out, "  \"expiry_warning_days\": %d,\n", TT_REPORT_EXPIRY_DAYS);
    for (i = 0; i < d->ndays; i++)
        for (k = 0; k < 4; k++)
            totals[k] += d->days[i].n[k];
    fputs("  \"totals\": ", out);
    json_counts(out, level_names, totals, 4);
    fputs(",\n  \"daily\": [", out);
    for (i = 0; i < d->ndays; i++) {
        fprintf(out, "%s\n    {\"day\": ", i > 0 ? "," : "");
        json_str(out, d->days[i].day);
        fputs(", \"levels\": ", out);
        json_counts(out, level_names, d->days[i].n, 4);
        fputc('}', out);
    }
    fputs("\n  ],\n  \"peers\": [", out);
    for (i = 0; i < d->npeers; i++) {
        const struct peer *p = &d->peers[i];

        fprintf(out, "%s\n    {\"peer\": ", i > 0 ? "," : "");
        json_str(out, p->peer);
        fputs(", \"member\": ", out);
        json_str(out, p->member);
        fprintf(out,
                ", \"clients\": %" PRId64 ", \"messages\": %" PRId64 ", \"levels\": ", p->clients,
                p->total);
        json_counts(out, level_names, p->n, 4);
        fputs(", \"results\": ", out);
        json_counts(out, results, p->r, 3);
        fputs(", \"actions\": ", out);
        json_counts(out, actions, p->a, 4);
        fputs(", \"tls_versions\": ", out);
        json_counts(out, version_names, p->v, 4);
        fputs(", \"network\": ", out);
        json_str(out, p->network);
        fprintf(out,
                ", \"first_seen\": %" PRId64 ", \"last_seen\": %" PRId64
                ", \"age_seconds\": %" PRId64,
                p->first_seen, p->last_seen, d->o->now - p->last_seen);
        if (p->has_not_after)
            fprintf(out, ", \"cert_not_after\": %" PRId64 ", \"cert_days_left\": %" PRId64,
                    p->not_after, days_until(p->not_after, d->o->now));
        else
            fputs(", \"cert_not_after\": null, \"cert_days_left\": null", out);
        fprintf(out, ", \"inbound\": \"%s\", \"capability\": \"%s\"}", light_names[p->light],
                light_names[p->cap]);
    }
    fputs("\n  ],\n  \"probes\": [", out);
    for (i = 0; i < d->nprobes; i++) {
        const struct tt_probe *p = &d->probes[i].p;

        fprintf(out, "%s\n    {\"domain\": ", i > 0 ? "," : "");
        json_str(out, p->domain);
        fputs(", \"mx\": ", out);
        json_str(out, p->mx);
        fprintf(out, ", \"port\": %d, \"address\": ", p->port);
        json_str(out, p->address);
        fprintf(out, ", \"run\": %" PRId64 ", \"time\": %" PRId64 ", \"age_seconds\": %" PRId64,
                p->run, p->time, d->o->now - p->time);
        fprintf(out, ", \"result\": \"%s\", \"reason\": ", tt_probe_result_name(p->result));
        json_str(out, p->reason);
        fputs(", \"level\": ", out);
        json_str(out, p->level);
        fprintf(out, ", \"starttls\": %s, \"tls_versions\": [", tri_json(p->starttls));
        for (first = true, k = 0; k < 4; k++)
            if ((p->versions >> k) & 1) {
                fprintf(out, "%s\"%s\"", first ? "" : ", ", version_names[k]);
                first = false;
            }
        fputs("], \"subject\": ", out);
        json_str(out, p->subject);
        fputs(", \"issuer\": ", out);
        json_str(out, p->issuer);
        fputs(", \"network\": ", out);
        json_str(out, p->network);
        fprintf(out, ", \"system_verify\": %s, \"name_match\": %s", tri_json(p->system_verify),
                tri_json(p->name_match));
        if (p->has_not_after)
            fprintf(out, ", \"not_after\": %" PRId64 ", \"days_left\": %" PRId64, p->not_after,
                    p->days_left);
        else
            fputs(", \"not_after\": null, \"days_left\": null", out);
        if (p->tlsa_count >= 0)
            fprintf(out, ", \"tlsa\": {\"count\": %d", p->tlsa_count);
        else
            fputs(", \"tlsa\": {\"count\": null", out);
        fprintf(out, ", \"ad\": %s, \"dane_match\": %s}, \"mta_sts\": ", tri_json(p->tlsa_ad),
                tri_json(p->dane));
        json_str(out, p->mta_sts);
        fputs(", \"chain_pem\": ", out);
        json_str(out, p->chain_pem);
        fprintf(out, ", \"capability\": \"%s\"}", light_names[d->probes[i].light]);
    }
    fputs("\n  ],\n  \"expiring\": [", out);
    first = true;
    for (i = 0; i < d->npeers; i++) {
        const struct peer *p = &d->peers[i];

        if (!peer_expiring(d, p))
            continue;
        fprintf(out, "%s\n    {\"source\": \"observed\", \"name\": ", first ? "" : ",");
        json_str(out, p->peer);
        fprintf(out, ", \"not_after\": %" PRId64 ", \"days_left\": %" PRId64 "}", p->not_after,
                days_until(p->not_after, d->o->now));
        first = false;
    }
    for (i = 0; i < d->nprobes; i++) {
        const struct tt_probe *p = &d->probes[i].p;

        if (!probe_expiring(&d->probes[i]))
            continue;
        fprintf(out, "%s\n    {\"source\": \"probe\", \"name\": ", first ? "" : ",");
        json_str(out, p->mx);
        fprintf(out, ", \"not_after\": %" PRId64 ", \"days_left\": %" PRId64 "}", p->not_after,
                p->days_left);
        first = false;
    }
    fputs("\n  ]\n}\n", out);
}

/* ------------------------------------------------------------ CSV */

static const char csv_header[] =
    "kind,name,member,mx,port,address,time_utc,age_seconds,light,clients,messages,none,encrypted,"
    "verified,trusted,policy_pass,policy_fail,policy_none,accept,monitor,defer,reject,tls10,tls11,"
    "tls12,tls13,network,first_seen_utc,result,reason,level,starttls,tls_versions,subject,issuer,"
    "system_verify,name_match,not_after_utc,days_left,tlsa_count,tlsa_ad,dane_match,mta_sts\r\n";

static void csv_time(FILE *out, bool has, int64_t t)
{
    char buf[32];

    if (has) {
        iso_time(t, buf, sizeof(buf));
        fputs(buf, out);
    }
}

/* One row per observed peer, then one per probed MX; the columns that do not apply are empty. */
static void write_csv(const struct data *d, FILE *out)
{
    size_t i, k;

    fputs(csv_header, out);
    for (i = 0; i < d->npeers; i++) {
        const struct peer *p = &d->peers[i];

        fputs("observed,", out);
        csv_str(out, p->peer);
        fputc(',', out);
        csv_str(out, p->member);
        fputs(",,,,", out);
        csv_time(out, true, p->last_seen);
        fprintf(out, ",%" PRId64 ",%s,%" PRId64 ",%" PRId64, d->o->now - p->last_seen,
                light_names[p->light], p->clients, p->total);
        for (k = 0; k < 4; k++)
            fprintf(out, ",%" PRId64, p->n[k]);
        for (k = 0; k < 3; k++)
            fprintf(out, ",%" PRId64, p->r[k]);
        for (k = 0; k < 4; k++)
            fprintf(out, ",%" PRId64, p->a[k]);
        for (k = 0; k < 4; k++)
            fprintf(out, ",%" PRId64, p->v[k]);
        fputc(',', out);
        csv_str(out, p->network);
        fputc(',', out);
        csv_time(out, true, p->first_seen);
        fputs(",,,,,,,,,,", out);
        csv_time(out, p->has_not_after, p->not_after);
        fputc(',', out);
        if (p->has_not_after)
            fprintf(out, "%" PRId64, days_until(p->not_after, d->o->now));
        fputs(",,,,\r\n", out);
    }
    for (i = 0; i < d->nprobes; i++) {
        const struct tt_probe *p = &d->probes[i].p;
        char versions[64];

        fputs("probe,", out);
        csv_str(out, p->domain);
        fputc(',', out);
        csv_str(out, p->domain);
        fputc(',', out);
        csv_str(out, p->mx);
        fprintf(out, ",%d,", p->port);
        csv_str(out, p->address);
        fputc(',', out);
        csv_time(out, true, p->time);
        fprintf(out, ",%" PRId64 ",%s", d->o->now - p->time, light_names[d->probes[i].light]);
        fputs(",,,,,,,,,,,,,,,,,,", out); /* clients to tls13 */
        csv_str(out, p->network);
        fprintf(out, ",,%s,", tt_probe_result_name(p->result));
        csv_str(out, p->reason);
        fputc(',', out);
        csv_str(out, p->level);
        versions_text(p->versions, versions, sizeof(versions));
        fprintf(out, ",%s,%s,", tri_text(p->starttls), versions);
        csv_str(out, p->subject);
        fputc(',', out);
        csv_str(out, p->issuer);
        fprintf(out, ",%s,%s,", tri_text(p->system_verify), tri_text(p->name_match));
        csv_time(out, p->has_not_after, p->not_after);
        fputc(',', out);
        if (p->has_not_after)
            fprintf(out, "%" PRId64, p->days_left);
        fputc(',', out);
        if (p->tlsa_count >= 0)
            fprintf(out, "%d", p->tlsa_count);
        fprintf(out, ",%s,%s,", tri_text(p->tlsa_ad), tri_text(p->dane));
        if (p->mta_sts != NULL)
            csv_str(out, p->mta_sts);
        fputs("\r\n", out);
    }
}

/* ------------------------------------------------------------ HTML */

static const char *const level_colours[4] = {"#c0392b", "#e67e22", "#2e86c1", "#1e8449"};

/* No script and nothing fetched: the CSP forbids it even if an escape were missed. */
static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>tlstrust mail-state map</title>\n<style>\n"
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}\n"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em}\n"
    "table{border-collapse:collapse;font-size:.85em}\n"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#f0f0f0}td.n{text-align:right}\n"
    ".light{display:inline-block;width:.9em;height:.9em;border-radius:50%;"
    "vertical-align:middle;margin-right:.3em;border:1px solid #555}\n"
    ".green{background:#1e8449}.amber{background:#f0b400}.red{background:#c0392b}"
    ".grey{background:#bbb}\n"
    ".age{color:#666;white-space:nowrap}.note{color:#555;font-size:.85em}\n"
    ".legend span{margin-right:1em}.sw{display:inline-block;width:.8em;height:.8em;"
    "margin-right:.3em}\n"
    "</style>\n</head>\n<body>\n";

static void html_light(FILE *out, enum light l, const char *what)
{
    fprintf(out, "<span class=\"light %s\" title=\"%s: %s\"></span>%s", light_names[l], what,
            light_names[l], light_names[l]);
}

static void html_age(FILE *out, const struct data *d, int64_t t)
{
    char when[32], age[32];

    iso_time(t, when, sizeof(when));
    age_text(d->o->now - t, age, sizeof(age));
    fprintf(out, "<span class=\"age\" title=\"%s\">%s ago</span>", when, age);
}

/* The share of messages per level, one stacked bar per day with traffic. */
static void html_chart(FILE *out, const struct data *d)
{
    const double w = 760, h = 220, left = 40, top = 10, plot_w = 700, plot_h = 170;
    double bw = d->ndays > 0 ? plot_w / (double)d->ndays : plot_w;
    size_t i, k;

    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "role=\"img\" aria-label=\"share of messages per level per day\">\n",
            w, h);
    for (k = 0; k <= 4; k++)
        fprintf(out,
                "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%.0f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%zu%%</text>\n",
                left, left + plot_w, top + plot_h - plot_h * (double)k / 4,
                top + plot_h - plot_h * (double)k / 4, left - 4,
                top + plot_h - plot_h * (double)k / 4 + 3, k * 25);
    for (i = 0; i < d->ndays; i++) {
        int64_t total = 0;
        double y = top + plot_h;

        for (k = 0; k < 4; k++)
            total += d->days[i].n[k];
        if (total == 0)
            continue;
        for (k = 0; k < 4; k++) {
            double bh = plot_h * (double)d->days[i].n[k] / (double)total;

            if (d->days[i].n[k] == 0)
                continue;
            y -= bh;
            fprintf(out,
                    "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
                    "<title>%s %s: %" PRId64 " of %" PRId64 "</title></rect>\n",
                    left + bw * (double)i + bw * 0.1, y, bw * 0.8, bh, level_colours[k],
                    d->days[i].day, level_names[k], d->days[i].n[k], total);
        }
    }
    if (d->ndays > 0) {
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\">%s</text>\n", left, h - 20,
                d->days[0].day);
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n",
                left + plot_w, h - 20, d->days[d->ndays - 1].day);
    } else {
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\">no messages counted</text>\n",
                left + 10, top + plot_h / 2);
    }
    fputs("</svg>\n<p class=\"legend\">", out);
    for (k = 0; k < 4; k++)
        fprintf(out, "<span><span class=\"sw\" style=\"background:%s\"></span>%s</span>",
                level_colours[k], level_names[k]);
    fputs("</p>\n", out);
}

/* A peer's messages by level as one small bar. */
static void html_minibar(FILE *out, const struct peer *p)
{
    double x = 0;
    size_t k;

    fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"12\">", out);
    for (k = 0; k < 4 && p->total > 0; k++) {
        double bw = 120.0 * (double)p->n[k] / (double)p->total;

        if (p->n[k] == 0)
            continue;
        fprintf(out,
                "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"12\" fill=\"%s\">"
                "<title>%s: %" PRId64 "</title></rect>",
                x, bw, level_colours[k], level_names[k], p->n[k]);
        x += bw;
    }
    fputs("</svg>", out);
}

static void html_members(FILE *out, const struct data *d)
{
    size_t i, k;

    fputs("<h2>Members</h2>\n<p class=\"note\">One row per sending peer seen by the filter (the "
          "matching rule, the policy-zone record or the certificate subject), then the probed "
          "domains no peer matched. Inbound: red when any message came in plaintext, amber when "
          "all were encrypted but not all trusted, green when all were trusted by a network CA. "
          "Capability: the worst MX of the domain as tlstrustctl survey found it.</p>\n"
          "<table id=\"members\">\n<tr><th>peer</th><th>member</th><th>inbound</th>"
          "<th>capability</th><th>messages</th><th>none</th><th>encrypted</th><th>verified</th>"
          "<th>trusted</th><th>levels</th><th>clients</th><th>network</th><th>last seen</th>"
          "</tr>\n",
          out);
    for (i = 0; i < d->npeers; i++) {
        const struct peer *p = &d->peers[i];

        fputs("<tr class=\"peer\"><td>", out);
        html(out, p->peer[0] != '\0' ? p->peer : "(unknown)");
        fputs("</td><td>", out);
        html(out, p->member);
        fputs("</td><td>", out);
        html_light(out, p->light, "inbound");
        fputs("</td><td>", out);
        html_light(out, p->cap, "capability");
        fprintf(out, "</td><td class=\"n\">%" PRId64 "</td>", p->total);
        for (k = 0; k < 4; k++)
            fprintf(out, "<td class=\"n\">%" PRId64 "</td>", p->n[k]);
        fputs("<td>", out);
        html_minibar(out, p);
        fprintf(out, "</td><td class=\"n\">%" PRId64 "</td><td>", p->clients);
        html(out, p->network);
        fputs("</td><td>", out);
        html_age(out, d, p->last_seen);
        fputs("</td></tr>\n", out);
    }
    /* One row per probed domain no peer matched (the probes come sorted by domain). */
    for (i = 0; i < d->nprobes; i = k) {
        const struct probe *p = &d->probes[i];
        enum light worst = LIGHT_GREY;
        int64_t latest = 0;

        for (k = i; k < d->nprobes && strcmp(d->probes[k].p.domain, p->p.domain) == 0; k++) {
            if (d->probes[k].light > worst)
                worst = d->probes[k].light;
            if (d->probes[k].p.time > latest)
                latest = d->probes[k].p.time;
        }
        if (p->matched)
            continue;
        fputs("<tr class=\"probed\"><td>(not seen)</td><td>", out);
        html(out, p->p.domain);
        fputs("</td><td>", out);
        html_light(out, LIGHT_GREY, "inbound");
        fputs("</td><td>", out);
        html_light(out, worst, "capability");
        fputs("</td><td colspan=\"8\">MX probed:", out);
        for (; i < k; i++) {
            fputc(' ', out);
            html(out, d->probes[i].p.mx[0] != '\0' ? d->probes[i].p.mx : "(none)");
            fprintf(out, ":%d", d->probes[i].p.port);
        }
        fputs("</td><td>", out);
        html_age(out, d, latest);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void html_probes(FILE *out, const struct data *d)
{
    size_t i;

    fputs("<h2>Probed MX hosts</h2>\n<table id=\"probes\">\n<tr><th>domain</th><th>MX</th>"
          "<th>capability</th><th>result</th><th>reason</th><th>level</th><th>STARTTLS</th>"
          "<th>TLS versions</th><th>subject</th><th>issuer</th><th>network CA</th>"
          "<th>system store</th><th>name</th><th>days left</th><th>TLSA / AD / DANE</th>"
          "<th>MTA-STS</th><th>probed</th></tr>\n",
          out);
    for (i = 0; i < d->nprobes; i++) {
        const struct tt_probe *p = &d->probes[i].p;
        char versions[64];

        fputs("<tr class=\"probe\"><td>", out);
        html(out, p->domain);
        fputs("</td><td>", out);
        html(out, p->mx);
        fprintf(out, ":%d<br>", p->port);
        html(out, p->address);
        fputs("</td><td>", out);
        html_light(out, d->probes[i].light, "capability");
        fprintf(out, "</td><td>%s</td><td>", tt_probe_result_name(p->result));
        html(out, p->reason);
        fputs("</td><td>", out);
        html(out, p->level);
        versions_text(p->versions, versions, sizeof(versions));
        fprintf(out, "</td><td>%s</td><td>%s</td><td>", tri_text(p->starttls), versions);
        html(out, p->subject);
        fputs("</td><td>", out);
        html(out, p->issuer);
        fputs("</td><td>", out);
        html(out, p->network);
        fprintf(out, "</td><td>%s</td><td>%s</td><td class=\"n\">", tri_text(p->system_verify),
                tri_text(p->name_match));
        if (p->has_not_after)
            fprintf(out, "%" PRId64, p->days_left);
        fputs("</td><td>", out);
        if (p->tlsa_count >= 0)
            fprintf(out, "%d / %s / %s", p->tlsa_count, tri_text(p->tlsa_ad), tri_text(p->dane));
        else
            fputs("lookup failed", out);
        fputs("</td><td>", out);
        html(out, p->mta_sts);
        fputs("</td><td>", out);
        html_age(out, d, p->time);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void html_expiring(FILE *out, const struct data *d)
{
    size_t i, n = 0;
    char when[32];

    fprintf(out,
            "<h2>Certificates expiring soon</h2>\n<p class=\"note\">Expired, or expiring within "
            "%d days.</p>\n<table id=\"expiring\">\n<tr><th>seen as</th><th>name</th>"
            "<th>not after</th><th>days left</th></tr>\n",
            TT_REPORT_EXPIRY_DAYS);
    for (i = 0; i < d->npeers; i++) {
        const struct peer *p = &d->peers[i];

        if (!peer_expiring(d, p))
            continue;
        iso_time(p->not_after, when, sizeof(when));
        fputs("<tr><td>observed peer</td><td>", out);
        html(out, p->peer);
        fprintf(out, "</td><td>%s</td><td class=\"n\">%" PRId64 "</td></tr>\n", when,
                days_until(p->not_after, d->o->now));
        n++;
    }
    for (i = 0; i < d->nprobes; i++) {
        const struct tt_probe *p = &d->probes[i].p;

        if (!probe_expiring(&d->probes[i]))
            continue;
        iso_time(p->not_after, when, sizeof(when));
        fputs("<tr><td>probed MX</td><td>", out);
        html(out, p->mx);
        fprintf(out, "</td><td>%s</td><td class=\"n\">%" PRId64 "</td></tr>\n", when, p->days_left);
        n++;
    }
    if (n == 0)
        fputs("<tr><td colspan=\"4\">none</td></tr>\n", out);
    fputs("</table>\n", out);
}

static void write_html(const struct data *d, FILE *out)
{
    int64_t totals[4] = {0}, all = 0;
    char when[32];
    size_t i, k;

    iso_time(d->o->now, when, sizeof(when));
    fputs(html_head, out);
    fprintf(out,
            "<h1>Mail-state map</h1>\n<p>Generated %s for the %d day(s) since %s (UTC). "
            "Every measurement shows its age; hover for the time.</p>\n",
            when, d->o->days, d->since);
    for (i = 0; i < d->ndays; i++)
        for (k = 0; k < 4; k++)
            totals[k] += d->days[i].n[k];
    for (k = 0; k < 4; k++)
        all += totals[k];
    fputs("<h2>Messages per level</h2>\n<p id=\"totals\">", out);
    for (k = 0; k < 4; k++)
        fprintf(out, "%s%s: %" PRId64 " (%.1f%%)", k > 0 ? ", " : "", level_names[k], totals[k],
                all > 0 ? 100.0 * (double)totals[k] / (double)all : 0.0);
    fputs("</p>\n", out);
    html_chart(out, d);
    html_members(out, d);
    html_probes(out, d);
    html_expiring(out, d);
    fprintf(out, "<p class=\"note\">tlstrust %s; JSON schema %s.</p>\n</body>\n</html>\n",
            TLSTRUST_VERSION, TT_REPORT_SCHEMA);
}

bool tt_report_write(struct tt_store *st, const struct tt_report_opts *o, FILE *out, char *err,
                     size_t errsz)
{
    struct data d = {.o = o};
    bool ok = data_load(st, &d, err, errsz);

    if (ok) {
        switch (o->format) {
        case TT_REPORT_HTML:
            write_html(&d, out);
            break;
        case TT_REPORT_JSON:
            write_json(&d, out);
            break;
        case TT_REPORT_CSV:
            write_csv(&d, out);
            break;
        }
        if (fflush(out) != 0 || ferror(out)) {
            snprintf(err, errsz, "writing the report failed");
            ok = false;
        }
    }
    data_free(&d);
    return ok;
}
