/*
 * xtext.h - decode and encode RFC 3461 xtext, the encoding Sendmail uses for
 * certificate names in the {cert_subject}, {cert_issuer} and {cn_*} macros.
 */
#ifndef TT_XTEXT_H
#define TT_XTEXT_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Decode the NUL-terminated xtext string in into out (outsz bytes, always
 * NUL-terminated on success). Returns the decoded length, or -1 when the
 * input is not valid xtext (bad hex after '+', a trailing '+', an encoded
 * NUL byte) or does not fit. A name that fails to decode never matches a CA.
 */
ssize_t tt_xtext_decode(const char *in, char *out, size_t outsz);

/*
 * Encode in as Sendmail encodes certificate names (doc/mta-facts.md):
 * "+HH" for bytes below '!' or above '~' and for + \\ ( ) < > ". Returns
 * the encoded length, or -1 when it does not fit in outsz.
 */
ssize_t tt_xtext_encode(const char *in, char *out, size_t outsz);

#endif
