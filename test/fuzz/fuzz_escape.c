/*
 * fuzz_escape.c - header value escaping (tt_escape_quoted) and the tag's
 * "; key=value" builder (tt_append_pair).
 *
 * Input: byte 0 sets the output size of tt_escape_quoted (TT_ESCAPE_MIN +
 * byte), byte 1 the tt_append_pair options (bit 0: quote; the rest: vmax),
 * byte 2 its buffer size; the rest is the value (any bytes: NUL, CR, LF,
 * quotes, backslashes, broken UTF-8). Properties:
 *  - tt_escape_quoted: the result equals strlen(out) (no NUL before the
 *    end) and is below outsz; the output is one RFC 5322 quoted-string:
 *    it starts and ends with '"', every inner '"' is escaped by a
 *    backslash, and it holds no CR, LF or NUL; with room for everything it
 *    is the same as with a huge buffer; when cut, it ends in "..." and what
 *    precedes is exactly the escape of a prefix of the input, so no escape
 *    or UTF-8 sequence is ever split;
 *  - tt_append_pair, called until the buffer is full: the buffer stays
 *    NUL-terminated with *len == strlen(buf) < bufsz; a pair that does not
 *    fit leaves the text unchanged; a pair that fits is "; key=" and the
 *    value itself when it is a token (and quote is off), else a
 *    quoted-string no longer than max(vmax, TT_ESCAPE_MIN - 1).
 */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_escape(const char *in, size_t inlen, size_t outsz)
{
    char *out = malloc(outsz), *full, *pre;
    size_t fullsz = inlen * 5 + TT_ESCAPE_MIN, r, fl, k;

    FZ_CHECK(out != NULL);
    r = tt_escape_quoted(in, inlen, out, outsz);
    FZ_CHECK(r == strlen(out));
    FZ_CHECK(r < outsz);
    FZ_CHECK(fz_is_quoted(out, r));

    full = malloc(fullsz);
    FZ_CHECK(full != NULL);
    fl = tt_escape_quoted(in, inlen, full, fullsz);
    FZ_CHECK(fl == strlen(full) && fz_is_quoted(full, fl));
    if (r == fl && memcmp(out, full, r) == 0) {
        free(full);
        free(out);
        return;
    }
    /* Cut: '"' + the escape of some input prefix + '..."'. */
    FZ_CHECK(r >= 5 && memcmp(out + r - 4, "...\"", 4) == 0);
    FZ_CHECK(r - 4 < fl && memcmp(out, full, r - 4) == 0);
    pre = malloc(fullsz);
    FZ_CHECK(pre != NULL);
    for (k = 0; k <= inlen && k <= r; k++) {
        size_t pl = tt_escape_quoted(in, k, pre, fullsz);

        if (pl - 1 == r - 4 && memcmp(pre, out, pl - 1) == 0)
            break;
    }
    FZ_CHECK(k <= inlen && k <= r); /* no input prefix escapes to the cut text */
    free(pre);
    free(full);
    free(out);
}

static void check_pairs(const char *value, unsigned int opts, size_t bufsz)
{
    static const char *keys[] = {"issuer", "subject", "rule", "authserv-id"};
    bool quote = (opts & 1) != 0;
    size_t vmax = (opts >> 1) * 8 + 1, len, i;
    size_t qmax = vmax + 1 < 1024 ? vmax : 1023;
    char *buf = malloc(bufsz), *saved = malloc(bufsz);

    FZ_CHECK(buf != NULL && saved != NULL);
    if (qmax < TT_ESCAPE_MIN - 1)
        qmax = TT_ESCAPE_MIN - 1;
    len = (size_t)snprintf(buf, bufsz, "trusted");
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        size_t before = len, kl = strlen(keys[i]);
        bool ok;

        memcpy(saved, buf, len + 1);
        ok = tt_append_pair(buf, bufsz, &len, keys[i], value, vmax, quote);
        FZ_CHECK(len < bufsz);
        FZ_CHECK(len == strlen(buf));
        FZ_CHECK(memcmp(buf, saved, before) == 0);
        if (!ok) {
            FZ_CHECK(len == before);
            break;
        }
        {
            const char *v = buf + before + 2 + kl + 1;

            FZ_CHECK(strncmp(buf + before, "; ", 2) == 0);
            FZ_CHECK(strncmp(buf + before + 2, keys[i], kl) == 0 && buf[before + 2 + kl] == '=');
            if (!quote && tt_is_token(value, vmax))
                FZ_CHECK(strcmp(v, value) == 0);
            else
                FZ_CHECK(fz_is_quoted(v, strlen(v)) && strlen(v) <= qmax);
        }
    }
    free(saved);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value;

    if (size < 3)
        return 0;
    check_escape((const char *)data + 3, size - 3, TT_ESCAPE_MIN + data[0]);
    value = fz_strdup(data + 3, size - 3); /* a C string: ends at the first NUL */
    check_pairs(value, data[1], 16 + (size_t)data[2] * 4);
    free(value);
    return 0;
}
