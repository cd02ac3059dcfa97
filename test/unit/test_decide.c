/*
 * test_decide.c - the one decision at MAIL FROM (decide.c): which rules
 * apply, in which order, and how they merge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "decide.h"
#include "helpers.h"

static struct tt_config *load(const char *table)
{
    char text[512], err[600];
    struct tt_config *c;

    snprintf(text, sizeof(text), "DomainTable %s\nSyslog no\n", th_write("decide.table", table));
    c = tt_config_load(th_write("decide.conf", text), time(NULL), err, sizeof(err));
    if (c == NULL)
        fail_msg("%s", err);
    return c;
}

static void envelope(struct tt_envelope *env, const char *raw, const char *parsed)
{
    tt_envelope_domains(raw, parsed, false, env);
    assert_int_equal(env->kind, TT_ADDR_DOMAIN);
}

/* from: rules of every sender domain, then the client rule; a rule met twice counts once. */
static void order_and_dedupe(void **state)
{
    struct tt_config *c = load("from:parsed.test encrypt reject\n"
                               "from:.raw.test verify defer\n"
                               "client:192.0.2.0/24 encrypt monitor\n"
                               "client:mx.client.test trusted reject\n");
    struct tt_mail_rule rules[TT_MAIL_RULES];
    struct tt_envelope env;
    struct tt_cidr addr;
    struct tt_mail_case mc = {.id = "t", .sender = &env, .client = &addr};
    size_t n;

    (void)state;
    assert_true(tt_ip_parse("192.0.2.7", &addr));
    envelope(&env, "<a@x.raw.test>", "a@parsed.test");
    assert_int_equal(tt_mail_rules(c, NULL, &mc, rules, &n), TT_DNSP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(rules[0].rule->key, "from:parsed.test");
    assert_string_equal(rules[1].rule->key, "from:.raw.test");
    assert_string_equal(rules[2].rule->key, "client:192.0.2.0/24");
    assert_null(rules[0].dns);

    /* The address rule wins over the host name; without an address the name counts. */
    mc.client_name = "mx.client.test";
    assert_int_equal(tt_mail_rules(c, NULL, &mc, rules, &n), TT_DNSP_OK);
    assert_string_equal(rules[n - 1].rule->key, "client:192.0.2.0/24");
    mc.client = NULL;
    assert_int_equal(tt_mail_rules(c, NULL, &mc, rules, &n), TT_DNSP_OK);
    assert_string_equal(rules[n - 1].rule->key, "client:mx.client.test");

    /* Two spellings meeting the same rule give it once. */
    envelope(&env, "<a@parsed.test >", "a@parsed.test");
    mc.client_name = NULL;
    assert_int_equal(tt_mail_rules(c, NULL, &mc, rules, &n), TT_DNSP_OK);
    assert_int_equal(n, 1);
    tt_config_free(c);
}

/* The strictest of all the rules that apply decides: here the client's reject. */
static void strictest_wins(void **state)
{
    struct tt_config *c = load("from:sender.test encrypt monitor\n"
                               "client:mx.client.test trusted reject\n");
    struct tt_envelope env;
    struct tt_mail_case mc = {.id = "t", .sender = &env, .client_name = "mx.client.test"};
    struct tt_tls tls;
    struct tt_verdict acc;

    (void)state;
    memset(&tls, 0, sizeof(tls));
    memset(&acc, 0, sizeof(acc));
    envelope(&env, "<a@sender.test>", NULL);
    assert_int_equal(tt_decide_mail(c, NULL, &mc, &tls, &acc), TT_DNSP_OK);
    assert_int_equal(acc.result, TT_RESULT_FAIL);
    assert_int_equal(acc.action, TT_ACTION_REJECT);
    assert_string_equal(acc.rule->key, "client:mx.client.test");

    /* With TLS the from: rule passes and the client rule still fails. */
    tls.tls = true;
    tls.level = TT_LEVEL_ENCRYPTED;
    memset(&acc, 0, sizeof(acc));
    assert_int_equal(tt_decide_mail(c, NULL, &mc, &tls, &acc), TT_DNSP_OK);
    assert_string_equal(acc.rule->key, "client:mx.client.test");

    /* No rule at all: no verdict. */
    mc.client_name = NULL;
    envelope(&env, "<a@elsewhere.test>", NULL);
    memset(&acc, 0, sizeof(acc));
    assert_int_equal(tt_decide_mail(c, NULL, &mc, &tls, &acc), TT_DNSP_OK);
    assert_int_equal(acc.result, TT_RESULT_NONE);
    tt_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_and_dedupe),
        cmocka_unit_test(strictest_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
