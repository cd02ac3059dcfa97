/*
 * test_certcheck.c - the member certificate criteria (tlstrustctl
 * cert-check): one test per way a criterion passes, warns or fails, on
 * certificates issued at test time by a network root and intermediate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "certcheck.h"
#include "helpers.h"

#define DAY 86400L

static char bundle[512], other_bundle[512];

static int make_network(void **state)
{
    (void)state;
    /* The network's bundle holds its root; members are issued by its intermediate. */
    snprintf(bundle, sizeof(bundle), "%s", th_ca("root", "Red Segura Root CA", NULL));
    th_ca("int", "Red Segura Issuing CA", "root");
    snprintf(other_bundle, sizeof(other_bundle), "%s", th_ca("other", "Other CA", NULL));
    return 0;
}

/* The certificate and the intermediate, as a member's MTA serves them. */
static const char *with_chain(const char *name, const char *leaf)
{
    static char path[512];
    char cmd[1600];

    snprintf(path, sizeof(path), "%s/%s-chain.pem", th_tmpdir(), name);
    snprintf(cmd, sizeof(cmd), "cat '%s' '%s/int.pem' > '%s'", leaf, th_tmpdir(), path);
    if (system(cmd) != 0)
        fail_msg("cannot write %s", path);
    return path;
}

static const char *key_of(const char *name)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s.key", th_tmpdir(), name);
    return path;
}

/* Check the member certificate name issued by the intermediate with spec. */
static void check(const char *name, const struct th_leaf *spec, const char *const *hosts,
                  size_t nhosts, struct tt_cc_report *rep)
{
    struct tt_cc_request rq = {.ca_file = bundle, .network = "redsegura"};
    char err[512];

    rq.cert_file = with_chain(name, th_issue(name, "int", spec));

    rq.now = time(NULL); /* after issuing: notBefore is now */
    rq.key_file = key_of(name);
    rq.hosts = hosts;
    rq.nhosts = nhosts;
    assert_int_equal(tt_certcheck(&rq, rep, err, sizeof(err)), TT_CC_OK);
    tt_cc_print(rep, stdout);
}

static void expect(const struct tt_cc_report *rep, enum tt_cc_item item, enum tt_cc_status st,
                   const char *in_reason)
{
    const struct tt_cc_line *l = &rep->line[item];

    assert_true(l->checked);
    if (l->status != st || strstr(l->reason, in_reason) == NULL)
        fail_msg("%s: %s \"%s\", expected %s with \"%s\"", tt_cc_item_name(item),
                 tt_cc_status_name(l->status), l->reason, tt_cc_status_name(st), in_reason);
}

/* Every other criterion passes: a test changes one thing and sees one line move. */
static void expect_rest_pass(const struct tt_cc_report *rep, enum tt_cc_item changed)
{
    int i;

    for (i = 0; i < TT_CC_NITEMS; i++)
        if (i != (int)changed && rep->line[i].status != TT_CC_PASS)
            fail_msg("%s: %s \"%s\"", tt_cc_item_name(i), tt_cc_status_name(rep->line[i].status),
                     rep->line[i].reason);
}

static void member_passes(void **state)
{
    const char *hosts[] = {"mx.member.test", "helo.member.test"};
    struct th_leaf spec = {.san = "DNS:mx.member.test,DNS:helo.member.test"};
    struct tt_cc_report rep;

    (void)state;
    check("good", &spec, hosts, 2, &rep);
    expect_rest_pass(&rep, TT_CC_NITEMS);
    expect(&rep, TT_CC_CHAIN, TT_CC_PASS, "Red Segura Root CA");
    expect(&rep, TT_CC_SAN, TT_CC_PASS, "helo.member.test");
    assert_false(tt_cc_failed(&rep));
}

