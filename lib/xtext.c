/*
 * xtext.c - RFC 3461 xtext ("+HH" for bytes outside '!'..'~' and for '+'
 * and '='). Sendmail also encodes '\\', '(', ')', '<', '>', '"', and leaves
 * '=' alone in certificate names; the encoder writes names as Sendmail
 * does, for access-map keys. Decoding is strict: anything malformed is refused rather than guessed,
 * because the result is compared with CA names.
 */
#include "xtext.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

ssize_t tt_xtext_encode(const char *in, char *out, size_t outsz)
{
    size_t o = 0;

    for (; *in != '\0'; in++) {
        unsigned char c = (unsigned char)*in;
        bool plain = c >= '!' && c <= '~' && strchr("+\\()<>\"", c) == NULL;

        if (o + (plain ? 1 : 3) >= outsz)
            return -1;
        if (plain)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outsz - o, "+%02X", c);
    }
    if (outsz == 0)
        return -1;
    out[o] = '\0';
    return (ssize_t)o;
}
