/*
 * xtext.c - RFC 3461 xtext decoding ("+HH" for bytes outside '!'..'~' and
 * for '+' and '='). Sendmail also encodes '\\', '(', ')', '<', '>', '"'.
 * Decoding is strict: anything malformed is refused rather than guessed,
 * because the result is compared with CA names.
 */
#include "xtext.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

ssize_t tt_xtext_decode(const char *in, char *out, size_t outsz)
{
    size_t n = 0;

    if (in == NULL || out == NULL || outsz == 0)
        return -1;
    while (*in != '\0') {
        unsigned char c = (unsigned char)*in;

        if (c == '+') {
            int hi = hexval(in[1]);
            int lo = hi < 0 ? -1 : hexval(in[2]);

            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            if (c == '\0')
                return -1;
            in += 3;
        } else {
            in++;
        }
        if (n + 1 >= outsz)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return (ssize_t)n;
}
