/*
 * fuzz_table.c - the domain table parser (tt_table_load_stream) and its
 * lookups, against a trust store with networks "redsegura" and
 * "universidad" so that trusted:NETWORK lines can load.
 *
 * Input: a whole table file. Properties:
 *  - on failure, err is "NAME:LINE: message" with NAME the name passed and
 *    LINE a line of the input, and the lines before LINE load cleanly:
 *    the error names the first bad line;
 *  - on success, every line that is not blank or a comment made one rule
 *    (tt_table_count), and each rule is found again by its own key: a
 *    domain key by tt_table_lookup_domain (the same rule, same line), a
 *    client: address or CIDR by tt_table_lookup_addr (that rule or a
 *    longer prefix that contains it);
 *  - lookups of names taken from the input (as domains of each key type
 *    and, when they parse, as addresses) return a rule of the asked type
 *    whose key is the name itself or a ".parent" suffix of it, or whose
 *    block contains the address.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "cidr.h"
#include "domtable.h"
#include "fuzz_common.h"

#define NAME "fuzz-domains"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *labels[] = {"from:", "to:", "client:"};

/* Number of lines getline() returns for the input. */
static unsigned int count_lines(const uint8_t *data, size_t size)
{
    unsigned int n = 0;
    size_t i;

    for (i = 0; i < size; i++)
        n += data[i] == '\n';
    return n + (size > 0 && data[size - 1] != '\n');
}

/* Offset where line number line (from 1) starts. */
static size_t line_start(const uint8_t *data, size_t size, unsigned int line)
{
    size_t i;

    for (i = 0; i < size && line > 1; i++)
        if (data[i] == '\n')
            line--;
    return i;
}

/* The block of a client: rule key ("client:192.0.2.0/24") contains a. */
static bool rule_contains(const struct tt_rule *r, const struct tt_cidr *a, unsigned int minbits)
{
    struct tt_cidr c;

    return strncmp(r->key, "client:", 7) == 0 && tt_cidr_parse(r->key + 7, &c) &&
           c.bits >= minbits && tt_cidr_contains(&c, a);
}

/* A domain lookup answer is the name itself or one of its ".parent" keys. */
static void check_domain_answer(const struct tt_rule *r, enum tt_key_type type, const char *d)
{
    const char *k;
    size_t kl, dl = strlen(d);

    if (r == NULL)
        return;
    FZ_CHECK(r->type == type);
    FZ_CHECK(strncmp(r->key, labels[type], strlen(labels[type])) == 0);
    k = r->key + strlen(labels[type]);
    kl = strlen(k);
    FZ_CHECK(strcmp(k, d) == 0 || (k[0] == '.' && kl <= dl && strcmp(d + dl - kl, k) == 0));
}

