/*
 * tablebench.c - the domain table at scale, measured through libtlstrust
 * itself (lib/domtable.h):
 *
 *   tablebench generate N FILE
 *       write an N-entry table: a few fixed entries the load runs hit,
 *       then exact and .parent from: keys, to: keys, and client: keys
 *       (IPv4 /32 and /24, IPv6 /48, host names), with every requirement,
 *       action and attribute in turn.
 *   tablebench bench FILE --ca PEM [--lookups K]
 *       load it with tt_table_load (time, RSS growth, peak RSS), then time
 *       K lookups of each kind one by one (exact hit, .parent hit, miss,
 *       to: hit, client address hit and miss), the whole MAIL-time policy
 *       decision as the milter makes it (TLS capture, sender and client
 *       lookups, evaluation), and tt_table_free (what the last session
 *       holding an old table pays after a reload).
 *
 * The CA bundle becomes network "redsegura", which the generated table
 * names in trusted:redsegura rules. The last line of bench output is
 * "RESULT key=value ..." for scripts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "cidr.h"
#include "domtable.h"
#include "policy.h"
#include "tls_state.h"
#include "trustnet.h"

#define KEY_MAX 96
/* The fixed entries at the top of every generated table. */
#define NFIXED 6

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
    uint64_t x = rng_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ULL;
}

/* Resident and peak resident set size of this process, in KiB. */
static void memory(long *rss_kb, long *hwm_kb)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];

    *rss_kb = *hwm_kb = -1;
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            *rss_kb = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            *hwm_kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
}

/*
 * Entry i of the generated part (i >= 0), by i % 10:
 *   0-3 from: exact   s{i}.org{i%1000}.example
 *   4-5 from: .parent .p{i}.org{i%1000}.example
 *   6-7 to:           r{i}.example (every tenth of them .r{i}.example)
 *   8-9 client:       j = i/10*2 + (i%10 - 8), by j % 4: 100.64/10 /32,
 *                     10/8 /24, 2001:db8::/32 /48, host name
 */
static void key_of(unsigned long i, char *out, size_t outsz)
{
    unsigned long j, m;

    switch (i % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
        snprintf(out, outsz, "s%lu.org%lu.example", i, i % 1000);
        return;
    case 4:
    case 5:
        snprintf(out, outsz, ".p%lu.org%lu.example", i, i % 1000);
        return;
    case 6:
    case 7:
        snprintf(out, outsz, "to:%sr%lu.example", (i / 10) % 10 == 0 ? "." : "", i);
        return;
    default:
        j = i / 10 * 2 + (i % 10 - 8);
        m = j / 4;
        switch (j % 4) {
        case 0:
            m += 1; /* not 100.64.0.0 */
            snprintf(out, outsz, "client:100.%lu.%lu.%lu", 64 + ((m >> 16) & 63), (m >> 8) & 255,
                     m & 255);
            return;
        case 1:
            snprintf(out, outsz, "client:10.%lu.%lu.0/24", (m >> 8) & 255, m & 255);
            return;
        case 2:
            snprintf(out, outsz, "client:2001:db8:%lx::/48", m & 0xffff);
            return;
        default:
            snprintf(out, outsz, "client:h%lu.clients.example", i);
            return;
        }
    }
}

static int generate(unsigned long n, const char *file)
{
    static const char *const reqs[] = {"encrypt", "verify", "trusted", "trusted:redsegura", "none"};
    static const char *const actions[] = {"reject", "defer", "monitor", ""};
    FILE *f = fopen(file, "w");
    unsigned long i;

    if (f == NULL) {
        fprintf(stderr, "tablebench: %s: %s\n", file, strerror(errno));
        return 1;
    }
    if (n < NFIXED)
        n = NFIXED;
    fprintf(f,
            "# tablebench entries=%lu\n"
            "# Hit by the load runs; monitor, so every transaction reaches end of message.\n"
            "sender.example           encrypt monitor\n"
            ".bench-parent.example    trusted monitor\n"
            "member.example           trusted:redsegura monitor subject=*.member.example\n"
            "to:receiver.test         encrypt monitor\n"
            "client:198.18.0.0/15     encrypt monitor\n"
            "client:127.0.0.0/8       encrypt monitor\n"
            "# Generated: exact and .parent from:, to:, client: CIDR and host names.\n",
            n);
    for (i = 0; i < n - NFIXED; i++) {
        char key[KEY_MAX];
        const char *req = reqs[i % 5];

        key_of(i, key, sizeof(key));
        if (strcmp(req, "none") == 0) {
            fprintf(f, "%s none\n", key);
            continue;
        }
        fprintf(f, "%s %s %s", key, req, actions[(i / 5) % 4]);
        if (i % 7 == 0)
            fprintf(f, " min_version=TLSv1.2");
        if (i % 11 == 0)
            fprintf(f, " min_bits=128");
        if (i % 13 == 0 && i % 10 < 6)
            fprintf(f, " subject=*.org%lu.example,mx.example", i % 1000);
        if (i % 17 == 0)
            fprintf(f, " reply=\"TLS required by policy %lu\"", i);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "tablebench: %s: %s\n", file, strerror(errno));
        return 1;
    }
    return 0;
}

