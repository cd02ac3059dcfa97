/*
 * test_dns.c - the resolver and its cache against a tiny DNS server run in
 * a thread on 127.0.0.1 (answers built with libldns): identical concurrent
 * queries share one packet, cache hits send nothing, names are
 * case-insensitive, the LRU bound evicts, negative answers live for the
 * SOA minimum (RFC 2308) and at most a day, TTL 0 and failures are not
 * kept, flawed answers are dropped, a refusing server is no timeout, and a
 * silent server costs at most timeout x (retries + 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "dns.h"
#include "helpers.h"

static int srv_port;
static int srv_tcp_fd = -1; /* bound, never listening: TCP to srv_port is refused */
static atomic_int srv_queries;

/* Answers that are not an answer to our query: *.bad.example names the flaw. */
static void mangle(ldns_pkt *a, const char *name, const ldns_rr *qrr)
{
    ldns_rr *q2;

    if (strcmp(name, "noqr.bad.example.") == 0) {
        ldns_pkt_set_qr(a, false);
    } else if (strcmp(name, "noquestion.bad.example.") == 0) {
        ldns_rr_list_deep_free(ldns_pkt_question(a));
        ldns_pkt_set_question(a, ldns_rr_list_new());
        ldns_pkt_set_qdcount(a, 0);
    } else if (strcmp(name, "twoquestions.bad.example.") == 0) {
        ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
    } else if (strcmp(name, "chaos.bad.example.") == 0) {
        ldns_rr_set_class(ldns_rr_list_rr(ldns_pkt_question(a), 0), LDNS_RR_CLASS_CH);
    } else if (strcmp(name, "othertype.bad.example.") == 0) {
        ldns_rr_set_type(ldns_rr_list_rr(ldns_pkt_question(a), 0), LDNS_RR_TYPE_A);
    } else if (strcmp(name, "othername.bad.example.") == 0) {
        q2 = ldns_pkt_question(a) != NULL ? ldns_rr_list_pop_rr(ldns_pkt_question(a)) : NULL;
        ldns_rr_free(q2);
        ldns_rr_new_question_frm_str(&q2, "elsewhere.example. IN TXT", NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, q2);
        ldns_pkt_set_qdcount(a, 1);
    } else if (strcmp(name, "badid.bad.example.") == 0) {
        ldns_pkt_set_id(a, (uint16_t)(ldns_pkt_id(a) + 1));
    }
}

static void answer(int fd, const uint8_t *q, size_t qlen, const struct sockaddr_storage *from,
                   socklen_t fromlen)
{
    ldns_pkt *query = NULL, *a;
    ldns_rr *qrr, *rr = NULL;
    char *name, line[300];
    uint8_t *wire = NULL;
    size_t wlen;

    if (ldns_wire2pkt(&query, q, qlen) != LDNS_STATUS_OK)
        return;
    atomic_fetch_add(&srv_queries, 1);
    qrr = ldns_rr_list_rr(ldns_pkt_question(query), 0);
    name = ldns_rdf2str(ldns_rr_owner(qrr));
    if (strcmp(name, "silent.example.") == 0)
        goto out;
    if (strcmp(name, "slow.example.") == 0)
        usleep(300000);
    a = ldns_pkt_new();
    ldns_pkt_set_id(a, ldns_pkt_id(query));
    ldns_pkt_set_qr(a, true);
    ldns_pkt_set_ad(a, strncmp(name, "ad.", 3) == 0);
    ldns_pkt_set_tc(a, strcmp(name, "tc.example.") == 0);
    ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
    if (strcmp(name, "nx.example.") == 0) {
        ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
        ldns_rr_new_frm_str(&rr, "example. 300 IN SOA ns.example. h.example. 1 2 3 4 1", 0, NULL,
                            NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_AUTHORITY, rr);
    } else if (strcmp(name, "nxlong.example.") == 0 || strcmp(name, "nodatalong.example.") == 0) {
        /* A zone asking for negative answers to be kept for over a day. */
        ldns_pkt_set_rcode(a, name[1] == 'x' ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR);
        ldns_rr_new_frm_str(&rr, "example. 200000 IN SOA ns.example. h.example. 1 2 3 4 200000", 0,
                            NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_AUTHORITY, rr);
    } else if (strcmp(name, "fail.example.") == 0) {
        ldns_pkt_set_rcode(a, LDNS_RCODE_SERVFAIL);
    } else {
        snprintf(line, sizeof(line), "%s %d IN TXT \"v=x\" \"; from %s\"", name,
                 strcmp(name, "ttl0.example.") == 0 ? 0 : 60, name);
        ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
    }
    mangle(a, name, qrr);
    if (ldns_pkt2wire(&wire, a, &wlen) == LDNS_STATUS_OK)
        (void)sendto(fd, wire, wlen, 0, (const struct sockaddr *)from, fromlen);
    free(wire);
    ldns_pkt_free(a);
out:
    free(name);
    ldns_pkt_free(query);
}

