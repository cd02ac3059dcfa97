/*
 * test_decode.c - xtext (Sendmail's macro encoding) and oneline-DN parsing,
 * including OpenSSL's own escapes, checked against names OpenSSL produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "dn.h"
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

static void dn_attributes(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(tt_dn_attr("/C=ES/O=Red Segura/CN=Red Segura CA", "CN", out, sizeof(out)), 13);
    assert_string_equal(out, "Red Segura CA");
    assert_int_equal(tt_dn_attr("/C=ES/O=Red Segura", "CN", out, sizeof(out)), 0);
    assert_true(tt_dn_attr("/O=A\\/B\\+C/CN=x", "O", out, sizeof(out)) > 0);
    assert_string_equal(out, "A/B+C");
    assert_true(tt_dn_attr("/CN=Autoridad Certificaci\\xC3\\xB3n", "cn", out, sizeof(out)) > 0);
    assert_string_equal(out, "Autoridad Certificaci\xc3\xb3n");
    /* The last CN wins, as it is the most specific RDN. */
    assert_true(tt_dn_attr("/CN=first/CN=second", "CN", out, sizeof(out)) > 0);
    assert_string_equal(out, "second");
}

static void dn_malformed(void **state)
{
    char out[16];

    (void)state;
    assert_int_equal(tt_dn_attr("C=ES/CN=x", "CN", out, sizeof(out)), -1);
    assert_int_equal(tt_dn_attr("/C", "CN", out, sizeof(out)), -1);
    assert_int_equal(tt_dn_attr("/CN=a\\x00b", "CN", out, sizeof(out)), -1);
    assert_int_equal(tt_dn_attr("/CN=a\\xZZ", "CN", out, sizeof(out)), -1);
    assert_int_equal(tt_dn_attr("/CN=trailing\\", "CN", out, sizeof(out)), -1);
    assert_int_equal(tt_dn_attr("/CN=much too long for the buffer", "CN", out, sizeof(out)), -1);
}

/* What OpenSSL writes for awkward names decodes back to the original value. */
static void dn_roundtrip_openssl(void **state)
{
    static const char *values[] = {"Red Segura CA", "A/B", "x+y (z)", "say \"hi\"",
                                   ("Administraci\xc3\xb3n P\xc3\xba"
                                    "blica")};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        X509_NAME *n = X509_NAME_new();
        char *one, out[128];

        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Org", -1, -1, 0);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)values[i], -1, -1,
                                   0);
        one = X509_NAME_oneline(n, NULL, 0);
        assert_non_null(one);
        assert_true(tt_dn_attr(one, "CN", out, sizeof(out)) > 0);
        assert_string_equal(out, values[i]);
        OPENSSL_free(one);
        X509_NAME_free(n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xtext_plain_and_encoded), cmocka_unit_test(xtext_invalid),
        cmocka_unit_test(dn_attributes),           cmocka_unit_test(dn_malformed),
        cmocka_unit_test(dn_roundtrip_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
