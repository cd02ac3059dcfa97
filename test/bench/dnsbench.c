/*
 * dnsbench.c - the cost of the DNS part of a MAIL FROM decision
 * (tt_decide_mail), cached and uncached, against a DNS server the
 * caller runs on loopback (test/bench/dns-bench.sh starts ldns-testns).
 * Usage: dnsbench CACHED.conf UNCACHED.conf [N]
 * CACHED.conf asks one name again and again (every lookup after the first
 * is a cache hit); UNCACHED.conf has DnsCacheSize 1 and the lookups
 * alternate between two names, so each one goes to the server.
 * Prints p50/p99 in microseconds and the resolver's counters, which show
 * whether the lookups really were cache hits or packets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "decide.h"
#include "dnspolicy.h"
#include "log.h"

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int run(const char *conf, const char *label, int n, int alternate)
{
    char err[600];
    struct tt_config *c = tt_config_load(conf, time(NULL), err, sizeof(err));
    struct tt_dnsmsg *m = calloc(1, sizeof(*m));
    double *v = malloc((size_t)n * sizeof(*v));
    struct tt_dns_stats st;
    struct tt_dns *dns = NULL;
    struct tt_tls tls;
    int i;

    if (c != NULL && c->dns_needed)
        dns = tt_dns_new(&c->dns_effective, err, sizeof(err));
    if (c == NULL || dns == NULL || m == NULL || v == NULL) {
        fprintf(stderr, "dnsbench: %s\n", c == NULL || dns == NULL ? err : "out of memory");
        return 1;
    }
    memset(&tls, 0, sizeof(tls));
    tls.tls = true;
    tls.level = TT_LEVEL_ENCRYPTED;
    /* 50 warm-up rounds are not measured. */
    for (i = 0; i < n + 50; i++) {
        const char *d = alternate && i % 2 ? "parent.test" : "ministerio.test";
        struct tt_verdict acc;
        double t0;

        memset(&acc, 0, sizeof(acc));
        memset(m, 0, sizeof(*m));
        m->dns = dns;
        t0 = now_us();
        {
            struct tt_envelope env = {.kind = TT_ADDR_DOMAIN, .n = 1};
            struct tt_mail_case mc = {.id = "bench", .sender = &env};

            snprintf(env.domain[0], sizeof(env.domain[0]), "%s", d);
            tt_decide_mail(c, m, &mc, &tls, &acc);
        }
        if (i >= 50)
            v[i - 50] = now_us() - t0;
    }
    qsort(v, (size_t)n, sizeof(*v), cmp);
    tt_dns_get_stats(dns, &st);
    printf("| %s | %d | %.1f | %.1f | %lu | %lu |\n", label, n, v[n / 2], v[n * 99 / 100], st.sent,
           st.hits);
    tt_config_free(c);
    tt_dns_free(dns);
    free(v);
    free(m);
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 3 ? atoi(argv[3]) : 20000;

    if (argc < 3 || n < 100) {
        fprintf(stderr, "usage: dnsbench CACHED.conf UNCACHED.conf [N >= 100]\n");
        return 2;
    }
    tt_log_open("dnsbench", false, LOG_MAIL);
    tt_log_set_level(LOG_ERR);
    printf("| decision | lookups | p50 (µs) | p99 (µs) | packets sent | cache hits |\n");
    printf("|---|---|---|---|---|---|\n");
    return run(argv[1], "cached", n, 0) || run(argv[2], "uncached", n / 10, 1);
}
