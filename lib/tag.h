/*
 * tag.h - build the values of the tag header and of the optional
 * Authentication-Results header.
 */
#ifndef TT_TAG_H
#define TT_TAG_H

#include <stddef.h>

#include "policy.h"
#include "tls_state.h"

/* Every field at its cap fits, and the header stays under 998 bytes. */
#define TT_TAG_MAX 920

/*
 * "LEVEL; network=...; version=...; cipher=...; bits=N; subject="...";
 * issuer="..."; verify=...; policy=pass|fail|none; action=monitor;
 * rule="..."; authserv-id=ID". Certificate names appear only when the
 * certificate verified. Returns the length written.
 */
size_t tt_tag_value(char *out, size_t outsz, const struct tt_tls *s, const struct tt_verdict *v,
                    const char *authserv_id);

/* "ID; x-tls=pass smtp.version=... smtp.cipher=... smtp.bits=N" (or x-tls=none). */
size_t tt_authres_value(char *out, size_t outsz, const struct tt_tls *s, const char *authserv_id);

/*
 * True when the Authentication-Results value names authserv_id as its
 * authserv-id (RFC 8601 section 2.2: the first token, after CFWS,
 * compared case-insensitively; an optional version may follow).
 */
bool tt_authres_is_ours(const char *value, const char *authserv_id);

#endif
