/*
 * lines.h - read an administrator's text file line by line for the
 * parsers: LF or CR LF endings, a length limit, and no NUL bytes.
 */
#ifndef TT_LINES_H
#define TT_LINES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum tt_line_problem { TT_LINE_OK = 0, TT_LINE_TOO_LONG, TT_LINE_NUL };

/*
 * Called per line (numbered from 1) with its end of line removed, or with
 * the problem that line has. Returning false stops the reading.
 */
typedef bool (*tt_line_fn)(void *ctx, unsigned int lineno, char *line, size_t len,
                           enum tt_line_problem problem);

/* Feed every line of f to fn. False when fn stopped it or on a read error (errno set). */
bool tt_each_line(FILE *f, size_t max, tt_line_fn fn, void *ctx, bool *read_error);

/*
 * Open path for reading when it is a regular file (not a directory, FIFO or
 * device the parser would hang on or misread). NULL with "PATH: why" in err.
 */
FILE *tt_open_regular(const char *path, char *err, size_t errsz);

/* Write "FILE:LINE: message" into err; always false, for "return fail(...)". */
bool tt_line_error(char *err, size_t errsz, const char *file, unsigned int line, const char *fmt,
                   va_list ap) __attribute__((format(printf, 5, 0)));

#endif
