/*
 * domtable.h - the per-domain require-TLS table the administrator edits:
 *   [from:|to:|client:]KEY  REQUIREMENT  [ACTION]  [attr=value ...]
 * Loaded whole into an immutable hash table; lookups never allocate.
 */
#ifndef TT_DOMTABLE_H
#define TT_DOMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cidr.h"
#include "trustnet.h"
#include "types.h"

/* Longest table line accepted, in bytes. */
#define TT_TABLE_LINE_MAX 4096
/* Longest reply="..." text. */
#define TT_REPLY_MAX 256

struct tt_rule {
    enum tt_key_type type;
    enum tt_req req;
    enum tt_action action; /* TT_ACTION_UNSET: the configured DefaultAction */
    const char *key;       /* as written, normalised: "from:.example.org" */
    const char *network;   /* trusted:NETWORK, else NULL */
    int min_version;       /* tt_tls_version_number() scale, 0 = any */
    int min_bits;          /* 0 = any */
    const char **subjects; /* NULL-terminated patterns, or NULL */
    const char *reply;     /* custom reply text, or NULL */
    unsigned int line;
    bool identity_dns; /* identity=dns: the subject host must resolve to the client */
};

struct tt_table;

/*
 * Load file. Networks named in trusted:NETWORK must exist in trust. On any
 * error, NULL is returned and err holds "FILE:LINE: message".
 */
struct tt_table *tt_table_load(const char *file, const struct tt_trust *trust, char *err,
                               size_t errsz);
/* The same, from an open stream; name is used in messages. */
struct tt_table *tt_table_load_stream(FILE *f, const char *name, const struct tt_trust *trust,
                                      char *err, size_t errsz);
void tt_table_free(struct tt_table *t);
size_t tt_table_count(const struct tt_table *t);
/* Rule i in the table's line order (0 .. tt_table_count - 1), NULL past the end (exports, survey).
 */
const struct tt_rule *tt_table_rule(const struct tt_table *t, size_t i);

/*
 * Most specific rule for a domain (exact key, then the nearest ".parent"
 * key). type is TT_KEY_FROM, TT_KEY_TO or TT_KEY_CLIENT (host name).
 * A rule with requirement none is returned too: it is an exemption.
 */
const struct tt_rule *tt_table_lookup_domain(const struct tt_table *t, enum tt_key_type type,
                                             const char *domain);

/* Longest-prefix client: rule for an address. */
const struct tt_rule *tt_table_lookup_addr(const struct tt_table *t, const struct tt_cidr *addr);

/* "from:", "to:" or "client:". */
const char *tt_key_prefix(enum tt_key_type type);
/*
 * The kind of key s names by its prefix (any letter case) and the rest of
 * s after it; without a prefix, TT_KEY_FROM and s itself, as in the table.
 */
const char *tt_key_split(const char *s, enum tt_key_type *type);

/* How many rules carry identity=dns (they need the resolver). */
size_t tt_table_count_identity(const struct tt_table *t);

#endif