/* Entries generated, from the first line ("# tablebench entries=N"). */
static unsigned long entries_in(const char *file)
{
    FILE *f = fopen(file, "r");
    char line[128];
    unsigned long n = 0;

    if (f != NULL && fgets(line, sizeof(line), f) != NULL)
        sscanf(line, "# tablebench entries=%lu", &n);
    if (f != NULL)
        fclose(f);
    return n > NFIXED ? n - NFIXED : 0;
}

/* A random generated index whose i % 10 lies in [lo, hi]. */
static unsigned long pick(unsigned long n, unsigned int lo, unsigned int hi)
{
    for (;;) {
        unsigned long i = rng() % n;

        if (i % 10 >= lo && i % 10 <= hi)
            return i;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

struct stats {
    double p50, p99, mean;
    unsigned long found;
};

static void summarize(uint64_t *v, size_t n, struct stats *s)
{
    uint64_t sum = 0;
    size_t i;

    qsort(v, n, sizeof(*v), cmp_u64);
    for (i = 0; i < n; i++)
        sum += v[i];
    s->p50 = (double)v[n / 2];
    s->p99 = (double)v[(n * 99) / 100];
    s->mean = (double)sum / (double)n;
}

enum cat { C_HIT, C_PARENT, C_MISS, C_TO, C_ADDR_HIT, C_ADDR_MISS, NCAT };

static const char *const cat_names[NCAT] = {"hit", "parent", "miss", "to", "addr_hit", "addr_miss"};
static const char *const cat_text[NCAT] = {"from: exact hit",       "from: .parent hit",
                                           "from: miss (3 probes)", "to: hit",
                                           "client: addr hit",      "client: addr miss"};

/* Keys for one category: domains as text, addresses parsed. */
static void make_keys(enum cat c, unsigned long n, size_t k, char (*dom)[KEY_MAX],
                      struct tt_cidr *addr)
{
    size_t x;

    for (x = 0; x < k; x++) {
        unsigned long i, j, m;
        char buf[KEY_MAX];

        switch (c) {
        case C_HIT:
            i = pick(n, 0, 3);
            snprintf(dom[x], KEY_MAX, "s%lu.org%lu.example", i, i % 1000);
            break;
        case C_PARENT:
            i = pick(n, 4, 5);
            snprintf(dom[x], KEY_MAX, "mx.p%lu.org%lu.example", i, i % 1000);
            break;
        case C_MISS:
            i = rng() % n;
            snprintf(dom[x], KEY_MAX, "m%lu.org%lu.example", i, i % 1000);
            break;
        case C_TO:
            i = pick(n, 6, 7);
            snprintf(dom[x], KEY_MAX, "%sr%lu.example", (i / 10) % 10 == 0 ? "mail." : "", i);
            break;
        case C_ADDR_HIT:
            /* /32 and /24 entries, in turn. */
            do {
                i = pick(n, 8, 9);
                j = i / 10 * 2 + (i % 10 - 8);
            } while (j % 4 > 1);
            m = j / 4;
            if (j % 4 == 0)
                snprintf(buf, sizeof(buf), "100.%lu.%lu.%lu", 64 + (((m + 1) >> 16) & 63),
                         ((m + 1) >> 8) & 255, (m + 1) & 255);
            else
                snprintf(buf, sizeof(buf), "10.%lu.%lu.%lu", (m >> 8) & 255, m & 255,
                         1 + rng() % 254);
            if (!tt_ip_parse(buf, &addr[x]))
                abort();
            break;
        case C_ADDR_MISS:
            snprintf(buf, sizeof(buf), "192.0.2.%lu", 1 + rng() % 254);
            if (!tt_ip_parse(buf, &addr[x]))
                abort();
            break;
        default:
            break;
        }
    }
}

/* Time each lookup alone; the clock's own cost is reported apart. */
static void time_lookups(const struct tt_table *t, enum cat c, size_t k, char (*dom)[KEY_MAX],
                         const struct tt_cidr *addr, uint64_t *v, struct stats *s)
{
    enum tt_key_type type = c == C_TO ? TT_KEY_TO : TT_KEY_FROM;
    unsigned long found = 0;
    size_t x;

    for (x = 0; x < k; x++) {
        const struct tt_rule *r;
        uint64_t t0 = now_ns();

        if (c == C_ADDR_HIT || c == C_ADDR_MISS)
            r = tt_table_lookup_addr(t, &addr[x]);
        else
            r = tt_table_lookup_domain(t, type, dom[x]);
        v[x] = now_ns() - t0;
        found += r != NULL;
    }
    summarize(v, k, s);
    s->found = found;
}

/* The MTA's macros for one kind of client, as milterload sends them. */
static void macros_for(int kind, struct tt_macros *m)
{
    memset(m, 0, sizeof(*m));
    m->mta_version = kind == 3 ? "8.17.1.9" : "Postfix 3.7.11";
    if (kind == 0)
        return;
    m->tls_version = "TLSv1.3";
    m->cipher = "TLS_AES_256_GCM_SHA384";
    m->cipher_bits = "256";
    if (kind == 2) {
        m->cert_subject = "mail.member.example";
        m->cert_issuer = "Red Segura CA";
    } else if (kind == 3) {
        m->cert_subject = "/C=ES/O=Red+20Segura/CN=mail.member.example";
        m->cert_issuer = "/C=ES/O=Red+20Segura/OU=Test/CN=Red+20Segura+20CA";
        m->cn_subject = "mail.member.example";
        m->cn_issuer = "Red+20Segura+20CA";
        m->verify = "OK";
    } else if (kind == 4) {
        m->cert_subject = "mail.outside.example";
        m->cert_issuer = "Outside CA";
    }
}

/*
 * What envfrom_cb does between libmilter calls: capture and classify the
 * TLS macros, find the sender's domain, judge from: and client: rules.
 */
static void time_decisions(const struct tt_table *t, const struct tt_trust *trust, unsigned long n,
                           size_t k, uint64_t *v, struct stats *s)
{
    static const char *const senders[] = {"<a@sender.example>", "<b@mx.bench-parent.example>",
                                          "<c@member.example>", NULL, NULL};
    struct tt_cidr client;
    static struct tt_tls tls;
    char from[KEY_MAX + 8], domain[TT_DOMAIN_MAX];
    unsigned long refusals = 0;
    size_t x;

    tt_ip_parse("198.18.3.7", &client);
    for (x = 0; x < k; x++) {
        struct tt_macros m;
        struct tt_verdict acc, vd;
        const struct tt_rule *r;
        size_t which = x % 5;
        uint64_t t0;

        if (senders[which] != NULL) {
            snprintf(from, sizeof(from), "%s", senders[which]);
        } else {
            unsigned long i = rng() % n;

            snprintf(from, sizeof(from), "<u@%s%lu.org%lu.example>", which == 3 ? "s" : "m", i,
                     i % 1000);
        }
        macros_for((int)(x % 5), &m);
        t0 = now_ns();
        memset(&acc, 0, sizeof(acc));
        tt_tls_capture(&tls, &m, TT_DIALECT_AUTO, trust);
        if (tt_addr_domain(from, domain, sizeof(domain)) == TT_ADDR_DOMAIN) {
            tt_policy_eval(tt_table_lookup_domain(t, TT_KEY_FROM, domain), &tls, trust,
                           TT_ACTION_DEFER, &vd);
            tt_policy_merge(&acc, &vd);
        }
        r = tt_table_lookup_addr(t, &client);
        tt_policy_eval(r, &tls, trust, TT_ACTION_DEFER, &vd);
        tt_policy_merge(&acc, &vd);
        refusals += tt_policy_refuses(&acc);
        v[x] = now_ns() - t0;
    }
    summarize(v, k, s);
    s->found = refusals;
}

static int bench(const char *file, const char *ca, size_t k)
{
    struct tt_trust trust = {0};
    struct tt_table *t, *t2;
    char err[1024];
    long rss0, hwm0, rss1, hwm1, rss2, hwm2;
    uint64_t t0, load_ns, free_ns, *v, tm[1000];
    unsigned long n = entries_in(file);
    char(*dom)[KEY_MAX];
    struct tt_cidr *addr;
    struct stats st[NCAT], dec, timer;
    int c;
    size_t x, count;

    if (n == 0) {
        fprintf(stderr, "tablebench: %s was not written by 'tablebench generate'\n", file);
        return 1;
    }
    if (ca != NULL && !tt_trust_add(&trust, "redsegura", ca, time(NULL), err, sizeof(err))) {
        fprintf(stderr, "tablebench: %s\n", err);
        return 1;
    }
    v = calloc(k, sizeof(*v));
    dom = calloc(k, sizeof(*dom));
    addr = calloc(k, sizeof(*addr));
    if (v == NULL || dom == NULL || addr == NULL) {
        fprintf(stderr, "tablebench: out of memory\n");
        return 1;
    }
    memory(&rss0, &hwm0);
    t0 = now_ns();
    t = tt_table_load(file, &trust, err, sizeof(err));
    load_ns = now_ns() - t0;
    if (t == NULL) {
        fprintf(stderr, "tablebench: %s\n", err);
        return 1;
    }
    memory(&rss1, &hwm1);
    count = tt_table_count(t);

    for (x = 0; x < sizeof(tm) / sizeof(tm[0]); x++) {
        uint64_t a = now_ns();

        tm[x] = now_ns() - a;
    }
    summarize(tm, sizeof(tm) / sizeof(tm[0]), &timer);
    for (c = 0; c < NCAT; c++) {
        make_keys((enum cat)c, n, k, dom, addr);
        time_lookups(t, (enum cat)c, k, dom, addr, v, &st[c]);
    }
    time_decisions(t, &trust, n, k, v, &dec);

    /* A reload: a second table lives beside the first, then the old one is freed. */
    t2 = tt_table_load(file, &trust, err, sizeof(err));
    if (t2 == NULL) {
        fprintf(stderr, "tablebench: %s\n", err);
        return 1;
    }
    memory(&rss2, &hwm2);
    t0 = now_ns();
    tt_table_free(t);
    free_ns = now_ns() - t0;
    tt_table_free(t2);

    printf("table %s: %zu entries\n", file, count);
    printf("  load            %.3f s\n", (double)load_ns / 1e9);
    printf("  RSS growth      %.1f MB (peak during load %.1f MB above start)\n",
           (double)(rss1 - rss0) / 1024, (double)(hwm1 - rss0) / 1024);
    printf("  two tables      %.1f MB above start (old and new, during a reload)\n",
           (double)(rss2 - rss0) / 1024);
    printf("  free            %.1f ms (tt_table_free of the old table)\n", (double)free_ns / 1e6);
    printf("  clock overhead  %.0f ns (p50 of an empty timing; included below)\n", timer.p50);
    for (c = 0; c < NCAT; c++)
        printf("  %-22s p50 %5.0f ns  p99 %5.0f ns  mean %5.0f ns  (%lu/%zu found)\n", cat_text[c],
               st[c].p50, st[c].p99, st[c].mean, st[c].found, k);
    printf("  %-22s p50 %5.0f ns  p99 %5.0f ns  mean %5.0f ns  (%lu/%zu refused)\n",
           "MAIL decision", dec.p50, dec.p99, dec.mean, dec.found, k);
    printf("RESULT entries=%zu load_s=%.3f rss_mb=%.1f peak_mb=%.1f reload_mb=%.1f free_ms=%.1f "
           "timer_ns=%.0f",
           count, (double)load_ns / 1e9, (double)(rss1 - rss0) / 1024, (double)(hwm1 - rss0) / 1024,
           (double)(rss2 - rss0) / 1024, (double)free_ns / 1e6, timer.p50);
    for (c = 0; c < NCAT; c++)
        printf(" %s_p50_ns=%.0f %s_p99_ns=%.0f", cat_names[c], st[c].p50, cat_names[c], st[c].p99);
    printf(" decision_p50_ns=%.0f decision_p99_ns=%.0f\n", dec.p50, dec.p99);
    tt_trust_free(&trust);
    free(v);
    free(dom);
    free(addr);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: tablebench generate N FILE\n"
                 "       tablebench bench FILE [--ca PEM] [--lookups K]\n"
                 "Generate a domain table of N entries, or load one and measure load time,\n"
                 "memory, lookup latency by kind and the MAIL-time decision (see the source).\n"
                 "--ca names the bundle of network \"redsegura\" (the generated table uses it).\n");
}

int main(int argc, char **argv)
{
    const char *ca = NULL;
    size_t k = 200000;
    int i;

    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "generate") == 0) {
        char *end;
        unsigned long n = strtoul(argv[2], &end, 10);

        if (*end != '\0' || n == 0 || n > 100000000) {
            usage(stderr);
            return 2;
        }
        return generate(n, argv[3]);
    }
    if (argc < 3 || strcmp(argv[1], "bench") != 0) {
        usage(stderr);
        return 2;
    }
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) {
            ca = argv[++i];
        } else if (strcmp(argv[i], "--lookups") == 0 && i + 1 < argc) {
            k = strtoul(argv[++i], NULL, 10);
            if (k < 100)
                k = 100;
        } else {
            usage(stderr);
            return 2;
        }
    }
    return bench(argv[2], ca, k);
}
