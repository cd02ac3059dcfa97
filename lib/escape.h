/*
 * escape.h - make peer-controlled strings safe to place in a header value.
 */
#ifndef TT_ESCAPE_H
#define TT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Smallest output buffer tt_escape_quoted() accepts: "" plus "..." and NUL. */
#define TT_ESCAPE_MIN 8

/*
 * Write in[0..inlen) as an RFC 5322 quoted-string into out (outsz bytes,
 * NUL-terminated). '"' and '\' are backslash-escaped; control bytes, DEL,
 * C1 controls and bytes that are not valid UTF-8 become the text "\xHH"
 * (its backslash escaped); valid UTF-8 is kept so names stay readable.
 * Input that does not fit is cut at a character boundary and marked
 * "...". The result never holds CR, LF or NUL and its quotes always balance.
 * Returns the output length, or 0 if outsz < TT_ESCAPE_MIN.
 */
size_t tt_escape_quoted(const char *in, size_t inlen, char *out, size_t outsz);

/* True when s can stand unquoted as a value: [A-Za-z0-9._-]+, at most max bytes. */
bool tt_is_token(const char *s, size_t max);

/*
 * Append "; key=value" to the header value in buf (bufsz bytes, *len used),
 * the value as a token when it is one (at most vmax bytes) and quote is
 * false, else quoted and cut to fit vmax bytes. Returns false (and leaves
 * buf unchanged) when the pair does not fit in buf.
 */
bool tt_append_pair(char *buf, size_t bufsz, size_t *len, const char *key, const char *value,
                    size_t vmax, bool quote);

#endif
