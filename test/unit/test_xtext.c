/*
 * test_xtext.c - xtext, Sendmail's encoding of macro values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xtext.h"

static void xtext_plain_and_encoded(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(tt_xtext_decode("abc", out, sizeof(out)), 3);
    assert_string_equal(out, "abc");
    assert_int_equal(tt_xtext_decode("/O=Red+20Segura/CN=x+2By", out, sizeof(out)), 20);
    assert_string_equal(out, "/O=Red Segura/CN=x+y");
    assert_true(tt_xtext_decode("+28a+29+3C+3E+22+5C", out, sizeof(out)) > 0);
    assert_string_equal(out, "(a)<>\"\\");
    assert_true(tt_xtext_decode("+c3+a9", out, sizeof(out)) == 2); /* lower-case hex tolerated */
    assert_string_equal(out, "\xc3\xa9");
    assert_int_equal(tt_xtext_decode("", out, sizeof(out)), 0);
}

static void xtext_invalid(void **state)
{
    char out[8];

    (void)state;
    assert_int_equal(tt_xtext_decode("+G1", out, sizeof(out)), -1);
    assert_int_equal(tt_xtext_decode("abc+", out, sizeof(out)), -1);
    assert_int_equal(tt_xtext_decode("abc+4", out, sizeof(out)), -1);
    assert_int_equal(tt_xtext_decode("a+00b", out, sizeof(out)), -1);
    assert_int_equal(tt_xtext_decode("12345678", out, sizeof(out)), -1); /* does not fit */
    assert_int_equal(tt_xtext_decode(NULL, out, sizeof(out)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xtext_plain_and_encoded),
        cmocka_unit_test(xtext_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
