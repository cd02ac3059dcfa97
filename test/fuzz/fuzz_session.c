/*
 * fuzz_session.c - whole SMTP sessions through the library (session.c):
 * macros, connect, HELO, envelope, headers, end of message and abort in
 * any order, as a milter would feed them.
 *
 * Input: byte 0 chooses the configuration (bits 0-2, five of them: a table
 * under OnError tempfail; the same under OnError accept with AuthResults;
 * InternalHosts with another tag name; no table; a policy zone, so DNS
 * state is allocated at MAIL), whether refusals at headers wait for end of
 * message (bit 3), and which internal operation fails (bits 4-5: none,
 * "envfrom", "dns-alloc"). Then one event a line:
 *   C<ip> <host>     a new connection (the previous one is closed)
 *   M<name>=<value>  set a macro; m clears them all
 *   H                HELO;  F<sender>  MAIL;  R<recipient>  RCPT
 *   X<name>:<value>  a header (byte 0x01 in the value stands for LF)
 *   E[digit]         end of message, the MTA making all edits or only that many
 *   A                abort
 * As the MTA does, a refusal at MAIL or at a header ends the transaction
 * (abort). Properties:
 *  - every refusal has a reply: a 4xx code for tempfail, 5xx for reject,
 *    an enhanced code of the same class, printable text without CR or LF;
 *  - at end of message: deletions come first, each with index >= 1, of a
 *    copy of the tag or of Authentication-Results, and within one name
 *    from the highest index down; at most one tag is inserted, last, at the
 *    top, under the configured name; the copies of the tag of one spelling
 *    are deleted from their count down to 1; no inserted value holds CR, LF or
 *    NUL, and each is shorter than TT_TAG_MAX;
 *  - a message the session lets through with all its edits made (and not
 *    from an internal host) has every forged tag deleted: the deletions of
 *    the tag equal a separate count of the headers whose name is the tag's
 *    (any case, blanks before the colon), and it carries exactly one new
 *    tag unless an internal error degraded the transaction;
 *  - a message with a refused header is refused at end of message, and one
 *    from an internal host is not edited;
 *  - after end of message or abort the transaction is empty (no DNS state
 *    kept); closing the session frees everything (LeakSanitizer).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char table_text[] =
    "strict.test        encrypt            reject\n"
    "soft.test          verify             defer\n"
    "monitor.test       trusted            monitor\n"
    "ministerio.test    trusted:redsegura  reject subject=*.ministerio.test\n"
    "to:protected.test  encrypt            reject min_version=TLSv1.2\n"
    "to:watched.test    verify             monitor\n"
    "client:192.0.2.0/25 trusted           reject\n"
    "client:.relay.test encrypt            defer min_bits=256\n";

/* The configurations, each with the table above or without one. */
static const struct {
    bool table;
    const char *text;
} conf_text[] = {
    {true, "OnError tempfail\n"},
    {true, "OnError accept\nAuthResults yes\n"},
    {true, "InternalHosts 192.0.2.128/25, ::1\nTagHeader X-Trust-Tag\nAuthResults yes\n"},
    {false, "OnError accept\n"},
    {true,
     "DnsResolver 127.0.0.1@9\nPolicyZone redsegura policy.redsegura.test\nOnDnsError ignore\n"},
};
#define NCONF (sizeof(conf_text) / sizeof(conf_text[0]))
static struct tt_config *confs[NCONF]; /* kept for the life of the process */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/tlstrust-fuzz-session-XXXXXX", ca[80], table[80], conf[80], text[600];
    char err[1024];
    size_t i;
    FILE *f;

    (void)argc;
    (void)argv;
    fz_quiet();
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    snprintf(table, sizeof(table), "%s/domains", dir);
    snprintf(conf, sizeof(conf), "%s/tlstrust.conf", dir);
    fz_write_ca(ca, "C=ES|O=Red Segura|CN=Red Segura CA");
    f = fopen(table, "w");
    if (f == NULL || fputs(table_text, f) < 0 || fclose(f) != 0)
        abort();
    for (i = 0; i < NCONF; i++) {
        snprintf(text, sizeof(text), "TrustedNetwork redsegura %s\nSyslog no\n%s%s%s%s", ca,
                 conf_text[i].table ? "DomainTable " : "", conf_text[i].table ? table : "",
                 conf_text[i].table ? "\n" : "", conf_text[i].text);
        f = fopen(conf, "w");
        if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
            abort();
        confs[i] = tt_config_load(conf, time(NULL), err, sizeof(err));
        if (confs[i] == NULL) {
            fprintf(stderr, "fuzz_session: %s\n", err);
            abort();
        }
    }
    unlink(ca);
    unlink(table);
    unlink(conf);
    rmdir(dir);
    return 0;
}

