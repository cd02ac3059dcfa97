/*
 * test_sockspec.c - the milter socket notation (Socket, -p): the documented
 * forms pass, anything libmilter would misread or reject late fails with a
 * reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "sockspec.h"

static void good_forms(void **state)
{
    static const char *const good[] = {
        "inet:8894@127.0.0.1",
        "inet:8894",
        "inet:1@[10.0.0.1]",
        "inet:65535@0.0.0.0",
        "inet6:8894@::1",
        "inet6:8894@[::1]",
        "inet6:25",
        "unix:/run/tlstrust/milter.sock",
        "local:/var/spool/postfix/tlstrust.sock",
        "/run/tlstrust/bare.sock",
    };
    char why[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!tt_sockspec_check(good[i], why, sizeof(why)))
            fail_msg("%s refused: %s", good[i], why);
    }
}

static void expect_bad(const char *spec, const char *reason)
{
    char why[128] = "";

    if (tt_sockspec_check(spec, why, sizeof(why)))
        fail_msg("'%s' accepted", spec);
    if (strstr(why, reason) == NULL)
        fail_msg("'%s': wanted '%s', got '%s'", spec, reason, why);
}

static void bad_forms(void **state)
{
    char longpath[200];

    (void)state;
    expect_bad("foo", "expected inet:PORT@ADDR");
    expect_bad("", "expected inet:PORT@ADDR");
    expect_bad("tcp:25", "expected inet:PORT@ADDR");
    expect_bad("UNIX:/run/x.sock", "expected inet:PORT@ADDR");
    expect_bad("/run/a:b.sock", "expected inet:PORT@ADDR");
    expect_bad("inet:", "port must be a number from 1 to 65535");
    expect_bad("inet:smtp@127.0.0.1", "port must be a number");
    expect_bad("inet:8894x@127.0.0.1", "port must be a number");
    expect_bad("inet:0@127.0.0.1", "port must be a number");
    expect_bad("inet:65536@127.0.0.1", "port must be a number");
    expect_bad("inet:123456@127.0.0.1", "port must be a number");
    expect_bad("inet:-1@127.0.0.1", "port must be a number");
    expect_bad("inet:8894@", "numeric IPv4 address");
    expect_bad("inet:8894@local_host", "numeric IPv4 address or a host name");
    expect_bad("inet:8894@-x.example", "numeric IPv4 address or a host name");
    expect_bad("inet:8894@x..example", "numeric IPv4 address or a host name");
    expect_bad("inet:8894@[localhost]", "numeric IPv4 address or a host name");
    expect_bad("inet:8894@127.0.0.1 ", "numeric IPv4 address or a host name");
    expect_bad("inet:8894@127.0.0.256", "numeric IPv4 address");
    expect_bad("inet:8894@::1", "numeric IPv4 address");
    expect_bad("inet6:8894@127.0.0.1", "numeric IPv6 address");
    expect_bad("inet6:8894@[::1", "numeric IPv6 address");
    expect_bad("unix:", "must be absolute");
    expect_bad("unix:relative.sock", "must be absolute");
    expect_bad("local:run/x.sock", "must be absolute");
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    expect_bad(longpath, "too long");
}

/* MetricsSocket: inet only, numeric address required, the address filled in. */
static void inet_addresses(void **state)
{
    struct sockaddr_storage ss;
    unsigned int len;
    char why[128];

    (void)state;
    assert_true(tt_sockspec_inet("inet:9465@127.0.0.1", &ss, &len, why, sizeof(why)));
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9465);
    assert_true(tt_sockspec_inet("inet6:9465@[::1]", &ss, &len, why, sizeof(why)));
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9465);
    assert_true(tt_sockspec_inet("inet6:1@2001:db8::1", &ss, &len, why, sizeof(why)));
    assert_false(tt_sockspec_inet("inet:9465", &ss, &len, why, sizeof(why)));
    assert_false(tt_sockspec_inet("inet:0@127.0.0.1", &ss, &len, why, sizeof(why)));
    assert_false(tt_sockspec_inet("inet:9465@localhost", &ss, &len, why, sizeof(why)));
    assert_false(tt_sockspec_inet("inet:9465@::1", &ss, &len, why, sizeof(why)));
    assert_false(tt_sockspec_inet("inet6:9465@127.0.0.1", &ss, &len, why, sizeof(why)));
    assert_false(tt_sockspec_inet("unix:/run/x.sock", &ss, &len, why, sizeof(why)));
    assert_false(tt_sockspec_inet("inet:9465@", &ss, &len, why, sizeof(why)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_forms),
        cmocka_unit_test(bad_forms),
        cmocka_unit_test(inet_addresses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
