/*
 * test_dn.c - oneline-DN parsing, including OpenSSL's own escapes, checked
 * against names OpenSSL produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "dn.h"

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
        cmocka_unit_test(dn_attributes),
        cmocka_unit_test(dn_malformed),
        cmocka_unit_test(dn_roundtrip_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