static int setup(void **state)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};

    (void)state;
    srv_port = th_udp_start(answer);
    if (srv_port < 0)
        return -1;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)srv_port);
    srv_tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv_tcp_fd < 0 || bind(srv_tcp_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_udp_stop();
    close(srv_tcp_fd);
    return 0;
}

static struct tt_dns *resolver(int timeout_ms, int retries, size_t cache)
{
    struct tt_dns_conf conf;
    char spec[64], err[200];
    struct tt_dns *d;

    tt_dns_conf_init(&conf);
    snprintf(spec, sizeof(spec), "127.0.0.1@%d", srv_port);
    assert_true(tt_dns_conf_add_server(&conf, spec, err, sizeof(err)));
    conf.timeout_ms = timeout_ms;
    conf.retries = retries;
    conf.cache_size = cache;
    d = tt_dns_new(&conf, err, sizeof(err));
    assert_non_null(d);
    return d;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Look up and check the status; returns whether the cache answered. */
static bool look(struct tt_dns *d, const char *name, enum tt_dns_status want)
{
    bool hit;
    const struct tt_dns_answer *a = tt_dns_lookup(d, name, TT_DNS_TXT, &hit);

    assert_non_null(a);
    if (a->status != want)
        fail_msg("%s: status %s, want %s", name, tt_dns_status_name(a->status),
                 tt_dns_status_name(want));
    tt_dns_answer_put(a);
    return hit;
}

struct worker {
    struct tt_dns *d;
    pthread_barrier_t *barrier;
    int status;
    size_t n;
    char first[64];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    const struct tt_dns_answer *a;

    pthread_barrier_wait(w->barrier);
    a = tt_dns_lookup(w->d, "slow.example", TT_DNS_TXT, NULL);
    w->status = a != NULL ? (int)a->status : -1;
    w->n = a != NULL ? a->n : 0;
    if (a != NULL && a->n > 0)
        snprintf(w->first, sizeof(w->first), "%s", a->rdata[0]);
    tt_dns_answer_put(a);
    return NULL;
}

static void test_concurrent_queries_share_one_packet(void **state)
{
    enum { N = 8 };
    struct tt_dns *d = resolver(2000, 0, 100);
    pthread_t t[N];
    struct worker w[N];
    pthread_barrier_t barrier;
    struct tt_dns_stats st;
    int i, before = atomic_load(&srv_queries);

    (void)state;
    pthread_barrier_init(&barrier, NULL, N);
    for (i = 0; i < N; i++) {
        w[i] = (struct worker){.d = d, .barrier = &barrier};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].status, TT_DNS_OK);
        assert_int_equal(w[i].n, 1);
        /* TXT character-strings are joined without a separator. */
        assert_string_equal(w[i].first, "v=x; from slow.example.");
    }
    pthread_barrier_destroy(&barrier);
    assert_int_equal(atomic_load(&srv_queries) - before, 1);
    tt_dns_get_stats(d, &st);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.joined + st.hits, N - 1);
    assert_true(st.joined >= 1);
    tt_dns_free(d);
}