/* Every rule line of a loaded table is found again by its own key. */
static void check_rules(const struct tt_table *t, const char *text)
{
    const char *p = text;
    unsigned int line = 0;
    size_t rules = 0;

    while (*p != '\0') {
        size_t len = strcspn(p, "\n"), kl, i;
        char key[TT_TABLE_LINE_MAX + 1], buf[TT_TABLE_LINE_MAX + 1];
        const char *s = p, *k;
        enum tt_key_type type = TT_KEY_FROM;
        struct tt_cidr c;

        line++;
        p += len + (p[len] == '\n');
        if (len > 0 && s[len - 1] == '\r')
            len--;
        while (len > 0 && (*s == ' ' || *s == '\t'))
            s++, len--;
        if (len == 0 || *s == '#')
            continue;
        rules++;
        kl = strcspn(s, " \t\r\n");
        if (kl > len)
            kl = len;
        FZ_CHECK(kl <= TT_TABLE_LINE_MAX);
        memcpy(key, s, kl);
        key[kl] = '\0';
        if (strchr(key, '"') != NULL)
            continue; /* the tokenizer removes quotes: not worth replaying */
        k = key;
        for (i = 0; i < 3; i++) {
            if (strncasecmp(key, labels[i], strlen(labels[i])) == 0) {
                type = (enum tt_key_type)i;
                k = key + strlen(labels[i]);
                break;
            }
        }
        if (type == TT_KEY_CLIENT && tt_cidr_parse(k, &c)) {
            const struct tt_rule *r = tt_table_lookup_addr(t, &c);

            FZ_CHECK(r != NULL);
            FZ_CHECK(r->type == TT_KEY_CLIENT);
            FZ_CHECK(r->line == line || rule_contains(r, &c, c.bits));
        } else {
            const struct tt_rule *r;

            /* Keys are stored canonical (A-labels): look them up that way. */
            buf[0] = '.';
            FZ_CHECK(tt_domain_canonical(k[0] == '.' ? k + 1 : k, buf + 1, sizeof(buf) - 1));
            r = tt_table_lookup_domain(t, type, k[0] == '.' ? buf : buf + 1);
            FZ_CHECK(r != NULL);
            FZ_CHECK(r->line == line);
            FZ_CHECK(r->type == type);
            FZ_CHECK(strncmp(r->key, labels[type], strlen(labels[type])) == 0);
            FZ_CHECK(strcmp(r->key + strlen(labels[type]), k[0] == '.' ? buf : buf + 1) == 0);
        }
    }
    FZ_CHECK(tt_table_count(t) == rules);
}

/* Look up words of the input as domains and addresses. */
static void check_lookups(const struct tt_table *t, char *text)
{
    char *w, *save = NULL;
    int n = 0;

    for (w = strtok_r(text, " \t\r\n,=\"", &save); w != NULL && n < 16;
         w = strtok_r(NULL, " \t\r\n,=\"", &save), n++) {
        const char *colon = strchr(w, ':');
        char d[300];
        struct tt_cidr a;
        int type;

        /* "from:x.org" is looked up as x.org; "client:192.0.2.1" as the address. */
        if (colon != NULL && colon - w <= 6 && strchr(colon + 1, ':') == NULL)
            w = (char *)colon + 1;
        if (strlen(w) >= sizeof(d))
            continue;
        memcpy(d, w, strlen(w) + 1);
        tt_domain_normalize(d);
        for (type = TT_KEY_FROM; type <= TT_KEY_CLIENT; type++)
            check_domain_answer(tt_table_lookup_domain(t, (enum tt_key_type)type, d),
                                (enum tt_key_type)type, d);
        if (tt_ip_parse(w, &a)) {
            const struct tt_rule *r = tt_table_lookup_addr(t, &a);

            FZ_CHECK(r == NULL || (r->type == TT_KEY_CLIENT && rule_contains(r, &a, 0)));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct tt_trust *trust = fz_trust();
    char err[1024];
    FILE *f = fz_open(data, size);
    struct tt_table *t = tt_table_load_stream(f, NAME, trust, err, sizeof(err));
    char *text;

    fz_close(f);
    if (t == NULL) {
        const size_t nl = strlen(NAME ":");
        char *end;
        unsigned long line;
        size_t before;

        FZ_CHECK(strncmp(err, NAME ":", nl) == 0);
        FZ_CHECK(err[nl] >= '1' && err[nl] <= '9');
        line = strtoul(err + nl, &end, 10);
        FZ_CHECK(strncmp(end, ": ", 2) == 0);
        FZ_CHECK(line >= 1 && line <= count_lines(data, size));
        /* Everything before the line named loads. */
        before = line_start(data, size, (unsigned int)line);
        if (before > 0) {
            f = fz_open(data, before);
            t = tt_table_load_stream(f, NAME, trust, err, sizeof(err));
            fz_close(f);
            FZ_CHECK(t != NULL);
            tt_table_free(t);
        }
        return 0;
    }
    text = fz_strdup(data, size);
    /* A loaded table holds no NUL byte, so the string is the whole input. */
    FZ_CHECK(strlen(text) == size);
    check_rules(t, text);
    check_lookups(t, text);
    free(text);
    tt_table_free(t);
    return 0;
}
