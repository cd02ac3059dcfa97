/*
 * address.h - the domains an SMTP envelope address stands for, in the one
 * canonical form every lookup uses (table keys, policy zones, DNS).
 *
 * A client spells an address as it likes ("<a@x.example >", "<<a@x>>",
 * comments, upper case, trailing dots, source routes, UTF-8); the MTA
 * routes the address it parsed from that. tlstrust judges the MTA's parsed
 * form ({mail_addr}, {rcpt_addr}) and its own reading of the raw argument,
 * and applies the strictest rule either could match. See doc/mta-facts.md.
 */
#ifndef TT_ADDRESS_H
#define TT_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

/* Longest raw domain kept; longer ones are TT_ADDR_INVALID. */
#define TT_DOMAIN_MAX 1024
/* Room for a canonical DNS name: 253 bytes and the NUL, rounded up. */
#define TT_DNSNAME_MAX 256
/* Longest raw envelope address read; longer ones are TT_ADDR_INVALID. */
#define TT_ADDRESS_MAX 4096

enum tt_addr_kind {
    TT_ADDR_DOMAIN,   /* out holds the canonical domain */
    TT_ADDR_LITERAL,  /* out holds an address literal such as "[192.0.2.1]" */
    TT_ADDR_NULL,     /* the null sender <> */
    TT_ADDR_NODOMAIN, /* a local part only, or "user@" */
    TT_ADDR_INVALID,  /* unbalanced quotes, brackets or comments, too long, or a domain
                         that is not a DNS name (it cannot be judged) */
};

/*
 * Read an envelope address as the client or the MTA wrote it and put its
 * canonical domain (tt_domain_canonical) in out. Blanks and comments
 * outside quoted strings are dropped, any number of balanced angle
 * brackets is removed, a source route is skipped, and the domain is what
 * follows the last '@' outside quotes. local (may be NULL, localsz bytes)
 * receives the local part without its quotes, for tt_addr_hops.
 */
enum tt_addr_kind tt_addr_split(const char *addr, char *out, size_t outsz, char *local,
                                size_t localsz);

/* tt_addr_split without the local part. */
enum tt_addr_kind tt_addr_domain(const char *addr, char *out, size_t outsz);

/*
 * The canonical form of a domain: ASCII letters lower-cased, trailing dots
 * dropped, U-labels converted to A-labels (IDNA2008 with UTS #46 mapping,
 * libidn2), then checked as a DNS name: labels of letters, digits, '-' and
 * '_', 1 to 63 bytes each, 253 bytes in all. False (out empty) when in is
 * not such a name.
 */
bool tt_domain_canonical(const char *in, char *out, size_t outsz);

/* Lower-case ASCII letters and drop trailing dots, in place. */
void tt_domain_normalize(char *d);

/*
 * A DNS name: labels of ASCII letters (either case), digits, '-' and '_'
 * (with utf8, also bytes of UTF-8 characters), 1 to 63 bytes each, 253 in
 * all, no empty label and no trailing dot. The one name check of the
 * project: tt_domain_canonical lower-cases before it asks.
 */
bool tt_is_dns_name(const char *d, bool utf8);

/* Two forms, each with its domain, percent-hack hop and bang-path hop. */
#define TT_ENVELOPE_DOMAINS 6

struct tt_envelope {
    enum tt_addr_kind kind; /* TT_ADDR_DOMAIN when n > 0 */
    size_t n;
    char domain[TT_ENVELOPE_DOMAINS][TT_DNSNAME_MAX]; /* [0]: the MTA's, when it sent one */
};

/*
 * The domains to judge for one envelope address: the domain of the MTA's
 * parsed address (parsed: {mail_addr} or {rcpt_addr}; NULL when the MTA did
 * not send it) first, then the domain of the client's raw argument when it
 * differs. With routing (recipients), also the domains a percent hack
 * ("u%dom@host") or a bang path ("dom!u@host") in either local part could
 * route the message to. Either address being TT_ADDR_INVALID makes the
 * whole envelope TT_ADDR_INVALID: it is refused, never let through unjudged.
 * Without a domain, kind is the MTA's kind when it sent one, else the raw's.
 */
void tt_envelope_domains(const char *raw, const char *parsed, bool routing,
                         struct tt_envelope *env);

#endif
