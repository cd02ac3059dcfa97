/*
 * escape.c - header value escaping. Every certificate name and address that
 * reaches a header passes through here, so the rules are strict: the output
 * alphabet excludes CR, LF and NUL by construction and quoted strings are
 * closed even when the input is cut.
 */
#include "escape.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid, non-control UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned int cp;
    size_t len, i;

    if (s[0] < 0x80)
        return 0;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, surrogates, out of range, C1 controls, line separators. */
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp < 0xA0 || cp == 0x2028 || cp == 0x2029)
        return 0;
    return len;
}

size_t tt_escape_quoted(const char *in, size_t inlen, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, i = 0;
    /* Room kept for the closing quote, a possible "..." and the NUL. */
    const size_t reserve = 1 + 3 + 1;

    if (outsz < TT_ESCAPE_MIN)
        return 0;
    out[o++] = '"';
    while (i < inlen) {
        char rep[8];
        size_t rlen, seq = utf8_seq(s + i, inlen - i);

        if (seq > 0) {
            memcpy(rep, s + i, seq);
            rlen = seq;
        } else if (s[i] == '"' || s[i] == '\\') {
            rep[0] = '\\';
            rep[1] = (char)s[i];
            rlen = 2;
            seq = 1;
        } else if (s[i] < 0x20 || s[i] >= 0x7F) {
            rep[0] = '\\';
            rep[1] = '\\';
            rep[2] = 'x';
            rep[3] = hex[s[i] >> 4];
            rep[4] = hex[s[i] & 0x0F];
            rlen = 5;
            seq = 1;
        } else {
            rep[0] = (char)s[i];
            rlen = 1;
            seq = 1;
        }
        /* The last input unit needs no room for "...". */
        if (o + rlen + (i + seq < inlen ? reserve : 2) > outsz) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, rep, rlen);
        o += rlen;
        i += seq;
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

bool tt_is_token(const char *s, size_t max)
{
    size_t n = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++, n++) {
        char c = *s;

        if (n >= max)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool tt_append_pair(char *buf, size_t bufsz, size_t *len, const char *key, const char *value,
                    size_t vmax, bool quote)
{
    char q[1024];
    const char *v = value;
    int w;

    if (value == NULL)
        value = v = "";
    if (quote || !tt_is_token(value, vmax)) {
        size_t cap = vmax + 1 < sizeof(q) ? vmax + 1 : sizeof(q);

        if (cap < TT_ESCAPE_MIN)
            cap = TT_ESCAPE_MIN;
        tt_escape_quoted(value, strlen(value), q, cap);
        v = q;
    }
    if (*len >= bufsz)
        return false;
    w = snprintf(buf + *len, bufsz - *len, "; %s=%s", key, v);
    if (w < 0 || (size_t)w >= bufsz - *len) {
        buf[*len] = '\0';
        return false;
    }
    *len += (size_t)w;
    return true;
}