static void test_cache_hit_sends_nothing(void **state)
{
    struct tt_dns *d = resolver(2000, 0, 100);
    int before = atomic_load(&srv_queries);
    struct tt_dns_stats st;

    (void)state;
    assert_false(look(d, "hit.example", TT_DNS_OK));
    assert_true(look(d, "HIT.Example.", TT_DNS_OK));
    assert_true(look(d, "hit.example", TT_DNS_OK));
    assert_int_equal(atomic_load(&srv_queries) - before, 1);
    tt_dns_get_stats(d, &st);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.lookups, 3);
    tt_dns_free(d);
}

static void test_ad_bit(void **state)
{
    struct tt_dns *d = resolver(2000, 0, 100);
    const struct tt_dns_answer *a;

    (void)state;
    a = tt_dns_lookup(d, "ad.example", TT_DNS_TXT, NULL);
    assert_true(a->ad);
    tt_dns_answer_put(a);
    a = tt_dns_lookup(d, "plain.example", TT_DNS_TXT, NULL);
    assert_false(a->ad);
    assert_int_equal(a->ttl, 60);
    tt_dns_answer_put(a);
    /* A cached answer keeps its AD state. */
    a = tt_dns_lookup(d, "ad.example", TT_DNS_TXT, NULL);
    assert_true(a->ad);
    tt_dns_answer_put(a);
    tt_dns_free(d);
}

static void test_lru_bound(void **state)
{
    struct tt_dns *d = resolver(2000, 0, 2);
    struct tt_dns_stats st;

    (void)state;
    assert_false(look(d, "a.example", TT_DNS_OK));
    assert_false(look(d, "b.example", TT_DNS_OK));
    assert_true(look(d, "a.example", TT_DNS_OK));  /* a is now the most recent */
    assert_false(look(d, "c.example", TT_DNS_OK)); /* evicts b */
    assert_true(look(d, "a.example", TT_DNS_OK));
    assert_false(look(d, "b.example", TT_DNS_OK));
    tt_dns_get_stats(d, &st);
    assert_true(st.evictions >= 2);
    tt_dns_free(d);
}

static void test_negative_caching(void **state)
{
    struct tt_dns *d = resolver(2000, 0, 100);
    const struct tt_dns_answer *a;

    (void)state;
    a = tt_dns_lookup(d, "nx.example", TT_DNS_TXT, NULL);
    assert_int_equal(a->status, TT_DNS_NXDOMAIN);
    assert_int_equal(a->ttl, 1); /* min(SOA TTL 300, SOA MINIMUM 1) */
    tt_dns_answer_put(a);
    assert_true(look(d, "nx.example", TT_DNS_NXDOMAIN));
    usleep(1200000);
    assert_false(look(d, "nx.example", TT_DNS_NXDOMAIN));
    tt_dns_free(d);
}

/* dns.h: no answer is kept longer than TT_DNS_MAX_TTL, negative ones included. */
static void test_negative_ttl_capped(void **state)
{
    struct tt_dns *d = resolver(2000, 0, 100);
    const struct tt_dns_answer *a;

    (void)state;
    a = tt_dns_lookup(d, "nxlong.example", TT_DNS_TXT, NULL);
    assert_int_equal(a->status, TT_DNS_NXDOMAIN);
    assert_int_equal(a->ttl, TT_DNS_MAX_TTL);
    tt_dns_answer_put(a);
    a = tt_dns_lookup(d, "nodatalong.example", TT_DNS_TXT, NULL);
    assert_int_equal(a->status, TT_DNS_NODATA);
    assert_int_equal(a->ttl, TT_DNS_MAX_TTL);
    tt_dns_answer_put(a);
    tt_dns_free(d);
}

/*
 * An answer is ours only with QR set, our id, and exactly one question with
 * our name, type and class IN; anything else is dropped, so the lookup
 * finds no usable answer.
 */