/* The MTA's macros: the latest value of each name set so far. */
#define NMACROS 24
struct macros {
    size_t n;
    const char *name[NMACROS], *value[NMACROS];
};

static const char *get_macro(void *ctx, const char *name)
{
    const struct macros *m = ctx;
    size_t i;

    for (i = m->n; i-- > 0;)
        if (strcmp(m->name[i], name) == 0)
            return m->value[i];
    return NULL;
}

static const char *fault_point;

static bool fault(const char *point)
{
    return fault_point != NULL && strcmp(point, fault_point) == 0;
}

/* The header name is the tag's, read apart from forgery.c: any case, then only blanks. */
static bool model_is_tag(const char *name, const char *tag)
{
    size_t n = strlen(tag);

    return strncasecmp(name, tag, n) == 0 && name[n + strspn(name + n, " \t")] == '\0';
}

static void check_answer(struct tt_answer a)
{
    const char *p;

    if (a.step == TT_STEP_CONTINUE)
        return;
    FZ_CHECK(a.step == TT_STEP_REJECT || a.step == TT_STEP_TEMPFAIL);
    FZ_CHECK(a.rcode != NULL && a.xcode != NULL && a.text != NULL && a.text[0] != '\0');
    FZ_CHECK(strlen(a.rcode) == 3 && a.rcode[0] == (a.step == TT_STEP_REJECT ? '5' : '4'));
    FZ_CHECK(a.xcode[0] == a.rcode[0] && a.xcode[1] == '.');
    for (p = a.text; *p != '\0'; p++)
        FZ_CHECK(*p >= 0x20 && *p <= 0x7E);
}

/* What the fuzzer knows of the current transaction, apart from the session. */
struct model {
    unsigned int tags; /* headers with the tag's name */
    bool refused;      /* a header refusal waits for end of message */
};

static void check_eom(struct tt_session *s, struct model *md, size_t limit)
{
    const struct tt_config *cfg = s->cfg;
    struct tt_eom_plan plan;
    struct tt_answer a;
    /* Before connect or MAIL there is no configuration: nothing is judged. */
    bool judged = cfg != NULL, degraded = s->t.degraded, internal = s->internal;
    size_t i, applied, tag_deletes = 0, tag_inserts = 0;

    tt_session_eom(s, NULL, &plan);
    FZ_CHECK(plan.n <= TT_EDITS_MAX);
    for (i = 0; i < plan.n; i++) {
        const struct tt_edit *e = &plan.edit[i];

        if (e->kind == TT_EDIT_DELETE) {
            FZ_CHECK(tag_inserts == 0 && (i == 0 || plan.edit[i - 1].kind == TT_EDIT_DELETE));
            FZ_CHECK(e->index >= 1);
            /* Copies of the tag: every one, from the last; ours among Authentication-Results. */
            if (i > 0 && strcmp(plan.edit[i - 1].name, e->name) == 0)
                FZ_CHECK(e->index < plan.edit[i - 1].index);
            if (model_is_tag(e->name, s->cfg->tag_header)) {
                FZ_CHECK(i + 1 < plan.n && strcmp(plan.edit[i + 1].name, e->name) == 0
                             ? plan.edit[i + 1].index == e->index - 1
                             : e->index == 1);
                tag_deletes++;
            } else
                FZ_CHECK(strcasecmp(e->name, "Authentication-Results") == 0);
            continue;
        }
        FZ_CHECK(e->kind == TT_EDIT_INSERT && e->index == 0 && e->value != NULL);
        FZ_CHECK(strlen(e->value) < TT_TAG_MAX && strpbrk(e->value, "\r\n") == NULL);
        if (e->tag) {
            FZ_CHECK(i == plan.n - 1 && strcmp(e->name, s->cfg->tag_header) == 0);
            tag_inserts++;
        } else {
            FZ_CHECK(s->cfg->auth_results && strcmp(e->name, "Authentication-Results") == 0);
        }
    }
    FZ_CHECK(tag_inserts <= 1);
    if (internal || md->refused)
        FZ_CHECK(plan.n == 0);
    applied = limit < plan.n ? limit : plan.n;
    a = tt_session_eom_done(s, &plan, applied);
    check_answer(a);
    if (md->refused)
        FZ_CHECK(a.step == TT_STEP_REJECT);
    /* The guarantee: nothing leaves with a forged tag in it, and each message is tagged once. */
    if (a.step == TT_STEP_CONTINUE && applied == plan.n && judged && !internal) {
        FZ_CHECK(tag_deletes == md->tags);
        FZ_CHECK(tag_inserts == (degraded ? 0u : 1u));
    }
    if (a.step == TT_STEP_CONTINUE && applied < plan.n)
        FZ_CHECK(plan.edit[applied].kind == TT_EDIT_INSERT);
    FZ_CHECK(s->t.dns == NULL && s->t.queueid[0] == '\0' && s->t.forgery.tag_count == 0);
    memset(md, 0, sizeof(*md));
}

