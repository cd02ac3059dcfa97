/*
 * test_tag.c - the tag and Authentication-Results values, and recognising
 * our own authserv-id in incoming Authentication-Results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"
#include "tag.h"

static struct tt_trust trust;
static struct tt_table *table;

static int setup(void **state)
{
    char err[256];

    (void)state;
    if (!tt_trust_add(&trust, "redsegura", th_cert("n.pem", "CN=Red Segura CA", true, 365),
                      time(NULL), err, sizeof(err)))
        return -1;
    table = tt_table_load(th_write("t", "ministerio.test trusted\nmon.test trusted monitor\n"),
                          &trust, err, sizeof(err));
    return table ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tt_table_free(table);
    tt_trust_free(&trust);
    return 0;
}

static void trusted_tag_as_documented(void **state)
{
    struct tt_macros m = {.mta_version = "Postfix 3.7.11",
                          .tls_version = "TLSv1.3",
                          .cipher = "TLS_AES_256_GCM_SHA384",
                          .cipher_bits = "256",
                          .cert_subject = "mail.ministerio.test",
                          .cert_issuer = "Red Segura CA"};
    struct tt_tls s;
    struct tt_verdict v;
    char out[TT_TAG_MAX];

    (void)state;
    tt_tls_capture(&s, &m, TT_DIALECT_AUTO, &trust);
    tt_policy_eval(tt_table_lookup_domain(table, TT_KEY_FROM, "ministerio.test"), &s, &trust,
                   TT_ACTION_DEFER, &v);
    tt_tag_value(out, sizeof(out), &s, &v, "mx.receiver.test");
    assert_string_equal(out, "trusted; network=redsegura; version=TLSv1.3; "
                             "cipher=TLS_AES_256_GCM_SHA384; bits=256; "
                             "subject=\"mail.ministerio.test\"; issuer=\"Red Segura CA\"; "
                             "policy=pass; rule=\"from:ministerio.test\"; "
                             "authserv-id=mx.receiver.test");
    tt_authres_value(out, sizeof(out), &s, "mx.receiver.test");
    assert_string_equal(out, "mx.receiver.test; x-tls=pass smtp.version=TLSv1.3 "
                             "smtp.cipher=TLS_AES_256_GCM_SHA384 smtp.bits=256");
}

static void plaintext_monitor_tag(void **state)
{
    struct tt_macros m = {.mta_version = "Postfix 3.7.11"};
    struct tt_tls s;
    struct tt_verdict v;
    char out[TT_TAG_MAX];

    (void)state;
    tt_tls_capture(&s, &m, TT_DIALECT_AUTO, &trust);
    tt_policy_eval(tt_table_lookup_domain(table, TT_KEY_FROM, "mon.test"), &s, &trust,
                   TT_ACTION_DEFER, &v);
    tt_tag_value(out, sizeof(out), &s, &v, "mx");
    assert_string_equal(out, "none; policy=fail; action=monitor; rule=\"from:mon.test\"; "
                             "authserv-id=mx");
    tt_tag_value(out, sizeof(out), &s, NULL, "mx");
    assert_string_equal(out, "none; policy=none; authserv-id=mx");
    tt_authres_value(out, sizeof(out), &s, "mx");
    assert_string_equal(out, "mx; x-tls=none");
}

/* Sendmail reports unverified names; they never reach the tag, verify= does. */
static void rogue_names_not_shown(void **state)
{
    struct tt_macros m = {.mta_version = "8.17.1.9",
                          .tls_version = "TLSv1.3",
                          .cipher = "C",
                          .cipher_bits = "256",
                          .cert_issuer = "/CN=Red+20Segura+20CA",
                          .cn_issuer = "Red+20Segura+20CA",
                          .cn_subject = "evil",
                          .verify = "FAIL"};
    struct tt_tls s;
    char out[TT_TAG_MAX];

    (void)state;
    tt_tls_capture(&s, &m, TT_DIALECT_AUTO, &trust);
    tt_tag_value(out, sizeof(out), &s, NULL, "mx");
    assert_string_equal(out, "encrypted; version=TLSv1.3; cipher=C; bits=256; verify=FAIL; "
                             "policy=none; authserv-id=mx");
}

static void injection_and_length(void **state)
{
    char subject[70000];
    struct tt_macros m = {.mta_version = "Postfix 3.7.11",
                          .tls_version = "TLSv1.3",
                          .cipher = "C\r\nX-Evil: 1",
                          .cipher_bits = "256",
                          .cert_subject = subject,
                          .cert_issuer = "x\"; policy=pass; \"\r\n"};
    struct tt_tls s;
    char out[TT_TAG_MAX];
    size_t n;

    (void)state;
    memset(subject, 'a', sizeof(subject) - 1);
    memcpy(subject + 10, "\r\nX-TLS-Trust: trusted", 22);
    subject[sizeof(subject) - 1] = '\0';
    tt_tls_capture(&s, &m, TT_DIALECT_AUTO, &trust);
    n = tt_tag_value(out, sizeof(out), &s, NULL, "mx");
    assert_int_equal(n, strlen(out));
    assert_true(n < 998 - strlen("X-TLS-Trust: "));
    assert_null(strchr(out, '\r'));
    assert_null(strchr(out, '\n'));
    assert_non_null(strstr(out, "cipher=\"C\\\\x0D\\\\x0AX-Evil: 1\""));
    assert_non_null(strstr(out, "issuer=\"x\\\"; policy=pass; \\\"\\\\x0D\\\\x0A\""));
    assert_non_null(strstr(out, "...\""));
    /* Our own fields stay last and intact. */
    assert_non_null(strstr(out, "; policy=none; authserv-id=mx"));
}

static void authres_ours(void **state)
{
    (void)state;
    assert_true(tt_authres_is_ours("mx.receiver.test; x-tls=pass", "mx.receiver.test"));
    assert_true(tt_authres_is_ours("  MX.Receiver.Test ; none", "mx.receiver.test"));
    assert_true(
        tt_authres_is_ours("(comment (nested)) mx.receiver.test 1; spf=pass", "mx.receiver.test"));
    assert_true(tt_authres_is_ours("\r\n\tmx.receiver.test;\r\n\tdkim=pass", "mx.receiver.test"));
    assert_false(tt_authres_is_ours("mx.receiver.test.evil; x-tls=pass", "mx.receiver.test"));
    assert_false(tt_authres_is_ours("other.test; x-tls=pass", "mx.receiver.test"));
    assert_false(tt_authres_is_ours("", "mx.receiver.test"));
    assert_false(tt_authres_is_ours("(unterminated mx.receiver.test", "mx.receiver.test"));
    /* RFC 8601: the authserv-id may be a quoted-string (security review, item 4). */
    assert_true(tt_authres_is_ours("\"mx.receiver.test\"; dkim=pass", "mx.receiver.test"));
    assert_true(tt_authres_is_ours(" (c) \"MX.receiver.test\" 1; none", "mx.receiver.test"));
    assert_true(tt_authres_is_ours("\"mx.rec\\eiver.test\"; none", "mx.receiver.test"));
    assert_true(tt_authres_is_ours("\"mx.receiver.test", "mx.receiver.test"));
    assert_false(tt_authres_is_ours("\"mx.receiver.test.evil\"; none", "mx.receiver.test"));
    assert_false(tt_authres_is_ours("\"mx.receiver.test \"; none", "mx.receiver.test"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trusted_tag_as_documented),
        cmocka_unit_test(plaintext_monitor_tag),
        cmocka_unit_test(rogue_names_not_shown),
        cmocka_unit_test(injection_and_length),
        cmocka_unit_test(authres_ours),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