static void test_answer_check(void **state)
{
    static const char *const flawed[] = {
        "noqr.bad.example",  "noquestion.bad.example", "twoquestions.bad.example",
        "chaos.bad.example", "othertype.bad.example",  "othername.bad.example",
        "badid.bad.example",
    };
    struct tt_dns *d = resolver(200, 0, 100);
    char accepted[400] = "";
    size_t i;

    (void)state;
    assert_false(look(d, "good.bad.example", TT_DNS_OK)); /* the same server, a sound answer */
    for (i = 0; i < sizeof(flawed) / sizeof(flawed[0]); i++) {
        const struct tt_dns_answer *a = tt_dns_lookup(d, flawed[i], TT_DNS_TXT, NULL);

        assert_non_null(a);
        if (a->status != TT_DNS_TIMEOUT)
            snprintf(accepted + strlen(accepted), sizeof(accepted) - strlen(accepted), " %s(%s)",
                     flawed[i], tt_dns_status_name(a->status));
        tt_dns_answer_put(a);
    }
    tt_dns_free(d);
    if (accepted[0] != '\0')
        fail_msg("flawed answers taken:%s", accepted);
}

/* A loopback UDP port where nothing listens (the kernel answers port unreachable). */
static int closed_udp_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* A resolver that refuses (ICMP port unreachable, TCP reset) is not a timeout. */
static void test_refused_is_not_timeout(void **state)
{
    struct tt_dns_conf conf;
    char spec[64], err[200];
    const struct tt_dns_answer *a;
    struct tt_dns *d;

    (void)state;
    tt_dns_conf_init(&conf);
    snprintf(spec, sizeof(spec), "127.0.0.1@%d", closed_udp_port());
    assert_true(tt_dns_conf_add_server(&conf, spec, err, sizeof(err)));
    d = tt_dns_new(&conf, err, sizeof(err));
    assert_non_null(d);
    a = tt_dns_lookup(d, "refused.example", TT_DNS_TXT, NULL);
    assert_string_equal(tt_dns_status_name(a->status), "connection refused");
    tt_dns_answer_put(a);
    tt_dns_free(d);

    /* A truncated UDP answer, then TCP refused. */
    d = resolver(1000, 0, 100);
    a = tt_dns_lookup(d, "tc.example", TT_DNS_TXT, NULL);
    assert_string_equal(tt_dns_status_name(a->status), "connection refused");
    tt_dns_answer_put(a);
    tt_dns_free(d);
}

/* Datagrams waiting on fd, read and dropped. */
static int drain_count(int fd)
{
    uint8_t buf[4096];
    int n = 0;

    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        n++;
    return n;
}

/*
 * A first resolver that never answers costs one timeout, not one per
 * lookup: the resolver that answered is asked first next time.
 */
static void test_answering_server_remembered(void **state)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    struct tt_dns_conf conf;
    char spec[64], err[200];
    struct tt_dns *d;
    int silent = socket(AF_INET, SOCK_DGRAM, 0);

    (void)state;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(silent >= 0);
    assert_int_equal(bind(silent, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(silent, (struct sockaddr *)&sin, &len), 0);
    tt_dns_conf_init(&conf);
    snprintf(spec, sizeof(spec), "127.0.0.1@%d", ntohs(sin.sin_port));
    assert_true(tt_dns_conf_add_server(&conf, spec, err, sizeof(err)));
    snprintf(spec, sizeof(spec), "127.0.0.1@%d", srv_port);
    assert_true(tt_dns_conf_add_server(&conf, spec, err, sizeof(err)));
    conf.timeout_ms = 300;
    conf.retries = 1;
    d = tt_dns_new(&conf, err, sizeof(err));
    assert_non_null(d);
    assert_false(look(d, "first.example", TT_DNS_OK)); /* silent one, then the server */
    assert_false(look(d, "second.example", TT_DNS_OK));
    assert_false(look(d, "third.example", TT_DNS_OK));
    assert_int_equal(drain_count(silent), 1);
    tt_dns_free(d);
    close(silent);
}

static void test_not_kept(void **state)
{
    struct tt_dns *d = resolver(2000, 0, 100);

    (void)state;
    assert_false(look(d, "ttl0.example", TT_DNS_OK));
    assert_false(look(d, "ttl0.example", TT_DNS_OK));
    assert_false(look(d, "fail.example", TT_DNS_SERVFAIL));
    assert_false(look(d, "fail.example", TT_DNS_SERVFAIL));
    tt_dns_free(d);
}

