/*
 * fuzz_address.c - envelope address parsing (tt_addr_domain) and the
 * address/CIDR parsers (tt_addr_parse, tt_cidr_parse).
 *
 * Input: one address as the MTA hands it to the milter ("<user@example.org>",
 * "<>", "<@relay:u@d>", quoted local parts, address literals, UTF-8), cut
 * at the first NUL. Properties:
 *  - TT_ADDR_DOMAIN: the domain is non-empty, shorter than TT_DOMAIN_MAX,
 *    holds no upper-case ASCII letter and no trailing '.', and appears in
 *    the lower-cased input; output buffers are respected (exact heap
 *    buffers: strlen+1 bytes give this domain or TT_ADDR_INVALID, strlen
 *    bytes TT_ADDR_INVALID); a domain of plain host-name bytes parses
 *    again to itself from "<u@DOMAIN>";
 *  - TT_ADDR_LITERAL: "[...]"; TT_ADDR_NULL and TT_ADDR_NODOMAIN: empty output;
 *  - tt_addr_parse(): a full-length prefix of a known family, and
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

/* Letters, digits, '-', '_', '.' and UTF-8 bytes: nothing the parser treats specially. */
static bool plain_domain(const char *d)
{
    for (; *d != '\0'; d++) {
        unsigned char c = (unsigned char)*d;

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c >= 0x80))
            return false;
    }
    return true;
}

static void lower(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static void check_domain(const char *in, const char *d)
{
    size_t n = strlen(d);
    char *low, *exact, *again, out[TT_DOMAIN_MAX];
    enum tt_addr_kind kind;
    const char *p;

    FZ_CHECK(n > 0 && n < TT_DOMAIN_MAX);
    for (p = d; *p != '\0'; p++)
        FZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
    FZ_CHECK(d[n - 1] != '.');
    low = strdup(in);
    FZ_CHECK(low != NULL);
    lower(low);
    FZ_CHECK(strstr(low, d) != NULL);
    free(low);

    /*
     * Output buffers near the limit, as exact heap blocks: the raw domain
     * may be longer than the result (trailing dots are dropped after the
     * copy), so strlen+1 bytes may or may not do, but never give another
     * domain, and strlen bytes never do.
     */
    exact = malloc(n + 1);
    FZ_CHECK(exact != NULL);
    kind = tt_addr_domain(in, exact, n + 1);
    FZ_CHECK(kind == TT_ADDR_INVALID || (kind == TT_ADDR_DOMAIN && strcmp(exact, d) == 0));
    FZ_CHECK(tt_addr_domain(in, exact, n) == TT_ADDR_INVALID);
    free(exact);

    if (plain_domain(d)) {
        again = malloc(n + 6);
        FZ_CHECK(again != NULL);
        snprintf(again, n + 6, "<u@%s>", d);
        FZ_CHECK(tt_addr_domain(again, out, sizeof(out)) == TT_ADDR_DOMAIN);
        FZ_CHECK(strcmp(out, d) == 0);
        free(again);
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
        (void)tt_addr_parse(out, &a);
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

    if (tt_addr_parse(in, &a)) {
        check_cidr(&a, true);
        FZ_CHECK(tt_cidr_parse(in, &b));
        FZ_CHECK(a.family == b.family && a.bits == b.bits && memcmp(a.addr, b.addr, 16) == 0);
    }
    if (tt_cidr_parse(in, &b))
        check_cidr(&b, false);
    free(in);
    return 0;
}
