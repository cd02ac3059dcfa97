/*
 * lines.c - the line reader shared by the configuration and table
 * parsers, so both treat long lines, NUL bytes and line endings alike.
 */
#include "lines.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

bool tt_each_line(FILE *f, size_t max, tt_line_fn fn, void *ctx, bool *read_error)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned int lineno = 0;
    bool ok = true;

    *read_error = false;
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        enum tt_line_problem problem = TT_LINE_OK;

        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if ((size_t)len > max)
            problem = TT_LINE_TOO_LONG;
        else if (memchr(line, '\0', (size_t)len) != NULL)
            problem = TT_LINE_NUL;
        ok = fn(ctx, lineno, line, (size_t)len, problem);
    }
    free(line);
    if (ok && ferror(f)) {
        *read_error = true;
        ok = false;
    }
    return ok;
}
