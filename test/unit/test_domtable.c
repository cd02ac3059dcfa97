/*
 * test_domtable.c - domain table parsing (every error with its line) and
 * lookup semantics: exact, parent, none override, CIDR longest prefix.
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

#include "helpers.h"
#include "domtable.h"

static struct tt_trust trust;

static int setup(void **state)
{
    (void)state;
    return th_trust_redsegura(&trust, "CN=Red Segura CA");
}

static int teardown(void **state)
{
    (void)state;
    tt_trust_free(&trust);
    return 0;
}

static struct tt_table *load(const char *text, char *err, size_t errsz)
{
    return tt_table_load(th_write("table", text), &trust, err, errsz);
}

/* Loading text must fail at line with a message containing fragment. */
static void expect_error(const char *text, unsigned int line, const char *fragment)
{
    char err[1024], where[64];
    struct tt_table *t = load(text, err, sizeof(err));

    if (t != NULL) {
        tt_table_free(t);
        fail_msg("table loaded but should fail: %s", text);
    }
    snprintf(where, sizeof(where), "/table:%u: ", line);
    if (strstr(err, where) == NULL || strstr(err, fragment) == NULL)
        fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", err, where, fragment);
}

static void syntax_errors_name_their_line(void **state)
{
    char *longline = malloc(10 * 1024 + 64);

    (void)state;
    expect_error("# c\n\nexample.org sometimes\n", 3, "unknown requirement 'sometimes'");
    expect_error("example.org trusted later\n", 1, "unknown action 'later'");
    expect_error("example.org trusted defer color=blue\n", 1, "unknown attribute 'color'");
    expect_error("a.org encrypt\nA.ORG. verify\n", 2,
                 "duplicate key 'from:a.org' (first defined at line 1)");
    expect_error("example.org\n", 1, "missing requirement");
    expect_error("example.org encrypt min_version=SSLv3\n", 1, "unknown TLS version");
    expect_error("example.org encrypt min_bits=-5\n", 1, "min_bits must be a number");
    expect_error("example.org encrypt min_bits=12abc\n", 1, "min_bits must be a number");
    expect_error("example.org encrypt reply=\"unterminated\n", 1, "unterminated quoted string");
    expect_error("exa mple.org encrypt\n", 1, "unknown requirement 'mple.org'");
    expect_error("ex@mple.org encrypt\n", 1, "invalid domain");
    expect_error("a..org encrypt\n", 1, "invalid domain");
    expect_error("x.org trusted:nosuchnet\n", 1, "unknown network 'nosuchnet'");
    expect_error("x.org none defer\n", 1, "takes no action or attributes");
    expect_error("client:10.0.0.0/33 encrypt\n", 1, "invalid address or CIDR");
    expect_error("client:999.1.2.3 encrypt\n", 1, "invalid IPv4 address");
    expect_error("x.org encrypt min_bits=1 defer\n", 1, "the action comes right after");
    expect_error("x.org encrypt min_bits=1 min_bits=2\n", 1, "given twice");
    expect_error("x.org encrypt reply=\"100%\"\n", 1, "without '%'");
    expect_error("x.org encrypt subject=\n", 1, "empty value");
    expect_error("x.org encrypt subject=*.a.org,,b.org\n", 1, "empty or too long subject");
    /* A star only as the whole leftmost label of a pattern: "*.domain". */
    expect_error("x.org encrypt subject=a.*.org\n", 1, "invalid subject pattern 'a.*.org'");
    expect_error("x.org encrypt subject=*\n", 1, "invalid subject pattern '*'");
    expect_error("x.org encrypt subject=*.\n", 1, "invalid subject pattern");
    expect_error("x.org encrypt subject=**.org\n", 1, "invalid subject pattern '**.org'");
    expect_error("x.org encrypt subject=*.*.org\n", 1, "invalid subject pattern '*.*.org'");
    expect_error("x.org encrypt subject=mx*.org\n", 1, "invalid subject pattern 'mx*.org'");
    expect_error("x.org encrypt subject=*mx.org\n", 1, "invalid subject pattern '*mx.org'");
    memset(longline, 'a', 10 * 1024);
    strcpy(longline + 10 * 1024, ".org encrypt\n");
    expect_error(longline, 1, "line too long");
    free(longline);
    /* Missing file. */
    {
        char err[512];

        assert_null(tt_table_load("/nonexistent/table", &trust, err, sizeof(err)));
        assert_non_null(strstr(err, "cannot open"));
    }
}

