/*
 * test_trustnet.c - CA bundles read with OpenSSL, and the issuer names each
 * MTA would report for them. Certificates are made at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"
#include "trustnet.h"

static void names_for_both_dialects(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *b;

    (void)state;
    b = th_cert("net.pem", "C=ES|O=Red Segura|OU=Test|CN=Red Segura CA", true, 365);
    th_cert("net.pem", "C=ES|O=Red Segura Sin CN|OU=Sub", true, 365);
    assert_true(tt_trust_add(&t, "redsegura", b, time(NULL), err, sizeof(err)));
    assert_int_equal(t.nets[0].ncas, 2);
    assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Red Segura CA", NULL));
    assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Red Segura Sin CN", NULL));
    assert_non_null(tt_trust_match(&t, TT_DIALECT_SENDMAIL,
                                   "/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA", NULL));
    assert_non_null(
        tt_trust_match(&t, TT_DIALECT_SENDMAIL, "/C=ES/O=Red Segura Sin CN/OU=Sub", NULL));
    assert_string_equal(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Red Segura CA", "redsegura")->name,
                        "redsegura");
    /* Near misses: case, a partial DN, a DN offered in the Postfix dialect. */
    assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "red segura ca", NULL));
    assert_null(
        tt_trust_match(&t, TT_DIALECT_SENDMAIL, "/C=ES/O=Red Segura/CN=Red Segura CA", NULL));
    assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX,
                               "/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA", NULL));
    assert_null(tt_trust_match(&t, TT_DIALECT_SENDMAIL, "Red Segura CA", NULL));
    assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Red Segura CA", "other"));
    assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "", NULL));
    tt_trust_free(&t);
}

static void utf8_names(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *b;

    (void)state;
    b = th_cert("utf8.pem",
                "C=ES|O=Administraci\xc3\xb3n P\xc3\xba"
                "blica|CN=Autoridad Ra\xc3\xadz",
                true, 365);
    assert_true(tt_trust_add(&t, "ap", b, time(NULL), err, sizeof(err)));
    assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Autoridad Ra\xc3\xadz", NULL));
    /* OpenSSL's oneline form escapes the UTF-8 bytes; Sendmail reports exactly that. */
    assert_non_null(tt_trust_match(
        &t, TT_DIALECT_SENDMAIL,
        "/C=ES/O=Administraci\\xC3\\xB3n P\\xC3\\xBAblica/CN=Autoridad Ra\\xC3\\xADz", NULL));
    tt_trust_free(&t);
}

static void bundle_errors(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *p;

    (void)state;
    assert_false(tt_trust_add(&t, "n", "/nonexistent/ca.pem", time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "cannot read"));
    p = th_write("empty.pem", "");
    assert_false(tt_trust_add(&t, "n", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "no CA certificate"));
    p = th_write("garbage.pem", "this is not a certificate\n\x01\x02\n");
    assert_false(tt_trust_add(&t, "n", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "no CA certificate"));
    p = th_write("broken.pem",
                 "-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n");
    assert_false(tt_trust_add(&t, "n", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "unreadable PEM"));
    p = th_cert("leaf.pem", "CN=mail.example.org", false, 365);
    assert_false(tt_trust_add(&t, "n", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "is not a CA"));
    assert_int_equal(t.nnets, 0);
}

static void expired_ca_loads_with_warning(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *p;

    (void)state;
    p = th_cert("expired.pem", "CN=Old CA", true, -1);
    assert_true(tt_trust_add(&t, "old", p, time(NULL), err, sizeof(err)));
    assert_true(t.nets[0].cas[0].not_after < time(NULL));
    assert_false(tt_trust_add(&t, "old", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "defined twice"));
    tt_trust_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_for_both_dialects),
        cmocka_unit_test(utf8_names),
        cmocka_unit_test(bundle_errors),
        cmocka_unit_test(expired_ca_loads_with_warning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
