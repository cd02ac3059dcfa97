/*
 * test_forgery.c - the forged-header rules (forgery.c): which incoming
 * headers are forged copies of ours, when a message is refused instead of
 * cleaned, and which deletions clean it, in which order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "forgery.h"

#define TAG "X-TLS-Trust"
#define ID "mx.receiver.test"

/* The deletions asked for, as "name:index" words. */
struct deletions {
    char list[4096];
    unsigned int n, fail_at; /* fail_at: make the n-th deletion fail (0: none) */
};

static bool record(void *ctx, const char *name, unsigned int index)
{
    struct deletions *d = ctx;
    size_t l = strlen(d->list);

    d->n++;
    if (d->fail_at != 0 && d->n == d->fail_at)
        return false;
    snprintf(d->list + l, sizeof(d->list) - l, "%s%s:%u", l ? " " : "", name, index);
    return true;
}

static enum tt_header_verdict hdr(struct tt_forgery *f, const char *name, const char *value)
{
    return tt_forgery_header(f, name, value, TAG, true, ID);
}

static void copies_in_any_case_and_spelling(void **state)
{
    struct tt_forgery f = {0};
    struct deletions d = {0};

    (void)state;
    assert_int_equal(hdr(&f, "X-TLS-Trust", "trusted"), TT_HDR_OK);
    assert_int_equal(hdr(&f, "Subject", "hello"), TT_HDR_OK);
    assert_int_equal(hdr(&f, "x-tls-trust", "trusted"), TT_HDR_OK);
    assert_int_equal(hdr(&f, "X-TLS-TRUST", "verified"), TT_HDR_OK);
    /* Blanks before the colon: another name to the MTA's index, deleted under its own. */
    assert_int_equal(hdr(&f, "X-TLS-Trust \t", "trusted"), TT_HDR_OK);
    assert_int_equal(hdr(&f, "X-TLS-Trusted", "not ours"), TT_HDR_OK);
    assert_int_equal(f.tag_count, 4);
    assert_true(tt_forgery_strip(&f, record, &d));
    /* One group per spelling (any case), last index first. */
    assert_string_equal(d.list, "X-TLS-Trust:3 X-TLS-Trust:2 X-TLS-Trust:1 X-TLS-Trust \t:1");
}

static void our_authentication_results_only(void **state)
{
    struct tt_forgery f = {0};
    struct deletions d = {0};

    (void)state;
    hdr(&f, "Authentication-Results", "other.example; spf=pass");
    hdr(&f, "Authentication-Results", ID "; x-tls=pass");
    hdr(&f, "authentication-results", "\"" ID "\"; dkim=pass");
    hdr(&f, "Authentication-Results", "other.example; dkim=fail");
    assert_true(tt_forgery_strip(&f, record, &d));
    /* Indexes count every exact-name Authentication-Results; ours were the 2nd and 3rd. */
    assert_string_equal(d.list, "Authentication-Results:3 Authentication-Results:2");

    /* Without AuthResults they are not ours to delete. */
    memset(&f, 0, sizeof(f));
    memset(&d, 0, sizeof(d));
    tt_forgery_header(&f, "Authentication-Results", ID "; x-tls=pass", TAG, false, ID);
    assert_true(tt_forgery_strip(&f, record, &d));
    assert_string_equal(d.list, "");
}

static void cap_refuses_instead_of_cleaning(void **state)
{
    struct tt_forgery f = {0};
    const char *xcode, *why;
    int i;

    (void)state;
    for (i = 0; i < TT_FORGED_MAX; i++)
        assert_int_equal(hdr(&f, TAG, "trusted"), TT_HDR_OK);
    assert_int_equal(hdr(&f, TAG, "trusted"), TT_HDR_TOO_MANY_TAGS);
    why = tt_header_refusal(TT_HDR_TOO_MANY_TAGS, &xcode);
    assert_string_equal(xcode, "5.7.1");
    assert_non_null(strstr(why, "too many forged TLS tags"));

    memset(&f, 0, sizeof(f));
    for (i = 0; i < TT_FORGED_MAX; i++)
        assert_int_equal(hdr(&f, "Authentication-Results", ID "; none"), TT_HDR_OK);
    assert_int_equal(hdr(&f, "Authentication-Results", ID "; none"), TT_HDR_TOO_MANY_AUTHRES);
    /* Foreign ones are not counted against the cap. */
    memset(&f, 0, sizeof(f));
    for (i = 0; i < 1000; i++)
        assert_int_equal(hdr(&f, "Authentication-Results", "other.example; none"), TT_HDR_OK);
}

static void bare_cr_refuses(void **state)
{
    struct tt_forgery f = {0};
    const char *xcode;

    (void)state;
    assert_int_equal(hdr(&f, "X-Smuggle", "a\rX-TLS-Trust: trusted"), TT_HDR_BARE_CR);
    assert_int_equal(hdr(&f, "X-Trailing", "value\r"), TT_HDR_BARE_CR);
    assert_int_equal(hdr(&f, "X-Name\r", "value"), TT_HDR_BARE_CR);
    assert_int_equal(hdr(&f, "X-Folded", "a\r\n\tb"), TT_HDR_OK);
    assert_int_equal(hdr(&f, "X-Folded-LF", "a\n\tb"), TT_HDR_OK);
    (void)tt_header_refusal(TT_HDR_BARE_CR, &xcode);
    assert_string_equal(xcode, "5.6.0");
}

/* What cannot be cleaned is never reported clean: the caller must not let it through. */
static void cannot_clean(void **state)
{
    struct tt_forgery f = {0};
    struct deletions d = {0};
    char name[32];
    int i;

    (void)state;
    for (i = 0; i < TT_TAG_SPELLINGS; i++) {
        snprintf(name, sizeof(name), "X-TLS-Trust%.*s", i, "     ");
        hdr(&f, name, "trusted");
    }
    assert_true(tt_forgery_strip(&f, record, &d));
    hdr(&f, "X-TLS-Trust      ", "trusted"); /* one spelling more than kept */
    assert_false(tt_forgery_strip(&f, record, &d));

    memset(&f, 0, sizeof(f));
    hdr(&f, "Authentication-Results ", ID "; none"); /* ours under an odd name */
    assert_false(tt_forgery_strip(&f, record, &d));

    memset(&f, 0, sizeof(f));
    memset(&d, 0, sizeof(d));
    hdr(&f, TAG, "trusted");
    hdr(&f, TAG, "trusted");
    d.fail_at = 1;
    assert_false(tt_forgery_strip(&f, record, &d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copies_in_any_case_and_spelling),
        cmocka_unit_test(our_authentication_results_only),
        cmocka_unit_test(cap_refuses_instead_of_cleaning),
        cmocka_unit_test(bare_cr_refuses),
        cmocka_unit_test(cannot_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
