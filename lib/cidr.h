/*
 * cidr.h - IPv4/IPv6 addresses and CIDR blocks, for InternalHosts and
 * client: table keys.
 */
#ifndef TT_CIDR_H
#define TT_CIDR_H

#include <stdbool.h>
#include <stdint.h>

struct tt_cidr {
    int family;        /* AF_INET or AF_INET6 */
    uint8_t addr[16];  /* network byte order, masked to prefix */
    unsigned int bits; /* prefix length */
};

/* Parse "1.2.3.4", "1.2.3.0/24", "::1", "2001:db8::/32" (also "[::1]"). */
bool tt_cidr_parse(const char *s, struct tt_cidr *out);

/* Parse a bare address (no prefix); the result has a full-length prefix. */
bool tt_ip_parse(const char *s, struct tt_cidr *out);

/* True when the address a (full length) lies inside block c. */
bool tt_cidr_contains(const struct tt_cidr *c, const struct tt_cidr *a);

/* Mask a copy of a down to bits. */
void tt_cidr_mask(const struct tt_cidr *a, unsigned int bits, struct tt_cidr *out);

#endif
