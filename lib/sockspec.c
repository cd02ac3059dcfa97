/*
 * sockspec.c - see sockspec.h. Stricter than libmilter on purpose: only
 * the documented forms, numeric ports, well-formed addresses or host names,
 * and absolute unix paths (the daemon changes to / when it detaches).
 */
#include "sockspec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static bool fail(char *why, size_t whysz, const char *msg)
{
    snprintf(why, whysz, "%s", msg);
    return false;
}

static bool check_unix_path(const char *path, char *why, size_t whysz)
{
    struct sockaddr_un sun;

    if (path[0] != '/')
        return fail(why, whysz, "a unix socket path must be absolute");
    if (strlen(path) >= sizeof(sun.sun_path))
        return fail(why, whysz, "unix socket path too long");
    return true;
}

static bool check_port(const char *s, size_t n, char *why, size_t whysz)
{
    unsigned long port = 0;
    size_t i;

    if (n == 0 || n > 5)
        return fail(why, whysz, "the port must be a number from 1 to 65535");
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(why, whysz, "the port must be a number from 1 to 65535");
        port = port * 10 + (unsigned long)(s[i] - '0');
    }
    if (port < 1 || port > 65535)
        return fail(why, whysz, "the port must be a number from 1 to 65535");
    return true;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
static bool is_host_name(const char *s, size_t n)
{
    size_t i, label = 0;

    if (n == 0 || n > 253)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

/* A numeric address, bracketed or not, or a host name libmilter resolves at start. */
static bool check_addr(const char *s, bool v6, char *why, size_t whysz)
{
    char buf[INET6_ADDRSTRLEN + 2];
    unsigned char bin[sizeof(struct in6_addr)];
    size_t n = strlen(s);
    bool bracketed = n >= 2 && s[0] == '[' && s[n - 1] == ']';

    if (bracketed) {
        s++;
        n -= 2;
    }
    if (n > 0 && n < sizeof(buf)) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) == 1)
            return true;
    }
    /* All digits and dots is a bad IPv4 address, not a name. */
    if (!bracketed && strspn(s, "0123456789.") != n && is_host_name(s, n))
        return true;
    return fail(why, whysz,
                v6 ? "the address must be a numeric IPv6 address or a host name"
                   : "the address must be a numeric IPv4 address or a host name");
}

/* PORT[@ADDR] after inet: or inet6: */
static bool check_inet(const char *rest, bool v6, char *why, size_t whysz)
{
    const char *at = strchr(rest, '@');

    if (!check_port(rest, at != NULL ? (size_t)(at - rest) : strlen(rest), why, whysz))
        return false;
    return at == NULL || check_addr(at + 1, v6, why, whysz);
}

bool tt_sockspec_check(const char *spec, char *why, size_t whysz)
{
    if (strncmp(spec, "inet:", 5) == 0)
        return check_inet(spec + 5, false, why, whysz);
    if (strncmp(spec, "inet6:", 6) == 0)
        return check_inet(spec + 6, true, why, whysz);
    if (strncmp(spec, "unix:", 5) == 0)
        return check_unix_path(spec + 5, why, whysz);
    if (strncmp(spec, "local:", 6) == 0)
        return check_unix_path(spec + 6, why, whysz);
    /* libmilter's bare path: a colon in it would be read as a type. */
    if (spec[0] == '/' && strchr(spec, ':') == NULL)
        return check_unix_path(spec, why, whysz);
    return fail(why, whysz, "expected inet:PORT@ADDR, inet6:PORT@ADDR, unix:PATH or local:PATH");
}

bool tt_sockspec_inet(const char *spec, struct sockaddr_storage *ss, unsigned int *len, char *why,
                      size_t whysz)
{
    bool v6 = strncmp(spec, "inet6:", 6) == 0;
    const char *rest = v6 ? spec + 6 : spec + 5, *at;
    char addr[INET6_ADDRSTRLEN + 2];
    size_t n;
    int port;

    if (!v6 && strncmp(spec, "inet:", 5) != 0)
        return fail(why, whysz, "expected inet:PORT@ADDR or inet6:PORT@ADDR");
    at = strchr(rest, '@');
    if (at == NULL)
        return fail(why, whysz, "an address is required: inet:PORT@ADDR or inet6:PORT@ADDR");
    if (!check_port(rest, (size_t)(at - rest), why, whysz))
        return false;
    port = atoi(rest);
    at++;
    n = strlen(at);
    if (v6 && n >= 2 && at[0] == '[' && at[n - 1] == ']') {
        at++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(addr))
        return fail(why, whysz, "the address must be numeric");
    memcpy(addr, at, n);
    addr[n] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
            return fail(why, whysz, "the address must be a numeric IPv6 address");
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
            return fail(why, whysz, "the address must be a numeric IPv4 address");
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *len = sizeof(*s4);
    }
    return true;
}