static void reset(struct tt_session *s, struct model *md)
{
    tt_session_abort(s);
    FZ_CHECK(s->t.dns == NULL && s->t.forgery.tag_count == 0);
    memset(md, 0, sizeof(*md));
}

static void connect_line(struct tt_session *s, const struct tt_config *cfg, bool quiet,
                         const struct tt_macro_src *src, char *arg)
{
    char *host = strchr(arg, ' ');
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    const struct sockaddr *sa = NULL;

    if (host != NULL)
        *host++ = '\0';
    if (inet_pton(AF_INET, arg, &v4.sin_addr) == 1)
        sa = (const struct sockaddr *)&v4;
    else if (inet_pton(AF_INET6, arg, &v6.sin6_addr) == 1)
        sa = (const struct sockaddr *)&v6;
    tt_session_close(s);
    memset(s, 0, sizeof(*s));
    tt_session_init(s, "fuzz.host.test", quiet, fault);
    check_answer(tt_session_connect(s, cfg, src, host, sa));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const points[] = {NULL, "envfrom", "dns-alloc", NULL};
    const struct tt_config *cfg;
    struct tt_session *s;
    struct macros mac = {0};
    const struct tt_macro_src src = {get_macro, &mac};
    struct model md = {0};
    char *text, *line, *save = NULL;
    bool quiet;

    if (size < 1)
        return 0;
    cfg = confs[(data[0] & 7) % NCONF];
    quiet = (data[0] & 8) != 0;
    fault_point = points[(data[0] >> 4) & 3];
    text = fz_strdup(data + 1, size - 1);
    /* On the heap, as the milter keeps it: ASan sees overruns of its arrays. */
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    tt_session_init(s, "fuzz.host.test", quiet, fault);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *arg = line + 1, *sep;
        struct tt_answer a;

        switch (line[0]) {
        case 'C':
            connect_line(s, cfg, quiet, &src, arg);
            memset(&md, 0, sizeof(md));
            break;
        case 'M':
            sep = strchr(arg, '=');
            if (sep != NULL && mac.n < NMACROS) {
                *sep = '\0';
                mac.name[mac.n] = arg;
                mac.value[mac.n++] = sep + 1;
            }
            break;
        case 'm':
            mac.n = 0;
            break;
        case 'H':
            check_answer(tt_session_helo(s, &src));
            break;
        case 'F':
            a = tt_session_mail(s, cfg, NULL, &src, arg);
            check_answer(a);
            memset(&md, 0, sizeof(md));
            FZ_CHECK((s->t.dns != NULL) <= cfg->dns_needed);
            if (a.step != TT_STEP_CONTINUE)
                reset(s, &md);
            break;
        case 'R':
            check_answer(tt_session_rcpt(s, &src, arg));
            break;
        case 'X':
            sep = strchr(arg, ':');
            if (sep != NULL)
                *sep++ = '\0';
            for (char *p = sep; p != NULL && (p = strchr(p, '\x01')) != NULL;)
                *p = '\n';
            if (s->cfg != NULL && !s->internal && !md.refused)
                md.tags += model_is_tag(arg, s->cfg->tag_header);
            a = tt_session_header(s, arg, sep != NULL ? sep : "");
            check_answer(a);
            if (a.step != TT_STEP_CONTINUE) {
                FZ_CHECK(!quiet);
                reset(s, &md);
            } else if (s->t.refuse_why != NULL) {
                FZ_CHECK(quiet);
                md.refused = true;
            }
            break;
        case 'E':
            check_eom(s, &md, arg[0] >= '0' && arg[0] <= '9' ? (size_t)(arg[0] - '0') : SIZE_MAX);
            break;
        case 'A':
            reset(s, &md);
            break;
        default:
            break;
        }
    }
    tt_session_close(s);
    free(s);
    free(text);
    return 0;
}
