/*
 * dn.c - parse the X509_NAME_oneline() form: "/" separates RDNs, "=" splits
 * type and value, and a backslash escapes "/", "+", "\" or starts "\xHH".
 * Used only for display (the CN shown in the tag); trust decisions compare
 * the whole oneline string with the CA's own, never a parsed attribute.
 */
#include "dn.h"

#include <string.h>
#include <strings.h>

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

/* Decode one value starting at *pp up to the next unescaped '/'. */
static ssize_t decode_value(const char **pp, char *out, size_t outsz)
{
    const char *p = *pp;
    size_t n = 0;

    while (*p != '\0' && *p != '/') {
        unsigned char c = (unsigned char)*p++;

        if (c == '\\') {
            if (*p == 'x' || *p == 'X') {
                int hi = hexval(p[1]);
                int lo = hi < 0 ? -1 : hexval(p[2]);

                if (hi < 0 || lo < 0)
                    return -1;
                c = (unsigned char)(hi * 16 + lo);
                p += 3;
            } else if (*p != '\0') {
                c = (unsigned char)*p++;
            } else {
                return -1;
            }
            if (c == '\0')
                return -1;
        }
        if (out != NULL) {
            if (n + 1 >= outsz)
                return -1;
            out[n] = (char)c;
        }
        n++;
    }
    if (out != NULL)
        out[n] = '\0';
    *pp = p;
    return (ssize_t)n;
}

ssize_t tt_dn_attr(const char *dn, const char *attr, char *out, size_t outsz)
{
    size_t alen = strlen(attr);
    const char *found = NULL;
    const char *p = dn;

    if (dn == NULL || *dn != '/' || out == NULL || outsz == 0)
        return -1;
    while (*p == '/') {
        const char *type = ++p;
        const char *eq = strchr(type, '=');

        if (eq == NULL)
            return -1;
        p = eq + 1;
        if ((size_t)(eq - type) == alen && strncasecmp(type, attr, alen) == 0)
            found = p;
        if (decode_value(&p, NULL, 0) < 0)
            return -1;
    }
    if (*p != '\0')
        return -1;
    if (found == NULL) {
        out[0] = '\0';
        return 0;
    }
    return decode_value(&found, out, outsz);
}
