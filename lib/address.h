/*
 * address.h - find the domain of an SMTP envelope address as the MTA hands
 * it to the milter ("<user@example.org>", "<>", "<@relay:u@d>", ...).
 */
#ifndef TT_ADDRESS_H
#define TT_ADDRESS_H

#include <stddef.h>

/* Longest domain kept; longer ones are TT_ADDR_INVALID. */
#define TT_DOMAIN_MAX 1024

enum tt_addr_kind {
    TT_ADDR_DOMAIN,   /* out holds the normalised domain */
    TT_ADDR_LITERAL,  /* out holds an address literal such as "[192.0.2.1]" */
    TT_ADDR_NULL,     /* the null sender <> */
    TT_ADDR_NODOMAIN, /* a local part only, or "user@" */
    TT_ADDR_INVALID,  /* unbalanced quotes or brackets, or a domain too long */
};

/*
 * Extract the domain of addr into out (outsz bytes). Handles angle
 * brackets, source routes, quoted local parts with escapes, address
 * literals and a trailing dot. Domains are lower-cased (ASCII only; UTF-8
 * bytes are kept as they are).
 */
enum tt_addr_kind tt_addr_domain(const char *addr, char *out, size_t outsz);

/* Lower-case ASCII letters and drop trailing dots, in place. */
void tt_domain_normalize(char *d);

#endif
