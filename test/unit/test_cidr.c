/*
 * test_cidr.c - IP addresses and CIDR blocks (client: keys, InternalHosts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cidr.h"

static void cidrs(void **state)
{
    struct tt_cidr c, a;

    (void)state;
    assert_true(tt_cidr_parse("192.0.2.0/24", &c));
    assert_true(tt_ip_parse("192.0.2.77", &a));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_ip_parse("192.0.3.1", &a));
    assert_false(tt_cidr_contains(&c, &a));
    assert_true(tt_cidr_parse("192.0.2.77/24", &c)); /* host bits are masked */
    assert_true(tt_ip_parse("192.0.2.1", &a));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_cidr_parse("0.0.0.0/0", &c));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_cidr_parse("2001:db8::/32", &c));
    assert_true(tt_ip_parse("[2001:db8::1]", &a));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_ip_parse("IPv6:2001:db8::1", &a));
    assert_true(tt_cidr_contains(&c, &a));
    assert_true(tt_ip_parse("192.0.2.1", &a));
    assert_false(tt_cidr_contains(&c, &a)); /* family differs */
    assert_false(tt_cidr_parse("192.0.2.0/33", &c));
    assert_false(tt_cidr_parse("192.0.2.0/", &c));
    assert_false(tt_cidr_parse("192.0.2.0/-1", &c));
    assert_false(tt_cidr_parse("192.0.2/24", &c));
    assert_false(tt_cidr_parse("host.example", &c));
    assert_false(tt_ip_parse(NULL, &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cidrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
