/*
 * fuzz_config.c - the configuration parser (tt_config_load_stream).
 *
 * Input: a whole tlstrust.conf. It is named "/nonexistent/fuzz.conf", so
 * relative TrustedNetwork, DomainTable and PidFile paths point into a
 * directory that does not exist and must fail cleanly. Properties:
 *  - on failure, err names the file: "/nonexistent/fuzz.conf:LINE: ..."
 *    with LINE a line of the input, or "/nonexistent/fuzz.conf: ..." for
 *    a problem of the whole file (the resolver), or, for a domain table
 *    that cannot be read, a message that starts with its path;
 *  - on success the defaults are filled in (path, socket, tag header), the
 *    tag header is a valid field name, an authserv-id is a plain token,
 *    every InternalHosts block is a well-formed prefix that
 *    tt_config_is_internal() finds, and a table is loaded exactly when
 *    DomainTable was given; each PolicyZone's network name and zone are
 *    whole words of the input (nothing cut or run together), and a
 *    resolver exists only when a zone, the sender signals or an
 *    identity=dns rule needs it; the result frees without leaks.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "address.h"
#include "config.h"
#include "escape.h"
#include "fuzz_common.h"

#define PATH "/nonexistent/fuzz.conf"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_quiet();
    return 0;
}

/*
 * w occurs in text as a whole word (between line starts, ends, blanks and
 * '#'); with zone, compared without case and maybe followed by dots, as a
 * zone name is stored normalised.
 */
static bool whole_word(const char *text, const char *w, bool zone)
{
    size_t n = strlen(w);
    const char *p, *e;

    for (p = text; *p != '\0'; p++) {
        if (p != text && strchr(" \t\r\n", p[-1]) == NULL)
            continue;
        if ((zone ? strncasecmp(p, w, n) : strncmp(p, w, n)) != 0)
            continue;
        for (e = p + n; zone && *e == '.'; e++)
            ;
        if (*e == '\0' || strchr(" \t\r\n#", *e) != NULL)
            return true;
    }
    return false;
}

static bool contains(const uint8_t *data, size_t size, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i + n <= size; i++)
        if (memcmp(data + i, s, n) == 0)
            return true;
    return false;
}

static unsigned int count_lines(const uint8_t *data, size_t size)
{
    unsigned int n = 0;
    size_t i;

    for (i = 0; i < size; i++)
        n += data[i] == '\n';
    return n + (size > 0 && data[size - 1] != '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    FILE *f = fz_open(data, size);
    /* A fixed clock keeps runs reproducible (it only feeds CA expiry warnings). */
    struct tt_config *c = tt_config_load_stream(f, PATH, (time_t)1767225600, err, sizeof(err));
    char *text;
    size_t i;

    fz_close(f);
    if (c == NULL) {
        const size_t pl = strlen(PATH ":");
        char *end;
        unsigned long line;

        FZ_CHECK(strchr(err, '\n') == NULL);
        if (strncmp(err, PATH ":", pl) != 0 || err[pl] < '1' || err[pl] > '9') {
            /*
             * Not a line's error: the whole file ("PATH: message") or the
             * domain table, read after the last line, whose error starts
             * with its path (absolute: a relative one is under PATH's directory).
             */
            FZ_CHECK(err[0] == '/');
            return 0;
        }
        line = strtoul(err + pl, &end, 10);
        if (contains(data, size, err, (size_t)(end - err)))
            return 0; /* perhaps a table named "PATH:N..." in the input */
        FZ_CHECK(strncmp(end, ": ", 2) == 0);
        FZ_CHECK(line >= 1 && line <= count_lines(data, size));
        return 0;
    }
    FZ_CHECK(c->path != NULL && strcmp(c->path, PATH) == 0);
    FZ_CHECK(c->socket != NULL && c->socket[0] != '\0');
    FZ_CHECK(c->tag_header != NULL && c->tag_header[0] != '\0');
    FZ_CHECK(strpbrk(c->tag_header, ": \t\r\n") == NULL);
    FZ_CHECK(c->authserv_id == NULL || tt_is_token(c->authserv_id, 128));
    FZ_CHECK((c->table_path == NULL) == (c->table == NULL));
    FZ_CHECK(c->default_action != TT_ACTION_UNSET);
    FZ_CHECK(c->internal != NULL || c->ninternal == 0);
    for (i = 0; i < c->ninternal; i++) {
        const struct tt_cidr *b = &c->internal[i];

        FZ_CHECK(b->family == AF_INET || b->family == AF_INET6);
        FZ_CHECK(b->bits <= (b->family == AF_INET ? 32u : 128u));
        FZ_CHECK(tt_config_is_internal(c, b));
    }
    text = fz_strdup(data, size);
    for (i = 0; i < c->nzones; i++) {
        FZ_CHECK(whole_word(text, c->zones[i].network, false));
        /* Zones are canonical, as envelope domains are: A-labels, lower case. */
        FZ_CHECK(tt_is_dns_name(c->zones[i].zone, false) && strlen(c->zones[i].zone) <= 200);
        FZ_CHECK(strstr(c->zones[i].zone, "xn--") != NULL ||
                 whole_word(text, c->zones[i].zone, true));
    }
    free(text);
    FZ_CHECK(!c->dns_needed || c->nzones > 0 || c->sender_signals ||
             tt_table_count_identity(c->table) > 0);
    tt_config_free(c);
    return 0;
}
