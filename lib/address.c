/*
 * address.c - envelope address parsing, tolerant of what real MTAs pass
 * (Postfix and Sendmail hand over the address with its angle brackets) and
 * strict about where the domain begins: the last '@' outside a quoted local
 * part.
 */
#include "address.h"

#include <string.h>

void tt_domain_normalize(char *d)
{
    size_t n;

    for (n = 0; d[n] != '\0'; n++)
        if (d[n] >= 'A' && d[n] <= 'Z')
            d[n] = (char)(d[n] - 'A' + 'a');
    /* Every trailing dot: "example.org.." must not slip past a rule for example.org. */
    while (n > 0 && d[n - 1] == '.')
        d[--n] = '\0';
}

enum tt_addr_kind tt_addr_domain(const char *addr, char *out, size_t outsz)
{
    const char *s = addr, *e, *p, *at = NULL;
    size_t n;
    int inquote = 0;

    if (out == NULL || outsz == 0)
        return TT_ADDR_INVALID;
    out[0] = '\0';
    if (addr == NULL)
        return TT_ADDR_NULL;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e > s && *s == '<') {
        if (e[-1] != '>')
            return TT_ADDR_INVALID;
        s++;
        e--;
    }
    if (s == e)
        return TT_ADDR_NULL;
    /* A source route "@a,@b:user@domain" is obsolete; its hops are not the domain. */
    if (*s == '@') {
        const char *colon = memchr(s, ':', (size_t)(e - s));

        if (colon == NULL)
            return TT_ADDR_INVALID;
        s = colon + 1;
    }
    for (p = s; p < e; p++) {
        if (inquote && *p == '\\') {
            if (p + 1 >= e)
                return TT_ADDR_INVALID;
            p++;
        } else if (*p == '"') {
            inquote = !inquote;
        } else if (!inquote && *p == '@') {
            at = p;
        }
    }
    if (inquote)
        return TT_ADDR_INVALID;
    if (at == NULL || at + 1 == e)
        return TT_ADDR_NODOMAIN;
    n = (size_t)(e - (at + 1));
    if (n >= outsz || n >= TT_DOMAIN_MAX)
        return TT_ADDR_INVALID;
    memcpy(out, at + 1, n);
    out[n] = '\0';
    if (out[0] == '[') {
        if (out[n - 1] != ']')
            return TT_ADDR_INVALID;
        return TT_ADDR_LITERAL;
    }
    tt_domain_normalize(out);
    if (out[0] == '\0')
        return TT_ADDR_NODOMAIN;
    return TT_ADDR_DOMAIN;
}