static void chain_other_ca_fails(void **state)
{
    struct tt_cc_request rq = {.ca_file = other_bundle, .network = "other"};
    struct tt_cc_report rep;
    struct th_leaf spec = {0};
    char err[512];

    (void)state;
    rq.cert_file = with_chain("othernet", th_issue("othernet", "int", &spec));
    rq.now = time(NULL); /* after issuing: notBefore is now */
    assert_int_equal(tt_certcheck(&rq, &rep, err, sizeof(err)), TT_CC_OK);
    tt_cc_print(&rep, stdout);
    expect(&rep, TT_CC_CHAIN, TT_CC_FAIL, "does not chain to network other");
    assert_true(tt_cc_failed(&rep));
}

/* Without the intermediate in the file the path cannot be built: the MTAs would fail too. */
static void chain_without_intermediate_fails(void **state)
{
    struct tt_cc_request rq = {.ca_file = bundle, .network = "redsegura"};
    struct tt_cc_report rep;
    struct th_leaf spec = {0};
    char err[512];

    (void)state;
    rq.cert_file = th_issue("nochain", "int", &spec);
    rq.now = time(NULL); /* after issuing: notBefore is now */
    assert_int_equal(tt_certcheck(&rq, &rep, err, sizeof(err)), TT_CC_OK);
    tt_cc_print(&rep, stdout);
    expect(&rep, TT_CC_CHAIN, TT_CC_FAIL, "unable to get local issuer certificate");
}

static void chain_ca_certificate_fails(void **state)
{
    struct th_leaf spec = {.ca = true};
    struct tt_cc_report rep;

    (void)state;
    check("subca", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_CHAIN, TT_CC_FAIL, "is a CA certificate");
}

static void eku_server_only_fails(void **state)
{
    struct th_leaf spec = {.eku = "serverAuth"};
    struct tt_cc_report rep;

    (void)state;
    check("serveronly", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_EKU, TT_CC_FAIL, "lacks clientAuth");
    expect_rest_pass(&rep, TT_CC_EKU);
}

static void eku_client_only_fails(void **state)
{
    struct th_leaf spec = {.eku = "clientAuth"};
    struct tt_cc_report rep;

    (void)state;
    check("clientonly", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_EKU, TT_CC_FAIL, "lacks serverAuth");
}

static void eku_missing_fails(void **state)
{
    struct th_leaf spec = {.eku = ""};
    struct tt_cc_report rep;

    (void)state;
    check("noeku", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_EKU, TT_CC_FAIL, "no extendedKeyUsage");
}

static void san_missing_host_fails(void **state)
{
    const char *hosts[] = {"mx.member.test", "helo.member.test"};
    struct th_leaf spec = {0};
    struct tt_cc_report rep;

    (void)state;
    check("onename", &spec, hosts, 2, &rep);
    expect(&rep, TT_CC_SAN, TT_CC_FAIL, "does not cover helo.member.test (it has mx.member.test)");
    expect_rest_pass(&rep, TT_CC_SAN);
}

/* The CN is never a name a client matches, even when it is the host. */
static void san_cn_only_fails(void **state)
{
    const char *hosts[] = {"mx.member.test"};
    struct th_leaf spec = {.san = ""};
    struct tt_cc_report rep;

    (void)state;
    check("cnonly", &spec, hosts, 1, &rep);
    expect(&rep, TT_CC_SAN, TT_CC_FAIL, "no DNS names in subjectAltName");
}

static void san_wildcard_covers_one_label(void **state)
{
    const char *one[] = {"mx1.member.test"}, *two[] = {"a.mx1.member.test"};
    struct th_leaf spec = {.san = "DNS:*.member.test"};
    struct tt_cc_report rep;

    (void)state;
    check("wild", &spec, one, 1, &rep);
    expect(&rep, TT_CC_SAN, TT_CC_PASS, "covers all 1");
    check("wild", &spec, two, 1, &rep);
    expect(&rep, TT_CC_SAN, TT_CC_FAIL, "does not cover a.mx1.member.test");
}

