/*
 * fuzz_xtext_dn.c - xtext and oneline-DN decoding, the path of Sendmail's
 * {cert_issuer}, {cert_subject} and {cn_*} macros (tls_state.c).
 *
 * Input: one macro value; it ends at the first NUL, as a C string from
 * libmilter does. Properties:
 *  - tt_xtext_decode() into a TT_NAME_MAX buffer: on success the result
 *    equals strlen(out), so no NUL was decoded into the name; it is below
 *    the buffer size and not above the input length;
 *  - at the size limit: the same input decodes into an exact heap buffer of
 *    length+1 bytes with the same bytes, and fails into length bytes;
 *  - round trip: the output, xtext-encoded again, decodes to itself;
 *  - tt_dn_attr() for CN, O, OU and C, on the decoded name and on the raw
 *    input: -1, or 0 with an empty output, or a length equal to
 *    strlen(out) and below strlen(dn); a found value also fits an exact
 *    length+1 buffer and fails in a length-byte one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "dn.h"
#include "fuzz_common.h"
#include "tls_state.h"
#include "xtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_dn(const char *dn)
{
    static const char *attrs[] = {"CN", "O", "OU", "C"};
    char out[TT_NAME_MAX];
    size_t i;

    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        ssize_t r = tt_dn_attr(dn, attrs[i], out, sizeof(out));
        char *exact;

        FZ_CHECK(r >= -1);
        if (r < 0)
            continue;
        FZ_CHECK((size_t)r == strlen(out));
        FZ_CHECK((size_t)r < sizeof(out));
        FZ_CHECK((size_t)r < strlen(dn));
        if (r == 0)
            continue;
        exact = malloc((size_t)r + 1);
        FZ_CHECK(exact != NULL);
        FZ_CHECK(tt_dn_attr(dn, attrs[i], exact, (size_t)r + 1) == r);
        FZ_CHECK(memcmp(exact, out, (size_t)r + 1) == 0);
        FZ_CHECK(tt_dn_attr(dn, attrs[i], exact, (size_t)r) == -1);
        free(exact);
    }
}

/* RFC 3461 xtext: "+HH" for bytes outside '!'..'~' and for '+' and '='. */
static char *xtext_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *o = out;

    FZ_CHECK(out != NULL);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < '!' || c > '~' || c == '+' || c == '=') {
            *o++ = '+';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0x0F];
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fz_strdup(data, size);
    char out[TT_NAME_MAX];
    ssize_t r = tt_xtext_decode(in, out, sizeof(out));

    FZ_CHECK(r >= -1);
    if (r >= 0) {
        char *exact = malloc((size_t)r + 1), *enc, *back;

        FZ_CHECK((size_t)r == strlen(out));
        FZ_CHECK((size_t)r < sizeof(out));
        FZ_CHECK((size_t)r <= strlen(in));
        FZ_CHECK(exact != NULL);
        FZ_CHECK(tt_xtext_decode(in, exact, (size_t)r + 1) == r);
        FZ_CHECK(memcmp(exact, out, (size_t)r + 1) == 0);
        FZ_CHECK(tt_xtext_decode(in, exact, (size_t)r) == -1);
        free(exact);

        enc = xtext_encode(out);
        back = malloc((size_t)r + 1);
        FZ_CHECK(back != NULL);
        FZ_CHECK(tt_xtext_decode(enc, back, (size_t)r + 1) == r);
        FZ_CHECK(memcmp(back, out, (size_t)r + 1) == 0);
        free(back);
        free(enc);

        check_dn(out);
    }
    check_dn(in);
    free(in);
    return 0;
}
