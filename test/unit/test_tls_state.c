/*
 * test_tls_state.c - trust levels from macros exactly as each MTA sends them
 * (see doc/mta-facts.md), including the rogue-CA case on both MTAs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"
#include "tls_state.h"

static struct tt_trust trust;

#define DN_XTEXT "/C=ES/O=Red+20Segura/OU=Test/CN=Red+20Segura+20CA"

static int setup(void **state)
{
    (void)state;
    return th_trust_redsegura(&trust, "C=ES|O=Red Segura|OU=Test|CN=Red Segura CA");
}

static int teardown(void **state)
{
    (void)state;
    tt_trust_free(&trust);
    return 0;
}

static struct tt_tls classify(const struct tt_macros *m)
{
    struct tt_tls s;

    tt_tls_capture(&s, m, TT_DIALECT_AUTO, &trust);
    return s;
}

static void postfix_levels(void **state)
{
    struct tt_macros m = {.mta_version = "Postfix 3.7.11"};
    struct tt_tls s;

    (void)state;
    s = classify(&m);
    assert_int_equal(s.level, TT_LEVEL_NONE);
    assert_false(s.tls);
    m.tls_version = "TLSv1.3";
    m.cipher = "TLS_AES_256_GCM_SHA384";
    m.cipher_bits = "256";
    s = classify(&m);
    assert_int_equal(s.level, TT_LEVEL_ENCRYPTED);
    assert_int_equal(s.bits, 256);
    assert_int_equal(s.dialect, TT_DIALECT_POSTFIX);
    m.cert_subject = "mail.ministerio.test";
    m.cert_issuer = "Outside CA";
    s = classify(&m);
    assert_int_equal(s.level, TT_LEVEL_VERIFIED);
    m.cert_issuer = "Red Segura CA";
    s = classify(&m);
    assert_int_equal(s.level, TT_LEVEL_TRUSTED);
    assert_string_equal(s.network, "redsegura");
    assert_string_equal(s.subject_cn, "mail.ministerio.test");
    assert_string_equal(s.issuer_display, "Red Segura CA");
}

/* Postfix sends no cert macros for a rogue CA's certificate: it never verified. */
static void postfix_rogue_is_encrypted(void **state)
{
    struct tt_macros m = {.mta_version = "Postfix 3.7.11",
                          .tls_version = "TLSv1.3",
                          .cipher = "TLS_AES_256_GCM_SHA384",
                          .cipher_bits = "256"};
    struct tt_tls s = classify(&m);

    (void)state;
    assert_int_equal(s.level, TT_LEVEL_ENCRYPTED);
    assert_false(s.verified);
}

static void sendmail_levels(void **state)
{
    struct tt_macros m = {.mta_version = "8.17.1.9",
                          .tls_version = "TLSv1.3",
                          .cipher = "TLS_AES_256_GCM_SHA384",
                          .cipher_bits = "256",
                          .cert_subject = "/C=ES/O=Red+20Segura/CN=mail.ministerio.test",
                          .cert_issuer = DN_XTEXT,
                          .cn_subject = "mail.ministerio.test",
                          .cn_issuer = "Red+20Segura+20CA",
                          .verify = "OK"};
    struct tt_tls s;

    (void)state;
    s = classify(&m);
    assert_int_equal(s.dialect, TT_DIALECT_SENDMAIL);
    assert_int_equal(s.level, TT_LEVEL_TRUSTED);
    assert_string_equal(s.issuer_display, "Red Segura CA");
    assert_string_equal(s.subject_cn, "mail.ministerio.test");
    m.verify = "TRUSTED";
    assert_int_equal(classify(&m).level, TT_LEVEL_TRUSTED);
    /* The rogue CA: same DN, verification failed. */
    m.verify = "FAIL";
    s = classify(&m);
    assert_int_equal(s.level, TT_LEVEL_ENCRYPTED);
    assert_string_equal(s.verify, "FAIL");
    m.verify = "NO";
    assert_int_equal(classify(&m).level, TT_LEVEL_ENCRYPTED);
    m.verify = "SOMETHINGNEW";
    assert_int_equal(classify(&m).level, TT_LEVEL_ENCRYPTED);
    m.verify = "OK";
    m.cert_issuer = "/C=ES/O=Outside/CN=Outside+20CA";
    m.cn_issuer = "Outside+20CA";
    assert_int_equal(classify(&m).level, TT_LEVEL_VERIFIED);
    /* No STARTTLS: Sendmail says NONE and sends no TLS macros. */
    memset(&m, 0, sizeof(m));
    m.mta_version = "8.17.1.9";
    m.verify = "NONE";
    assert_int_equal(classify(&m).level, TT_LEVEL_NONE);
}