static void test_silent_server_bound(void **state)
{
    struct tt_dns *d = resolver(300, 1, 100);
    int before = atomic_load(&srv_queries);
    double t0 = now(), dt;

    (void)state;
    assert_int_equal(tt_dns_bound_ms(tt_dns_conf_of(d)), 600);
    assert_false(look(d, "silent.example", TT_DNS_TIMEOUT));
    dt = now() - t0;
    if (dt < 0.55 || dt > 1.0)
        fail_msg("silent server took %.3f s, bound 0.6 s", dt);
    assert_int_equal(atomic_load(&srv_queries) - before, 2); /* one retry */
    tt_dns_free(d);
}

static void test_server_specs(void **state)
{
    struct tt_dns_conf conf;
    char err[200];

    (void)state;
    tt_dns_conf_init(&conf);
    assert_true(tt_dns_conf_add_server(&conf, "127.0.0.1", err, sizeof(err)));
    assert_true(tt_dns_conf_add_server(&conf, "::1@5353", err, sizeof(err)));
    assert_int_equal(conf.nservers, 2);
    assert_int_equal(ntohs(((struct sockaddr_in *)(void *)&conf.servers[0])->sin_port), 53);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)(void *)&conf.servers[1])->sin6_port), 5353);
    assert_false(tt_dns_conf_add_server(&conf, "localhost", err, sizeof(err)));
    assert_false(tt_dns_conf_add_server(&conf, "127.0.0.1@", err, sizeof(err)));
    assert_false(tt_dns_conf_add_server(&conf, "127.0.0.1@x", err, sizeof(err)));
}

/* Which resolvers are on this host: only their AD bit means anything. */
static void test_server_loopback(void **state)
{
    static const struct {
        const char *spec, *shown;
        bool loopback;
    } cases[] = {
        {"127.0.0.1", "127.0.0.1", true},
        {"127.53.0.1@5353", "127.53.0.1@5353", true},
        {"::1", "::1", true},
        {"::ffff:127.0.0.1", "::ffff:127.0.0.1", true},
        {"192.0.2.53", "192.0.2.53", false},
        {"128.0.0.1", "128.0.0.1", false},
        {"2001:db8::53@53", "2001:db8::53", false},
        {"::ffff:192.0.2.1", "::ffff:192.0.2.1", false},
    };
    struct tt_dns_conf conf;
    char err[200], addr[64];
    struct tt_dns *d;
    size_t i;

    (void)state;
    tt_dns_conf_init(&conf);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(tt_dns_conf_add_server(&conf, cases[i].spec, err, sizeof(err)));
    d = tt_dns_new(&conf, err, sizeof(err)); /* nothing is sent */
    assert_non_null(d);
    assert_int_equal(tt_dns_server_count(tt_dns_conf_of(d)), sizeof(cases) / sizeof(cases[0]));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (tt_dns_server_loopback(tt_dns_conf_of(d), i, addr, sizeof(addr)) != cases[i].loopback)
            fail_msg("%s: loopback should be %d", cases[i].spec, cases[i].loopback);
        assert_string_equal(addr, cases[i].shown);
    }
    tt_dns_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_queries_share_one_packet),
        cmocka_unit_test(test_cache_hit_sends_nothing),
        cmocka_unit_test(test_ad_bit),
        cmocka_unit_test(test_lru_bound),
        cmocka_unit_test(test_negative_caching),
        cmocka_unit_test(test_negative_ttl_capped),
        cmocka_unit_test(test_answer_check),
        cmocka_unit_test(test_refused_is_not_timeout),
        cmocka_unit_test(test_answering_server_remembered),
        cmocka_unit_test(test_not_kept),
        cmocka_unit_test(test_silent_server_bound),
        cmocka_unit_test(test_server_specs),
        cmocka_unit_test(test_server_loopback),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