static void key_rsa_1024_fails(void **state)
{
    struct th_leaf spec = {.key = "rsa:1024"};
    struct tt_cc_report rep;

    (void)state;
    check("rsa1024", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_KEY, TT_CC_FAIL, "RSA 1024 bits: below 2048");
    expect_rest_pass(&rep, TT_CC_KEY);
}

static void key_rsa_2048_warns(void **state)
{
    struct th_leaf spec = {.key = "rsa:2048"};
    struct tt_cc_report rep;

    (void)state;
    check("rsa2048", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_KEY, TT_CC_WARN, "RSA 2048 bits: use 3072");
    assert_false(tt_cc_failed(&rep));
}

static void key_rsa_3072_passes(void **state)
{
    struct th_leaf spec = {.key = "rsa:3072"};
    struct tt_cc_report rep;

    (void)state;
    check("rsa3072", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_KEY, TT_CC_PASS, "RSA 3072 bits");
}

static void key_ec_p384_passes(void **state)
{
    struct th_leaf spec = {.key = "ec:P-384"};
    struct tt_cc_report rep;

    (void)state;
    check("p384", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_KEY, TT_CC_PASS, "ECDSA secp384r1");
}

static void key_ec_p521_fails(void **state)
{
    struct th_leaf spec = {.key = "ec:P-521"};
    struct tt_cc_report rep;

    (void)state;
    check("p521", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_KEY, TT_CC_FAIL, "only P-256 or P-384");
}

static void key_ed25519_fails(void **state)
{
    struct th_leaf spec = {.key = "ed25519"};
    struct tt_cc_report rep;

    (void)state;
    check("ed25519", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_KEY, TT_CC_FAIL, "ED25519 key");
}

static void signature_sha1_fails(void **state)
{
    struct th_leaf spec = {.md = "sha1"};
    struct tt_cc_report rep;

    (void)state;
    check("sha1", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_SIGNATURE, TT_CC_FAIL, "SHA1 is broken");
    expect_rest_pass(&rep, TT_CC_SIGNATURE);
}

static void lifetime_398_days_passes(void **state)
{
    struct th_leaf spec = {.not_after = 398 * DAY};
    struct tt_cc_report rep;

    (void)state;
    check("d398", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_LIFETIME, TT_CC_PASS, "valid for 398 days");
}

static void lifetime_399_days_fails(void **state)
{
    struct th_leaf spec = {.not_after = 399 * DAY};
    struct tt_cc_report rep;

    (void)state;
    check("d399", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_LIFETIME, TT_CC_FAIL, "valid for 399 days: at most 398");
    expect_rest_pass(&rep, TT_CC_LIFETIME);
}

static void lifetime_one_second_over_fails(void **state)
{
    struct th_leaf spec = {.not_after = 398 * DAY + 1};
    struct tt_cc_report rep;

    (void)state;
    check("d398s", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_LIFETIME, TT_CC_FAIL, "at most 398");
}

static void expiry_within_30_days_warns(void **state)
{
    struct th_leaf spec = {.not_before = -300 * DAY, .not_after = 20 * DAY + 3600};
    struct tt_cc_report rep;

    (void)state;
    check("soon", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_EXPIRY, TT_CC_WARN, "in 20 days: renew now");
    assert_false(tt_cc_failed(&rep));
}

/* Expired: the expiry line fails, and the chain is still judged on its own. */
static void expiry_expired_fails(void **state)
{
    struct th_leaf spec = {.not_before = -300 * DAY, .not_after = -DAY};
    struct tt_cc_report rep;

    (void)state;
    check("expired", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_EXPIRY, TT_CC_FAIL, "expired on");
    expect_rest_pass(&rep, TT_CC_EXPIRY);
}

static void expiry_not_yet_valid_fails(void **state)
{
    struct th_leaf spec = {.not_before = 2 * DAY, .not_after = 300 * DAY};
    struct tt_cc_report rep;

    (void)state;
    check("future", &spec, NULL, 0, &rep);
    expect(&rep, TT_CC_EXPIRY, TT_CC_FAIL, "not valid before");
}

