/*
 * test_policy.c - requirements against TLS states, reply codes, and the
 * strictest-wins merge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"
#include "policy.h"

static struct tt_trust trust;
static struct tt_table *table;

static int setup(void **state)
{
    char err[512];

    (void)state;
    if (!tt_trust_add(&trust, "red", th_cert("red.pem", "CN=Red CA", true, 365), time(NULL), err,
                      sizeof(err)) ||
        !tt_trust_add(&trust, "blue", th_cert("blue.pem", "CN=Blue CA", true, 365), time(NULL), err,
                      sizeof(err)))
        return -1;
    table = tt_table_load(th_write("t", "enc.test encrypt reject\n"
                                        "ver.test verify defer\n"
                                        "tru.test trusted monitor\n"
                                        "red.test trusted:red reject\n"
                                        "v13.test encrypt reject min_version=TLSv1.3\n"
                                        "bits.test encrypt reject min_bits=256\n"
                                        "subj.test trusted reject subject=*.subj.test\n"
                                        "dflt.test encrypt\n"
                                        "custom.test encrypt reject reply=\"Use TLS, please\"\n"),
                          &trust, err, sizeof(err));
    return table != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tt_table_free(table);
    tt_trust_free(&trust);
    return 0;
}

static struct tt_tls session(const char *version, const char *issuer, const char *subject)
{
    struct tt_macros m = {.mta_version = "Postfix 3.7.11",
                          .tls_version = version,
                          .cipher = version ? "TLS_AES_128_GCM_SHA256" : NULL,
                          .cipher_bits = version ? "128" : NULL,
                          .cert_issuer = issuer,
                          .cert_subject = subject};
    struct tt_tls s;

    tt_tls_capture(&s, &m, TT_DIALECT_AUTO, &trust);
    return s;
}

static struct tt_verdict judge(const char *domain, const struct tt_tls *s)
{
    struct tt_verdict v;

    tt_policy_eval(tt_table_lookup_domain(table, TT_KEY_FROM, domain), s, &trust, TT_ACTION_DEFER,
                   &v);
    return v;
}

static void requirements(void **state)
{
    struct tt_tls plain = session(NULL, NULL, NULL), enc = session("TLSv1.2", NULL, NULL),
                  ver = session("TLSv1.3", "Outside CA", "mx.out.test"),
                  red = session("TLSv1.3", "Red CA", "mx.subj.test"),
                  blue = session("TLSv1.3", "Blue CA", "other.test"),
                  deep = session("TLSv1.3", "Red CA", "a.mx.subj.test");
    struct tt_verdict v;

    (void)state;
    v = judge("enc.test", &plain);
    assert_int_equal(v.result, TT_RESULT_FAIL);
    assert_true(v.no_tls);
    assert_int_equal(judge("enc.test", &enc).result, TT_RESULT_PASS);
    assert_int_equal(judge("ver.test", &enc).result, TT_RESULT_FAIL);
    assert_int_equal(judge("ver.test", &ver).result, TT_RESULT_PASS);
    assert_int_equal(judge("tru.test", &ver).result, TT_RESULT_FAIL);
    assert_int_equal(judge("tru.test", &blue).result, TT_RESULT_PASS);
    assert_int_equal(judge("red.test", &red).result, TT_RESULT_PASS);
    v = judge("red.test", &blue);
    assert_int_equal(v.result, TT_RESULT_FAIL);
    assert_non_null(strstr(v.reason, "required trusted network"));
    assert_int_equal(judge("v13.test", &enc).result, TT_RESULT_FAIL);
    assert_int_equal(judge("v13.test", &red).result, TT_RESULT_PASS);
    assert_int_equal(judge("bits.test", &red).result, TT_RESULT_FAIL);
    assert_int_equal(judge("subj.test", &red).result, TT_RESULT_PASS);
    v = judge("subj.test", &blue);
    assert_int_equal(v.result, TT_RESULT_FAIL);
    assert_string_equal(v.reason, "TLS client certificate subject does not match");
    /* "*.subj.test" is one label: a deeper subdomain is not the domain's server. */
    v = judge("subj.test", &deep);
    assert_int_equal(v.result, TT_RESULT_FAIL);
    assert_string_equal(v.reason, "TLS client certificate subject does not match");
    assert_int_equal(judge("unlisted.test", &plain).result, TT_RESULT_NONE);
}

static void replies(void **state)
{
    struct tt_tls plain = session(NULL, NULL, NULL), enc = session("TLSv1.2", NULL, NULL);
    const char *rc, *xc, *text;
    struct tt_verdict v;

    (void)state;
    v = judge("enc.test", &plain);
    assert_true(tt_policy_refuses(&v));
    tt_policy_reply(&v, &rc, &xc, &text);
    assert_string_equal(rc, "550");
    assert_string_equal(xc, "5.7.10");
    assert_string_equal(text, "Encryption needed");
    v = judge("ver.test", &enc);
    tt_policy_reply(&v, &rc, &xc, &text);
    assert_string_equal(rc, "450");
    assert_string_equal(xc, "4.7.1");
    assert_string_equal(text, "verified TLS client certificate required");
    v = judge("dflt.test", &plain); /* no action on the line: DefaultAction */
    assert_int_equal(v.action, TT_ACTION_DEFER);
    tt_policy_reply(&v, &rc, &xc, &text);
    assert_string_equal(xc, "4.7.10");
    v = judge("custom.test", &plain);
    tt_policy_reply(&v, &rc, &xc, &text);
    assert_string_equal(text, "Use TLS, please");
    v = judge("tru.test", &plain);
    assert_int_equal(v.result, TT_RESULT_FAIL);
    assert_false(tt_policy_refuses(&v)); /* monitor */
}

static void strictest_wins(void **state)
{
    struct tt_tls enc = session("TLSv1.2", NULL, NULL);
    struct tt_verdict acc, v;

    (void)state;
    memset(&acc, 0, sizeof(acc));
    v = judge("enc.test", &enc); /* pass */
    tt_policy_merge(&acc, &v);
    assert_int_equal(acc.result, TT_RESULT_PASS);
    v = judge("tru.test", &enc); /* monitor fail */
    tt_policy_merge(&acc, &v);
    assert_int_equal(acc.action, TT_ACTION_MONITOR);
    v = judge("ver.test", &enc); /* defer fail */
    tt_policy_merge(&acc, &v);
    assert_int_equal(acc.action, TT_ACTION_DEFER);
    v = judge("v13.test", &enc); /* reject fail */
    tt_policy_merge(&acc, &v);
    assert_int_equal(acc.action, TT_ACTION_REJECT);
    v = judge("tru.test", &enc);
    tt_policy_merge(&acc, &v); /* weaker: no change */
    assert_string_equal(acc.rule->key, "from:v13.test");
    /* Among passing rules, the higher requirement is reported. */
    memset(&acc, 0, sizeof(acc));
    v = judge("enc.test", &enc);
    tt_policy_merge(&acc, &v);
    v = judge("dflt.test", &enc);
    tt_policy_merge(&acc, &v);
    assert_string_equal(acc.rule->key, "from:enc.test");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requirements),
        cmocka_unit_test(replies),
        cmocka_unit_test(strictest_wins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