static void sendmail_without_verify_is_not_trusted(void **state)
{
    struct tt_macros m = {
        .tls_version = "TLSv1.3", .cipher = "X", .cipher_bits = "256", .cert_issuer = DN_XTEXT};
    struct tt_tls s = classify(&m);

    (void)state;
    assert_int_equal(s.dialect, TT_DIALECT_SENDMAIL); /* a DN can only come from Sendmail */
    assert_int_equal(s.level, TT_LEVEL_ENCRYPTED);
    assert_non_null(s.anomaly);
}

static void hostile_values(void **state)
{
    struct tt_macros m = {
        .mta_version = "8.17.1.9", .tls_version = "TLSv1.3", .cipher = "X", .verify = "OK"};
    char *big = malloc(65537);
    struct tt_tls s;

    (void)state;
    m.cipher_bits = "abc";
    m.cert_issuer = "+G1";
    s = classify(&m);
    assert_int_equal(s.bits, -1);
    assert_int_equal(s.level, TT_LEVEL_VERIFIED);
    assert_false(s.issuer_usable);
    m.cipher_bits = "-1";
    assert_int_equal(classify(&m).bits, -1);
    m.cipher_bits = "99999999999";
    assert_int_equal(classify(&m).bits, -1);
    /* A 64 KiB issuer that starts like the network CA's DN never matches. */
    memset(big, 'A', 65536);
    memcpy(big, DN_XTEXT, strlen(DN_XTEXT));
    big[65536] = '\0';
    m.cert_issuer = big;
    s = classify(&m);
    assert_int_equal(s.level, TT_LEVEL_VERIFIED);
    /* Postfix dialect, same size. */
    m.verify = NULL;
    m.mta_version = "Postfix 3.7.11";
    memcpy(big, "Red Segura CA", 13);
    s = classify(&m);
    assert_int_equal(s.level, TT_LEVEL_VERIFIED);
    assert_non_null(s.anomaly);
    free(big);
}

static void versions_and_host_patterns(void **state)
{
    (void)state;
    assert_int_equal(tt_tls_version_number("TLSv1.2"), 12);
    assert_int_equal(tt_tls_version_number("TLSv1.3"), 13);
    assert_int_equal(tt_tls_version_number("SSLv3"), 0);
    assert_int_equal(tt_tls_version_number(NULL), 0);
    assert_true(tt_host_match("*.ministerio.test", "mail.ministerio.test"));
    assert_true(tt_host_match("*.ministerio.test", "MAIL.Ministerio.Test."));
    assert_false(tt_host_match("*.ministerio.test", "ministerio.test"));
    assert_false(tt_host_match("*.ministerio.test", "evilministerio.test"));
    assert_false(tt_host_match("*.ministerio.test", ".ministerio.test"));
    assert_true(tt_host_match("mx.ministerio.test", "mx.ministerio.test"));
    assert_false(tt_host_match("mx.ministerio.test", "mx2.ministerio.test"));
}

/* tlstrust-domains(5): "*.domain" stands for exactly one non-empty leftmost label. */
static void subject_wildcard_is_one_label(void **state)
{
    (void)state;
    assert_true(tt_host_match("*.example.org", "mx.example.org"));
    assert_true(tt_host_match("*.example.org", "MX.Example.Org."));
    assert_false(tt_host_match("*.example.org", "a.mx.example.org"));
    assert_false(tt_host_match("*.example.org", "a.b.c.example.org"));
    assert_false(tt_host_match("*.example.org", "example.org"));
    assert_false(tt_host_match("*.example.org", ".example.org"));
    assert_false(tt_host_match("*.example.org", "mx..example.org"));
    assert_false(tt_host_match("*.example.org", "a.mx.example.org."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(postfix_levels),
        cmocka_unit_test(postfix_rogue_is_encrypted),
        cmocka_unit_test(sendmail_levels),
        cmocka_unit_test(sendmail_without_verify_is_not_trusted),
        cmocka_unit_test(hostile_values),
        cmocka_unit_test(versions_and_host_patterns),
        cmocka_unit_test(subject_wildcard_is_one_label),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
