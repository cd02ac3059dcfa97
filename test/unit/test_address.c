/*
 * test_address.c - envelope address domains and CIDR parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "address.h"
#include "cidr.h"

static void expect(const char *addr, enum tt_addr_kind kind, const char *domain)
{
    char out[TT_DOMAIN_MAX];
    enum tt_addr_kind k = tt_addr_domain(addr, out, sizeof(out));

    if (k != kind || (domain != NULL && strcmp(out, domain) != 0))
        fail_msg("%s: got kind %d domain '%s', want %d '%s'", addr, k, out, kind,
                 domain ? domain : "");
}

static void domains(void **state)
{
    char *longaddr = malloc(2000);
    size_t i;

    (void)state;
    expect("<user@Example.ORG>", TT_ADDR_DOMAIN, "example.org");
    expect("user@example.org", TT_ADDR_DOMAIN, "example.org");
    expect(" <user@example.org.> ", TT_ADDR_DOMAIN, "example.org");
    expect("<>", TT_ADDR_NULL, "");
    expect("", TT_ADDR_NULL, "");
    expect(NULL, TT_ADDR_NULL, "");
    expect("<\"a@b\"@example.org>", TT_ADDR_DOMAIN, "example.org");
    expect("<\"a\\\"@x\"@example.org>", TT_ADDR_DOMAIN, "example.org");
    expect("<\"unterminated@example.org>", TT_ADDR_INVALID, NULL);
    expect("<@relay.test,@r2.test:user@example.org>", TT_ADDR_DOMAIN, "example.org");
    expect("<@relay.test>", TT_ADDR_INVALID, NULL);
    expect("<user@[192.0.2.1]>", TT_ADDR_LITERAL, "[192.0.2.1]");
    expect("<user@[192.0.2.1>", TT_ADDR_INVALID, NULL);
    expect("<postmaster>", TT_ADDR_NODOMAIN, "");
    expect("<user@>", TT_ADDR_NODOMAIN, "");
    expect("<user@.>", TT_ADDR_NODOMAIN, "");
    /* Found by fuzz_address: every trailing dot goes (test/fuzz/regress/address). */
    expect("<user@secretaria.example..>", TT_ADDR_DOMAIN, "secretaria.example");
    expect("u@..", TT_ADDR_NODOMAIN, "");
    expect("<user@example.org", TT_ADDR_INVALID, NULL);
    expect("<us\xc3\xa9r@\xc3\xa9xample.ORG>", TT_ADDR_DOMAIN, "\xc3\xa9xample.org");
    /* A 1,000-character address still yields its domain; beyond the cap it is refused. */
    memset(longaddr, 'a', 990);
    memcpy(longaddr + 990, "@x.org", 7);
    expect(longaddr, TT_ADDR_DOMAIN, "x.org");
    longaddr[0] = 'u';
    longaddr[1] = '@';
    for (i = 2; i < 1500; i += 2)
        memcpy(longaddr + i, "a.", 2);
    memcpy(longaddr + 1500, "org", 4);
    expect(longaddr, TT_ADDR_INVALID, NULL);
    free(longaddr);
}

static void cidrs(void **state)
{
    struct tt_cidr c, a;

    (void)state;
    assert_true(tt_cidr_parse("192.0.2.0/24", &c));
    assert_true(tt_addr_parse("192.0.2.77", &a));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_addr_parse("192.0.3.1", &a));
    assert_false(tt_cidr_contains(&c, &a));
    assert_true(tt_cidr_parse("192.0.2.77/24", &c)); /* host bits are masked */
    assert_true(tt_addr_parse("192.0.2.1", &a));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_cidr_parse("0.0.0.0/0", &c));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_cidr_parse("2001:db8::/32", &c));
    assert_true(tt_addr_parse("[2001:db8::1]", &a));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_addr_parse("IPv6:2001:db8::1", &a));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_addr_parse("192.0.2.1", &a));
    assert_false(tt_cidr_contains(&c, &a)); /* family differs */
    assert_false(tt_cidr_parse("192.0.2.0/33", &c));
    assert_false(tt_cidr_parse("192.0.2.0/", &c));
    assert_false(tt_cidr_parse("192.0.2.0/-1", &c));
    assert_false(tt_cidr_parse("192.0.2/24", &c));
    assert_false(tt_cidr_parse("host.example", &c));
    assert_false(tt_addr_parse(NULL, &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(domains),
        cmocka_unit_test(cidrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
