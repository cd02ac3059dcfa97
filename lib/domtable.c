/*
 * domtable.c - parse the domain table and answer lookups. Keys live in one
 * open-addressing hash table (type + key bytes) so a lookup costs a few
 * probes whatever the table size: a domain is looked up exactly, then each
 * ".parent" suffix in turn; an address once per prefix length in use.
 * All strings sit in an arena that is freed in one go with the table.
 */
#include "domtable.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "address.h"
#include "lines.h"
#include "rule.h"
#include "tls_state.h"

#define ARENA_CHUNK (256 * 1024)
#define MAX_TOKENS 32

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    char data[];
};

struct entry {
    struct tt_rule rule;
    const char *hkey;
    uint32_t hklen;
    uint32_t hash;
};

struct tt_table {
    struct entry *entries;
    size_t n, cap;
    /*
     * Each slot: the key's hash in the high half, entry index + 1 in the
     * low half (0 = empty), so a probe that misses never touches an entry.
     */
    uint64_t *slots;
    size_t nslots; /* power of two */
    struct arena_chunk *arena;
    bool v4len[33];
    bool v6len[129];
    /* The prefix lengths in use, longest first, for address lookups. */
    uint8_t v4lens[33], v6lens[129];
    unsigned int nv4lens, nv6lens;
};

static void *arena_alloc(struct tt_table *t, size_t n)
{
    struct arena_chunk *c = t->arena;

    n = (n + 7) & ~(size_t)7;
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

        c = malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->next = t->arena;
        c->used = 0;
        c->size = size;
        t->arena = c;
    }
    c->used += n;
    return c->data + c->used - n;
}

