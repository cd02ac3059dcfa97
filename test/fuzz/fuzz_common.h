/*
 * fuzz_common.h - shared pieces of the libFuzzer targets: property checks
 * that abort (libFuzzer then saves the input), a stream over the input
 * bytes, and a trust store built once from real CA certificates.
 */
#ifndef TT_FUZZ_COMMON_H
#define TT_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trustnet.h"

/* A violated property is a crash: print what failed and abort. */
#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fz_fail(__FILE__, __LINE__, #cond);                                                    \
    } while (0)

void fz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* The input as a malloc'ed NUL-terminated string (embedded NULs kept). */
char *fz_strdup(const uint8_t *data, size_t size);

/*
 * A read-only stream over a private copy of data (a zero-length input gives
 * an empty stream). Close it with fz_close(), which also frees the copy.
 */
FILE *fz_open(const uint8_t *data, size_t size);
void fz_close(FILE *f);

/* Silence the library's log (warnings about CA expiry and the like). */
void fz_quiet(void);

/* Append a self-signed CA certificate with subject entries "T=v|T=v" to path. */
void fz_write_ca(const char *path, const char *subject);

/*
 * The trust store of the fuzz targets, built on first use: network
 * "redsegura" holds "C=ES/O=Red Segura/CN=Red Segura CA", an intermediate
 * with a UTF-8 CN ("Red Segura Intermedia Ñ") and "C=ES/O=Red Segura Raíz"
 * (no CN: Postfix reports the O); network "universidad" holds
 * "C=ES/O=Universidad/CN=Universidad CA". The PEM files are written with
 * the OpenSSL API into a temporary directory that is removed once loaded.
 */
const struct tt_trust *fz_trust(void);

/*
 * True when s[0..n) is one complete RFC 5322 quoted-string: '"', then
 * characters other than '"', '\\', CR, LF and NUL, or a backslash and any
 * character other than CR, LF and NUL, then a final '"'.
 */
bool fz_is_quoted(const char *s, size_t n);

#endif
