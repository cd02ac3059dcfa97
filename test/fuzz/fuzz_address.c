/*
 * fuzz_address.c - envelope address parsing (tt_addr_domain,
 * tt_envelope_domains) and the address/CIDR parsers (tt_ip_parse,
 * tt_cidr_parse).
 *
 * Input: one address as a client or the MTA writes it ("<user@example.org>",
 * "<>", "<@relay:u@d>", quoted local parts, comments, address literals,
 * UTF-8), cut at the first NUL. Properties:
 *  - TT_ADDR_DOMAIN: the domain is a canonical DNS name (letters, digits,
 *    '-', '_' and dots; no upper case, no empty label, no trailing dot, at
 *    most 253 bytes) that tt_domain_canonical leaves as it is; output
 *    buffers are respected (strlen+1 bytes give this domain, strlen bytes
 *    TT_ADDR_INVALID); "<u@DOMAIN>" parses again to itself;
 *  - TT_ADDR_LITERAL: "[...]"; TT_ADDR_NULL and TT_ADDR_NODOMAIN: empty output;
 *  - tt_envelope_domains(input, NULL, routing): INVALID exactly when the
 *    address is; otherwise every domain canonical, no two alike, and the
 *    address's own domain first;
 *  - tt_ip_parse(): a full-length prefix of a known family, and
 *    tt_cidr_parse() accepts the same text with the same result;
 *  - tt_cidr_parse(): a known family, prefix no longer than the family's,
 *    no bit set beyond the prefix, and the block contains its own address.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "cidr.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_canonical(const char *d)
{
    size_t n = strlen(d), label = 0;
    char again[TT_DNSNAME_MAX];
    const char *p;

    FZ_CHECK(n > 0 && n <= 253 && d[n - 1] != '.' && d[0] != '.');
    for (p = d; *p != '\0'; p++) {
        FZ_CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
                 *p == '.');
        label = *p == '.' ? 0 : label + 1;
        FZ_CHECK(label <= 63 && !(*p == '.' && p[1] == '.'));
    }
    FZ_CHECK(tt_domain_canonical(d, again, sizeof(again)));
    FZ_CHECK(strcmp(again, d) == 0);
}

static void check_domain(const char *in, const char *d)
{
    size_t n = strlen(d);
    char *exact, *again, out[TT_DOMAIN_MAX];

    check_canonical(d);
    /* Output buffers near the limit, as exact heap blocks. */
    exact = malloc(n + 1);
    FZ_CHECK(exact != NULL);
    FZ_CHECK(tt_addr_domain(in, exact, n + 1) == TT_ADDR_DOMAIN && strcmp(exact, d) == 0);
    FZ_CHECK(tt_addr_domain(in, exact, n) == TT_ADDR_INVALID);
    free(exact);

    again = malloc(n + 6);
    FZ_CHECK(again != NULL);
    snprintf(again, n + 6, "<u@%s>", d);
    FZ_CHECK(tt_addr_domain(again, out, sizeof(out)) == TT_ADDR_DOMAIN);
    FZ_CHECK(strcmp(out, d) == 0);
    free(again);
}

static void check_envelope(const char *in, enum tt_addr_kind kind, const char *d, bool routing)
{
    struct tt_envelope env;
    size_t i, j;

    tt_envelope_domains(in, NULL, routing, &env);
    FZ_CHECK((env.kind == TT_ADDR_INVALID) == (kind == TT_ADDR_INVALID));
    FZ_CHECK(env.n <= TT_ENVELOPE_DOMAINS);
    FZ_CHECK((env.n > 0) == (env.kind == TT_ADDR_DOMAIN));
    if (kind == TT_ADDR_DOMAIN)
        FZ_CHECK(env.n > 0 && strcmp(env.domain[0], d) == 0);
    if (kind != TT_ADDR_DOMAIN && env.n == 0)
        FZ_CHECK(env.kind == kind);
    for (i = 0; i < env.n; i++) {
        check_canonical(env.domain[i]);
        for (j = 0; j < i; j++)
            FZ_CHECK(strcmp(env.domain[i], env.domain[j]) != 0);
    }
}

static void check_cidr(const struct tt_cidr *c, bool full)
{
    unsigned int max = c->family == AF_INET ? 32 : 128, i;

    FZ_CHECK(c->family == AF_INET || c->family == AF_INET6);
    FZ_CHECK(c->bits <= max);
    FZ_CHECK(!full || c->bits == max);
    for (i = c->bits; i < 128; i++)
        FZ_CHECK((c->addr[i / 8] & (0x80u >> (i % 8))) == 0);
    FZ_CHECK(tt_cidr_contains(c, c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fz_strdup(data, size);
    char out[TT_DOMAIN_MAX];
    struct tt_cidr a, b;
    enum tt_addr_kind kind = tt_addr_domain(in, out, sizeof(out));

    switch (kind) {
    case TT_ADDR_DOMAIN:
        check_domain(in, out);
        break;
    case TT_ADDR_LITERAL:
        FZ_CHECK(out[0] == '[' && out[strlen(out) - 1] == ']');
        (void)tt_ip_parse(out, &a);
        break;
    case TT_ADDR_NULL:
    case TT_ADDR_NODOMAIN:
        FZ_CHECK(out[0] == '\0');
        break;
    case TT_ADDR_INVALID:
        break;
    default:
        FZ_CHECK(!"unknown address kind");
    }
    check_envelope(in, kind, out, false);
    check_envelope(in, kind, out, true);

    if (tt_ip_parse(in, &a)) {
        check_cidr(&a, true);
        FZ_CHECK(tt_cidr_parse(in, &b));
        FZ_CHECK(a.family == b.family && a.bits == b.bits && memcmp(a.addr, b.addr, 16) == 0);
    }
    if (tt_cidr_parse(in, &b))
        check_cidr(&b, false);
    free(in);
    return 0;
}