static char *arena_strndup(struct tt_table *t, const char *s, size_t n)
{
    char *p = arena_alloc(t, n + 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static uint32_t hash_key(enum tt_key_type type, const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)type;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ULL;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static const struct entry *find(const struct tt_table *t, enum tt_key_type type, const char *k,
                                size_t n)
{
    uint32_t h = hash_key(type, k, n);
    size_t mask = t->nslots - 1, i = h & mask;

    if (t->nslots == 0)
        return NULL;
    while (t->slots[i] != 0) {
        const struct entry *e;

        if ((uint32_t)(t->slots[i] >> 32) != h) {
            i = (i + 1) & mask;
            continue;
        }
        e = &t->entries[(uint32_t)t->slots[i] - 1];

        if (e->hash == h && e->rule.type == type && e->hklen == n && memcmp(e->hkey, k, n) == 0)
            return e;
        i = (i + 1) & mask;
    }
    return NULL;
}

static bool rehash(struct tt_table *t, size_t want)
{
    size_t nslots = 64, i;
    uint64_t *slots;

    while (nslots < want * 2)
        nslots *= 2;
    slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL)
        return false;
    for (i = 0; i < t->n; i++) {
        size_t j = t->entries[i].hash & (nslots - 1);

        while (slots[j] != 0)
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint64_t)t->entries[i].hash << 32 | (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return true;
}

/* Parser state for one file. */
struct parser {
    struct tt_table *t;
    const struct tt_trust *trust;
    const char *file;
    unsigned int line;
    char *err;
    size_t errsz;
};

static bool fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tt_line_error(p->err, p->errsz, p->file, p->line, fmt, ap);
    va_end(ap);
    return false;
}

/*
 * Split line into tokens in place. A double-quoted part inside a token
 * (reply="two words") may hold blanks and \" or \\ escapes. A token that
 * starts with '#' begins a comment.
 */
static int tokenize(struct parser *p, char *line, char **tok)
{
    int n = 0;
    char *r = line;

    for (;;) {
        char *w;

        while (*r == ' ' || *r == '\t')
            r++;
        if (*r == '\0' || *r == '#')
            return n;
        if (n == MAX_TOKENS)
            return fail(p, "too many fields (max %d)", MAX_TOKENS), -1;
        tok[n++] = w = r;
        while (*r != '\0' && *r != ' ' && *r != '\t') {
            if (*r != '"') {
                *w++ = *r++;
                continue;
            }
            for (r++; *r != '"'; r++) {
                if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
                    r++;
                if (*r == '\0')
                    return fail(p, "unterminated quoted string"), -1;
                *w++ = *r;
            }
            r++;
        }
        if (*r != '\0')
            r++;
        *w = '\0';
    }
}

static const char *const key_prefixes[] = {
    [TT_KEY_FROM] = "from:", [TT_KEY_TO] = "to:", [TT_KEY_CLIENT] = "client:"};

const char *tt_key_prefix(enum tt_key_type type)
{
    return key_prefixes[type];
}

const char *tt_key_split(const char *s, enum tt_key_type *type)
{
    size_t i;

    for (i = 0; i < sizeof(key_prefixes) / sizeof(key_prefixes[0]); i++)
        if (strncasecmp(s, key_prefixes[i], strlen(key_prefixes[i])) == 0) {
            *type = (enum tt_key_type)i;
            return s + strlen(key_prefixes[i]);
        }
    *type = TT_KEY_FROM;
    return s;
}

static bool parse_key(struct parser *p, const char *tok, struct entry *e)
{
    const char *k, *label;
    char buf[300];
    struct tt_cidr c;
    size_t i, n;

    k = tt_key_split(tok, &e->rule.type);
    label = tt_key_prefix(e->rule.type);
    n = strlen(k);
    if (n == 0)
        return fail(p, "empty key");
    if (n >= sizeof(buf))
        return fail(p, "key too long (%zu bytes)", n);
    if (e->rule.type == TT_KEY_CLIENT && strchr(k, ':') == NULL && strchr(k, '/') == NULL &&
        !tt_ip_parse(k, &c) && strchr(k, '.') != NULL && k[0] >= '0' && k[0] <= '9' &&
        strspn(k, "0123456789.") == n) {
        return fail(p, "invalid IPv4 address '%s'", k);
    }
    if (e->rule.type == TT_KEY_CLIENT && tt_cidr_parse(k, &c)) {
        char *hk = arena_alloc(p->t, 19);

        if (hk == NULL)
            return fail(p, "out of memory");
        hk[0] = '\0';
        hk[1] = (char)(c.family == AF_INET ? 4 : 6);
        hk[2] = (char)c.bits;
        memcpy(hk + 3, c.addr, 16);
        e->hkey = hk;
        e->hklen = 19;
        if (c.family == AF_INET)
            p->t->v4len[c.bits] = true;
        else
            p->t->v6len[c.bits] = true;
    } else {
        if (e->rule.type == TT_KEY_CLIENT && (strchr(k, '/') != NULL || strchr(k, ':') != NULL))
            return fail(p, "invalid address or CIDR '%s'", k);
        /* Keys take the form envelope domains are judged in (A-labels, lower case). */
        buf[0] = '.';
        if (!tt_domain_canonical(k[0] == '.' ? k + 1 : k, buf + 1, sizeof(buf) - 1))
            return fail(p, "invalid domain '%s'", k);
        if (k[0] != '.')
            memmove(buf, buf + 1, strlen(buf + 1) + 1);
        e->hkey = arena_strndup(p->t, buf, strlen(buf));
        if (e->hkey == NULL)
            return fail(p, "out of memory");
        e->hklen = (uint32_t)strlen(buf);
        k = buf;
    }
    {
        size_t ll = strlen(label), kl = strlen(k);
        char *key = arena_alloc(p->t, ll + kl + 1);

        if (key == NULL)
            return fail(p, "out of memory");
        memcpy(key, label, ll);
        memcpy(key + ll, k, kl + 1);
        for (i = ll; key[i] != '\0'; i++)
            if (key[i] >= 'A' && key[i] <= 'Z')
                key[i] = (char)(key[i] - 'A' + 'a');
        e->rule.key = key;
    }
    return true;
}

static void *arena_store(void *owner, size_t n)
{
    return arena_alloc(owner, n);
}

static bool add_entry(struct parser *p, struct entry *e)
{
    const struct entry *dup;

    e->hash = hash_key(e->rule.type, e->hkey, e->hklen);
    dup = find(p->t, e->rule.type, e->hkey, e->hklen);
    if (dup != NULL)
        return fail(p, "duplicate key '%s' (first defined at line %u)", e->rule.key,
                    dup->rule.line);
    if (p->t->n == p->t->cap) {
        size_t cap = p->t->cap ? p->t->cap * 2 : 256;
        struct entry *ne = realloc(p->t->entries, cap * sizeof(*ne));

        if (ne == NULL)
            return fail(p, "out of memory");
        p->t->entries = ne;
        p->t->cap = cap;
    }
    p->t->entries[p->t->n++] = *e;
    if (p->t->n * 2 > p->t->nslots) {
        if (!rehash(p->t, p->t->n * 2))
            return fail(p, "out of memory");
    } else {
        size_t j = e->hash & (p->t->nslots - 1);

        while (p->t->slots[j] != 0)
            j = (j + 1) & (p->t->nslots - 1);
        p->t->slots[j] = (uint64_t)e->hash << 32 | (uint32_t)p->t->n;
    }
    return true;
}

static bool parse_line(struct parser *p, char *line)
{
    struct tt_rule_store store = {arena_store, p->t};
    char *tok[MAX_TOKENS], err[400];
    struct entry e;
    unsigned int seen = 0;
    int n, i;

    n = tokenize(p, line, tok);
    if (n <= 0)
        return n == 0;
    memset(&e, 0, sizeof(e));
    e.rule.line = p->line;
    if (!parse_key(p, tok[0], &e))
        return false;
    if (n < 2)
        return fail(p, "missing requirement after key '%s'", tok[0]);
    if (!tt_rule_set_req(&e.rule, tok[1], p->trust, err, sizeof(err)))
        return fail(p, "%s", err);
    for (i = 2; i < n; i++) {
        char *eq = strchr(tok[i], '=');

        if (eq == NULL && i != 2)
            return fail(p, "unexpected '%s' (the action comes right after the requirement)",
                        tok[i]);
        if (eq == NULL) {
            if (!tt_rule_set_action(&e.rule, tok[i], err, sizeof(err)))
                return fail(p, "%s", err);
            continue;
        }
        if (eq == tok[i])
            return fail(p, "expected attr=value, got '%s'", tok[i]);
        *eq = '\0';
        if (!tt_rule_set_attr(&e.rule, tok[i], eq + 1, &seen, &store, err, sizeof(err)))
            return fail(p, "%s", err);
    }
    if (!tt_rule_check(&e.rule, seen, err, sizeof(err)))
        return fail(p, "%s", err);
    return add_entry(p, &e);
}

/* List the prefix lengths in use, longest first, so address lookups skip the rest. */
static void finish_lens(struct tt_table *t)
{
    int bits;

    t->nv4lens = t->nv6lens = 0;
    for (bits = 32; bits >= 0; bits--)
        if (t->v4len[bits])
            t->v4lens[t->nv4lens++] = (uint8_t)bits;
    for (bits = 128; bits >= 0; bits--)
        if (t->v6len[bits])
            t->v6lens[t->nv6lens++] = (uint8_t)bits;
}

static bool table_line(void *ctx, unsigned int lineno, char *line, size_t len,
                       enum tt_line_problem problem)
{
    struct parser *p = ctx;

    p->line = lineno;
    if (problem == TT_LINE_TOO_LONG)
        return fail(p, "line too long (%zu bytes, max %d)", len, TT_TABLE_LINE_MAX);
    if (problem == TT_LINE_NUL)
        return fail(p, "NUL byte in line");
    return parse_line(p, line);
}

struct tt_table *tt_table_load_stream(FILE *f, const char *name, const struct tt_trust *trust,
                                      char *err, size_t errsz)
{
    struct parser p = {.trust = trust, .file = name, .err = err, .errsz = errsz};
    bool read_error;

    p.t = calloc(1, sizeof(*p.t));
    if (p.t == NULL || !rehash(p.t, 64)) {
        snprintf(err, errsz, "%s: out of memory", name);
        free(p.t);
        return NULL;
    }
    if (!tt_each_line(f, TT_TABLE_LINE_MAX, table_line, &p, &read_error)) {
        if (read_error)
            snprintf(err, errsz, "%s: read error: %s", name, strerror(errno));
        tt_table_free(p.t);
        return NULL;
    }
    finish_lens(p.t);
    return p.t;
}

struct tt_table *tt_table_load(const char *file, const struct tt_trust *trust, char *err,
                               size_t errsz)
{
    struct tt_table *t;
    FILE *f = tt_open_regular(file, err, errsz);

    if (f == NULL)
        return NULL;
    t = tt_table_load_stream(f, file, trust, err, errsz);
    fclose(f);
    return t;
}

void tt_table_free(struct tt_table *t)
{
    struct arena_chunk *c, *next;

    if (t == NULL)
        return;
    for (c = t->arena; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(t->entries);
    free(t->slots);
    free(t);
}

size_t tt_table_count(const struct tt_table *t)
{
    return t != NULL ? t->n : 0;
}

const struct tt_rule *tt_table_lookup_domain(const struct tt_table *t, enum tt_key_type type,
                                             const char *domain)
{
    const struct entry *e;
    const char *dot;
    size_t n;

    if (t == NULL || domain == NULL || *domain == '\0')
        return NULL;
    n = strlen(domain);
    e = find(t, type, domain, n);
    if (e != NULL)
        return &e->rule;
    /* Each suffix that starts at a dot is a ".parent" key as written in the table. */
    for (dot = strchr(domain, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
        e = find(t, type, dot, n - (size_t)(dot - domain));
        if (e != NULL)
            return &e->rule;
    }
    return NULL;
}

const struct tt_rule *tt_table_lookup_addr(const struct tt_table *t, const struct tt_cidr *addr)
{
    const uint8_t *lens;
    unsigned int i, n;
    char hk[19];

    if (t == NULL || addr == NULL)
        return NULL;
    lens = addr->family == AF_INET ? t->v4lens : t->v6lens;
    n = addr->family == AF_INET ? t->nv4lens : t->nv6lens;
    hk[0] = '\0';
    hk[1] = (char)(addr->family == AF_INET ? 4 : 6);
    for (i = 0; i < n; i++) {
        struct tt_cidr m;
        const struct entry *e;

        tt_cidr_mask(addr, lens[i], &m);
        hk[2] = (char)lens[i];
        memcpy(hk + 3, m.addr, 16);
        e = find(t, TT_KEY_CLIENT, hk, sizeof(hk));
        if (e != NULL)
            return &e->rule;
    }
    return NULL;
}

size_t tt_table_count_identity(const struct tt_table *t)
{
    size_t i, n = 0;

    for (i = 0; t != NULL && i < t->n; i++)
        n += t->entries[i].rule.identity_dns;
    return n;
}

const struct tt_rule *tt_table_rule(const struct tt_table *t, size_t i)
{
    return t != NULL && i < t->n ? &t->entries[i].rule : NULL;
}
