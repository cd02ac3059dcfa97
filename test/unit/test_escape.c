/*
 * test_escape.c - header value escaping: what a hostile certificate name
 * can and cannot get into the tag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"

/* A well-formed quoted-string: opens and closes with '"', every inner '"' escaped. */
static void assert_safe_quoted(const char *s)
{
    size_t n = strlen(s), i;

    assert_true(n >= 2);
    assert_int_equal(s[0], '"');
    assert_int_equal(s[n - 1], '"');
    for (i = 1; i < n - 1; i++) {
        assert_true(s[i] != '\r' && s[i] != '\n');
        if (s[i] == '\\')
            i++;
        else
            assert_true(s[i] != '"');
    }
    assert_int_equal(i, n - 1);
}

static void quotes_and_backslashes(void **state)
{
    char out[64];

    (void)state;
    tt_escape_quoted("mail.example", 12, out, sizeof(out));
    assert_string_equal(out, "\"mail.example\"");
    tt_escape_quoted("a\"b\\c", 5, out, sizeof(out));
    assert_string_equal(out, "\"a\\\"b\\\\c\"");
    assert_safe_quoted(out);
}

static void controls_become_hex_text(void **state)
{
    char out[128];

    (void)state;
    tt_escape_quoted("x\r\nX-TLS-Trust: trusted", 23, out, sizeof(out));
    assert_string_equal(out, "\"x\\\\x0D\\\\x0AX-TLS-Trust: trusted\"");
    tt_escape_quoted("a\0b\x7f", 4, out, sizeof(out));
    assert_string_equal(out, "\"a\\\\x00b\\\\x7F\"");
    assert_safe_quoted(out);
}

static void utf8_kept_invalid_escaped(void **state)
{
    char out[128];

    (void)state;
    tt_escape_quoted("Administraci\xc3\xb3n", 15, out, sizeof(out));
    assert_string_equal(out, "\"Administraci\xc3\xb3n\"");
    tt_escape_quoted("\xc3", 1, out, sizeof(out)); /* truncated sequence */
    assert_string_equal(out, "\"\\\\xC3\"");
    tt_escape_quoted("\xc0\x80", 2, out, sizeof(out)); /* overlong NUL */
    assert_string_equal(out, "\"\\\\xC0\\\\x80\"");
    tt_escape_quoted("\xed\xa0\x80", 3, out, sizeof(out)); /* surrogate */
    assert_string_equal(out, "\"\\\\xED\\\\xA0\\\\x80\"");
    tt_escape_quoted("\xc2\x85", 2, out, sizeof(out)); /* C1 NEL */
    assert_string_equal(out, "\"\\\\xC2\\\\x85\"");
    tt_escape_quoted("\xe2\x80\xa8", 3, out, sizeof(out)); /* U+2028 line separator */
    assert_string_equal(out, "\"\\\\xE2\\\\x80\\\\xA8\"");
}

static void truncation_is_bounded_and_balanced(void **state)
{
    char in[5000], out[40];
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(in); i++)
        in[i] = (char)(i % 3 == 0 ? '"' : 'a');
    n = tt_escape_quoted(in, sizeof(in), out, sizeof(out));
    assert_true(n < sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_non_null(strstr(out, "...\""));
    assert_safe_quoted(out);
    /* Never split a UTF-8 character. */
    memset(in, 0, sizeof(in));
    for (i = 0; i + 1 < 200; i += 2)
        memcpy(in + i, "\xc3\xa9", 2);
    tt_escape_quoted(in, 200, out, sizeof(out));
    assert_safe_quoted(out);
    n = strlen(out);
    assert_memory_equal(out + n - 4, "...\"", 4);
    assert_int_equal((unsigned char)out[n - 5], 0xa9);
    assert_int_equal(tt_escape_quoted("abc", 3, out, 7), 0); /* below TT_ESCAPE_MIN */
}

static void random_bytes_never_escape(void **state)
{
    char in[300], out[200];
    int round;

    (void)state;
    srand(42);
    for (round = 0; round < 20000; round++) {
        size_t n = (size_t)(rand() % (int)sizeof(in)), i;

        for (i = 0; i < n; i++)
            in[i] = (char)(rand() % 256);
        tt_escape_quoted(in, n, out, sizeof(out) - (size_t)(round % 150));
        assert_safe_quoted(out);
    }
}

static void tokens_and_pairs(void **state)
{
    char buf[64] = "trusted";
    size_t len = strlen(buf);

    (void)state;
    assert_true(tt_is_token("TLS_AES_256_GCM_SHA384", 48));
    assert_true(tt_is_token("TLSv1.3", 48));
    assert_false(tt_is_token("a b", 48));
    assert_false(tt_is_token("a;b", 48));
    assert_false(tt_is_token("", 48));
    assert_false(tt_is_token("abcdef", 5));
    assert_true(tt_append_pair(buf, sizeof(buf), &len, "version", "TLSv1.3", 48, false));
    assert_true(tt_append_pair(buf, sizeof(buf), &len, "subject", "a;b", 48, false));
    assert_string_equal(buf, "trusted; version=TLSv1.3; subject=\"a;b\"");
    assert_true(tt_append_pair(buf, sizeof(buf), &len, "s", "x", 48, true));
    assert_string_equal(buf, "trusted; version=TLSv1.3; subject=\"a;b\"; s=\"x\"");
    assert_false(tt_append_pair(buf, sizeof(buf), &len, "toolong",
                                "0123456789012345678901234567890123456789", 48, false));
    assert_int_equal(len, strlen(buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quotes_and_backslashes),
        cmocka_unit_test(controls_become_hex_text),
        cmocka_unit_test(utf8_kept_invalid_escaped),
        cmocka_unit_test(truncation_is_bounded_and_balanced),
        cmocka_unit_test(random_bytes_never_escape),
        cmocka_unit_test(tokens_and_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