static void lookup_semantics(void **state)
{
    char err[512];
    struct tt_table *t;
    const struct tt_rule *r;

    (void)state;
    t = load("# members\n"
             ".example.org    encrypt\n"
             "sub.example.org trusted reject\n"
             ".sub.example.org verify monitor\n"
             "free.example.org none\n"
             "Mixed.Case.ORG. encrypt defer min_version=TLSv1.2 min_bits=128\n"
             "to:protected.test encrypt reject reply=\"TLS required here\"\n"
             "client:192.0.2.0/24 encrypt\n"
             "client:192.0.2.128/25 verify\n"
             "client:2001:db8::/32 trusted\n"
             "client:.relay.test encrypt monitor\n"
             "m.test trusted:redsegura subject=*.m.test,mx.m.test\n",
             err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(tt_table_count(t), 11);

    r = tt_table_lookup_domain(t, TT_KEY_FROM, "a.example.org");
    assert_non_null(r);
    assert_string_equal(r->key, "from:.example.org");
    assert_int_equal(r->line, 2);
    assert_null(tt_table_lookup_domain(t, TT_KEY_FROM, "example.org")); /* parent only */
    r = tt_table_lookup_domain(t, TT_KEY_FROM, "sub.example.org");
    assert_int_equal(r->req, TT_REQ_TRUSTED);
    assert_int_equal(r->action, TT_ACTION_REJECT);
    r = tt_table_lookup_domain(t, TT_KEY_FROM, "x.y.sub.example.org"); /* nearest parent */
    assert_string_equal(r->key, "from:.sub.example.org");
    r = tt_table_lookup_domain(t, TT_KEY_FROM, "free.example.org"); /* none exempts */
    assert_int_equal(r->req, TT_REQ_NONE);
    r = tt_table_lookup_domain(t, TT_KEY_FROM, "mixed.case.org");
    assert_non_null(r);
    assert_int_equal(r->min_version, 12);
    assert_int_equal(r->min_bits, 128);
    assert_null(tt_table_lookup_domain(t, TT_KEY_FROM, "example.net"));
    assert_null(tt_table_lookup_domain(t, TT_KEY_FROM, "org"));
    /* to: and from: keys are separate. */
    assert_null(tt_table_lookup_domain(t, TT_KEY_FROM, "protected.test"));
    r = tt_table_lookup_domain(t, TT_KEY_TO, "protected.test");
    assert_string_equal(r->reply, "TLS required here");
    assert_null(tt_table_lookup_domain(t, TT_KEY_TO, "a.example.org"));
    /* Client by name. */
    r = tt_table_lookup_domain(t, TT_KEY_CLIENT, "mx1.relay.test");
    assert_int_equal(r->action, TT_ACTION_MONITOR);
    /* subject patterns and network. */
    r = tt_table_lookup_domain(t, TT_KEY_FROM, "m.test");
    assert_string_equal(r->network, "redsegura");
    assert_string_equal(r->subjects[0], "*.m.test");
    assert_string_equal(r->subjects[1], "mx.m.test");
    assert_null(r->subjects[2]);
    tt_table_free(t);
}

static void cidr_longest_prefix(void **state)
{
    char err[512];
    struct tt_table *t = load("client:192.0.2.0/24 encrypt\n"
                              "client:192.0.2.128/25 verify\n"
                              "client:192.0.2.200 trusted\n"
                              "client:2001:db8::/32 trusted\n",
                              err, sizeof(err));
    struct tt_cidr a;

    (void)state;
    assert_non_null(t);
    assert_true(tt_ip_parse("192.0.2.1", &a));
    assert_int_equal(tt_table_lookup_addr(t, &a)->req, TT_REQ_ENCRYPT);
    assert_true(tt_ip_parse("192.0.2.129", &a));
    assert_int_equal(tt_table_lookup_addr(t, &a)->req, TT_REQ_VERIFY);
    assert_true(tt_ip_parse("192.0.2.200", &a));
    assert_string_equal(tt_table_lookup_addr(t, &a)->key, "client:192.0.2.200");
    assert_true(tt_ip_parse("::ffff:192.0.2.5", &a)); /* mapped form folds to IPv4 */
    assert_int_equal(tt_table_lookup_addr(t, &a)->req, TT_REQ_ENCRYPT);
    assert_true(tt_ip_parse("2001:db8:1::25", &a));
    assert_int_equal(tt_table_lookup_addr(t, &a)->req, TT_REQ_TRUSTED);
    assert_true(tt_ip_parse("198.51.100.1", &a));
    assert_null(tt_table_lookup_addr(t, &a));
    tt_table_free(t);
}

static void large_table(void **state)
{
    size_t n = 20000, i, cap = n * 40, len = 0;
    char *text = malloc(cap), err[256], dom[64];
    struct tt_table *t;

    (void)state;
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%sd%zu.example encrypt\n", i % 2 ? "." : "",
                                i);
    t = load(text, err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(tt_table_count(t), n);
    for (i = 0; i < n; i += 997) {
        snprintf(dom, sizeof(dom), i % 2 ? "x.d%zu.example" : "d%zu.example", i);
        assert_non_null(tt_table_lookup_domain(t, TT_KEY_FROM, dom));
    }
    assert_null(tt_table_lookup_domain(t, TT_KEY_FROM, "d1.example")); /* parent-only key */
    tt_table_free(t);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(syntax_errors_name_their_line),
        cmocka_unit_test(lookup_semantics),
        cmocka_unit_test(cidr_longest_prefix),
        cmocka_unit_test(large_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
