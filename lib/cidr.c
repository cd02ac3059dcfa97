/*
 * cidr.c - address and prefix parsing with inet_pton, and prefix matching.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, as some MTAs report clients on
 * dual-stack sockets) are folded to IPv4 so one rule covers both forms.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool parse_addr(const char *s, size_t n, struct tt_cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 2];

    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(out, 0, sizeof(*out));
    if (strncasecmp(buf, "IPv6:", 5) == 0)
        memmove(buf, buf + 5, n - 4);
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        out->bits = 32;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        if (memcmp(out->addr, v4mapped, sizeof(v4mapped)) == 0) {
            memmove(out->addr, out->addr + 12, 4);
            memset(out->addr + 4, 0, 12);
            out->family = AF_INET;
            out->bits = 32;
        } else {
            out->family = AF_INET6;
            out->bits = 128;
        }
        return true;
    }
    return false;
}

bool tt_ip_parse(const char *s, struct tt_cidr *out)
{
    return s != NULL && parse_addr(s, strlen(s), out);
}

void tt_cidr_mask(const struct tt_cidr *a, unsigned int bits, struct tt_cidr *out)
{
    unsigned int i;

    *out = *a;
    out->bits = bits;
    for (i = 0; i < 16; i++) {
        if (bits >= 8) {
            bits -= 8;
        } else {
            out->addr[i] &= (uint8_t)(0xFF00u >> bits);
            bits = 0;
        }
    }
}

bool tt_cidr_parse(const char *s, struct tt_cidr *out)
{
    const char *slash;
    struct tt_cidr a;
    unsigned long bits;
    char *end;

    if (s == NULL)
        return false;
    slash = strchr(s, '/');
    if (slash == NULL)
        return parse_addr(s, strlen(s), out);
    if (!parse_addr(s, (size_t)(slash - s), &a))
        return false;
    if (slash[1] < '0' || slash[1] > '9')
        return false;
    bits = strtoul(slash + 1, &end, 10);
    if (*end != '\0' || bits > (a.family == AF_INET ? 32u : 128u))
        return false;
    tt_cidr_mask(&a, (unsigned int)bits, out);
    return true;
}

bool tt_cidr_contains(const struct tt_cidr *c, const struct tt_cidr *a)
{
    struct tt_cidr m;

    if (c->family != a->family)
        return false;
    tt_cidr_mask(a, c->bits, &m);
    return memcmp(m.addr, c->addr, 16) == 0;
}
