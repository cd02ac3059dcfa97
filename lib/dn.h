/*
 * dn.h - read attributes out of an OpenSSL X509_NAME_oneline() string,
 * the form Sendmail reports ("/C=ES/O=Red Segura/CN=Red Segura CA").
 */
#ifndef TT_DN_H
#define TT_DN_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Copy the value of the last attribute named attr (e.g. "CN") from the
 * oneline DN into out, undoing OpenSSL's escapes ("\/", "\+", "\\", "\xHH").
 * Returns its length, 0 when the attribute is absent, -1 on a malformed DN
 * or when out is too small. Decoded NUL bytes are refused.
 */
ssize_t tt_dn_attr(const char *dn, const char *attr, char *out, size_t outsz);

#endif