static void keymatch_other_key_fails(void **state)
{
    struct tt_cc_request rq = {.ca_file = bundle, .network = "redsegura"};
    struct tt_cc_report rep;
    struct th_leaf spec = {0};
    char err[512], other[512];

    (void)state;
    th_issue("keyb", "int", &spec);
    snprintf(other, sizeof(other), "%s", key_of("keyb"));
    rq.cert_file = with_chain("keya", th_issue("keya", "int", &spec));
    rq.now = time(NULL); /* after issuing: notBefore is now */
    rq.key_file = other;
    assert_int_equal(tt_certcheck(&rq, &rep, err, sizeof(err)), TT_CC_OK);
    tt_cc_print(&rep, stdout);
    expect(&rep, TT_CC_KEYMATCH, TT_CC_FAIL, "does not match");
    expect_rest_pass(&rep, TT_CC_KEYMATCH);
    /* Without a key the criterion is not judged, and not printed. */
    rq.key_file = NULL;
    assert_int_equal(tt_certcheck(&rq, &rep, err, sizeof(err)), TT_CC_OK);
    assert_false(rep.line[TT_CC_KEYMATCH].checked);
    assert_false(tt_cc_failed(&rep));
}

static void unreadable_files_are_input_errors(void **state)
{
    struct tt_cc_request rq = {.ca_file = bundle, .network = "redsegura"};
    struct tt_cc_report rep;
    char err[512];

    (void)state;
    rq.now = time(NULL);
    rq.cert_file = th_write("garbage.pem", "not a certificate\n");
    assert_int_equal(tt_certcheck(&rq, &rep, err, sizeof(err)), TT_CC_BAD_INPUT);
    assert_non_null(strstr(err, "no PEM certificate"));
    rq.cert_file = "/nonexistent/cert.pem";
    assert_int_equal(tt_certcheck(&rq, &rep, err, sizeof(err)), TT_CC_BAD_INPUT);
    assert_non_null(strstr(err, "No such file"));
    /* A certificate given as the key is no key. */
    rq.cert_file = bundle;
    rq.key_file = bundle;
    assert_int_equal(tt_certcheck(&rq, &rep, err, sizeof(err)), TT_CC_BAD_INPUT);
    assert_non_null(strstr(err, "no unencrypted PEM private key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(member_passes),
        cmocka_unit_test(chain_other_ca_fails),
        cmocka_unit_test(chain_without_intermediate_fails),
        cmocka_unit_test(chain_ca_certificate_fails),
        cmocka_unit_test(eku_server_only_fails),
        cmocka_unit_test(eku_client_only_fails),
        cmocka_unit_test(eku_missing_fails),
        cmocka_unit_test(san_missing_host_fails),
        cmocka_unit_test(san_cn_only_fails),
        cmocka_unit_test(san_wildcard_covers_one_label),
        cmocka_unit_test(key_rsa_1024_fails),
        cmocka_unit_test(key_rsa_2048_warns),
        cmocka_unit_test(key_rsa_3072_passes),
        cmocka_unit_test(key_ec_p384_passes),
        cmocka_unit_test(key_ec_p521_fails),
        cmocka_unit_test(key_ed25519_fails),
        cmocka_unit_test(signature_sha1_fails),
        cmocka_unit_test(lifetime_398_days_passes),
        cmocka_unit_test(lifetime_399_days_fails),
        cmocka_unit_test(lifetime_one_second_over_fails),
        cmocka_unit_test(expiry_within_30_days_warns),
        cmocka_unit_test(expiry_expired_fails),
        cmocka_unit_test(expiry_not_yet_valid_fails),
        cmocka_unit_test(keymatch_other_key_fails),
        cmocka_unit_test(unreadable_files_are_input_errors),
    };

    return cmocka_run_group_tests(tests, make_network, NULL);
}
