/*
 * lines.c - what the configuration and table parsers share about reading
 * an administrator's file: opening it only when it is a regular file, the
 * line reader (long lines, NUL bytes and line endings treated alike), and
 * the "FILE:LINE: message" form of every error.
 */
#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

FILE *tt_open_regular(const char *path, char *err, size_t errsz)
{
    struct stat st;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    return f;
}

bool tt_line_error(char *err, size_t errsz, const char *file, unsigned int line, const char *fmt,
                   va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    snprintf(err, errsz, "%s:%u: %s", file, line, msg);
    return false;
}

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
