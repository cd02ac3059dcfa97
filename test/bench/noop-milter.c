/*
 * noop-milter.c - the benchmark baseline: a libmilter milter that does
 * everything tlstrust-milter does except decide. It registers the same
 * callbacks, negotiates the same way (the same actions; the body, unknown
 * commands, end of headers and, with macro lists, HELO skipped; no reply
 * at connect and at each header; the same macro lists through
 * smfi_setsymlist), keeps a per-connection context, reads the same macros
 * at the same stages and inserts one tag header at end of message; it sets
 * TCP_NODELAY on an inet socket (milter/tcp.c) and gives libmilter's worker
 * threads the same 256 KiB stacks as tlstrust-milter does. What tlstrust
 * costs beyond this is the price of its policy.
 *
 *   usage: noop-milter -p SOCKET [-H HEADER]
 */
#define _GNU_SOURCE /* pthread_setattr_default_np */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "tcp.h"

#define TLS_MACROS                                                                                 \
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "                           \
    "{cn_subject} {cn_issuer} {verify}"

static const char *tag_header = "X-TLS-Trust";
/* The no-reply steps agreed (the same for every session of one MTA). */
static bool nr_conn, nr_hdr;

struct conn {
    char mta_version[64];
    char authserv[129];
    char queueid[32];
    char tls_version[32];
    char cipher[128];
    char issuer[1024];
    unsigned int tag_count;
};

static void copy_macro(SMFICTX *ctx, const char *name, char *dst, size_t dstsz)
{
    const char *v = smfi_getsymval(ctx, (char *)name);

    dst[0] = '\0';
    if (v != NULL)
        snprintf(dst, dstsz, "%s", v);
}

/* The macros tlstrust reads at HELO and MAIL; the values are kept and never judged. */
static void read_tls(SMFICTX *ctx, struct conn *c)
{
    static const char *const others[] = {"{cipher_bits}", "{cert_subject}", "{cn_subject}",
                                         "{cn_issuer}", "{verify}"};
    size_t i;

    copy_macro(ctx, "{tls_version}", c->tls_version, sizeof(c->tls_version));
    copy_macro(ctx, "{cipher}", c->cipher, sizeof(c->cipher));
    copy_macro(ctx, "{cert_issuer}", c->issuer, sizeof(c->issuer));
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        (void)smfi_getsymval(ctx, (char *)others[i]);
}

static sfsistat negotiate_cb(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    static const struct {
        int stage;
        const char *macros;
    } lists[] = {
        {SMFIM_CONNECT, "j v _ {daemon_name} {client_addr} {client_name} {client_resolve}"},
        {SMFIM_ENVFROM, "i {mail_addr} " TLS_MACROS},
        {SMFIM_ENVRCPT, "i {rcpt_addr}"},
        {SMFIM_EOM, "i"},
    };
    size_t i;

    (void)f2;
    (void)f3;
    if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS))
        return SMFIS_REJECT;
    *pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | (f0 & SMFIF_SETSYMLIST);
    *pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NOEOH | SMFIP_NR_CONN | SMFIP_NR_HDR |
                 ((f0 & SMFIF_SETSYMLIST) != 0 ? SMFIP_NOHELO : 0));
    nr_conn = (*pf1 & SMFIP_NR_CONN) != 0;
    nr_hdr = (*pf1 & SMFIP_NR_HDR) != 0;
    *pf2 = 0;
    *pf3 = 0;
    if ((f0 & SMFIF_SETSYMLIST) != 0)
        for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
            (void)smfi_setsymlist(ctx, lists[i].stage, (char *)lists[i].macros);
    return SMFIS_CONTINUE;
}

static sfsistat connect_cb(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
    struct conn *c = calloc(1, sizeof(*c));
    const char *j;

    (void)hostname;
    (void)hostaddr;
    if (c == NULL)
        return SMFIS_TEMPFAIL;
    (void)smfi_getsymval(ctx, "{client_resolve}");
    copy_macro(ctx, "v", c->mta_version, sizeof(c->mta_version));
    j = smfi_getsymval(ctx, "j");
    snprintf(c->authserv, sizeof(c->authserv), "%s", j != NULL ? j : "localhost");
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
        free(c);
        return SMFIS_TEMPFAIL;
    }
    return nr_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat helo_cb(SMFICTX *ctx, char *helohost)
{
    struct conn *c = smfi_getpriv(ctx);

    (void)helohost;
    if (c != NULL)
        read_tls(ctx, c);
    return SMFIS_CONTINUE;
}

static sfsistat envfrom_cb(SMFICTX *ctx, char **argv)
{
    struct conn *c = smfi_getpriv(ctx);

    (void)argv;
    if (c == NULL)
        return SMFIS_CONTINUE;
    c->tag_count = 0;
    read_tls(ctx, c);
    copy_macro(ctx, "i", c->queueid, sizeof(c->queueid));
    return SMFIS_CONTINUE;
}

static sfsistat envrcpt_cb(SMFICTX *ctx, char **argv)
{
    struct conn *c = smfi_getpriv(ctx);

    (void)argv;
    if (c != NULL && c->queueid[0] == '\0')
        copy_macro(ctx, "i", c->queueid, sizeof(c->queueid));
    return SMFIS_CONTINUE;
}

static sfsistat header_cb(SMFICTX *ctx, char *name, char *value)
{
    struct conn *c = smfi_getpriv(ctx);

    (void)value;
    if (c != NULL && strcasecmp(name, tag_header) == 0)
        c->tag_count++;
    return nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat eom_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);
    char value[256];

    if (c == NULL)
        return SMFIS_CONTINUE;
    copy_macro(ctx, "i", c->queueid, sizeof(c->queueid));
    snprintf(value, sizeof(value), "none; policy=none; milter=noop; authserv-id=%s", c->authserv);
    if (smfi_insheader(ctx, 0, (char *)tag_header, value) != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    c->queueid[0] = '\0';
    return SMFIS_CONTINUE;
}

static sfsistat abort_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c != NULL)
        c->queueid[0] = '\0';
    return SMFIS_CONTINUE;
}

static sfsistat close_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c != NULL) {
        free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = "noop",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
    .xxfi_connect = connect_cb,
    .xxfi_helo = helo_cb,
    .xxfi_envfrom = envfrom_cb,
    .xxfi_envrcpt = envrcpt_cb,
    .xxfi_header = header_cb,
    .xxfi_eom = eom_cb,
    .xxfi_abort = abort_cb,
    .xxfi_close = close_cb,
    .xxfi_negotiate = negotiate_cb,
};

static void usage(FILE *out)
{
    fprintf(out, "usage: noop-milter -p SOCKET [-H HEADER]\n"
                 "  -p SOCKET  inet:PORT@HOST or unix:PATH\n"
                 "  -H HEADER  header inserted at end of message (default X-TLS-Trust)\n"
                 "A baseline milter: tlstrust-milter's callbacks and macros, no decision.\n"
                 "Runs in the foreground; SIGTERM or SIGINT stops it.\n");
}

int main(int argc, char **argv)
{
    const char *sock = NULL;
    pthread_attr_t attr;
    int o;

    while ((o = getopt(argc, argv, "p:H:h")) != -1) {
        switch (o) {
        case 'p':
            sock = optarg;
            break;
        case 'H':
            tag_header = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (sock == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
        unlink(strchr(sock, ':') + 1);
    if (smfi_register(desc) == MI_FAILURE || smfi_setconn((char *)sock) == MI_FAILURE) {
        fprintf(stderr, "noop-milter: cannot register with libmilter\n");
        return 1;
    }
    umask(0117);
    if (smfi_opensocket(true) == MI_FAILURE) {
        fprintf(stderr, "noop-milter: cannot listen on %s\n", sock);
        return 1;
    }
    if (tt_tcp_nodelay_listeners() < 0)
        fprintf(stderr, "noop-milter: cannot set TCP_NODELAY\n");
    /* As tlstrust-milter: libmilter's short-lived workers get cacheable stacks. */
    if (pthread_attr_init(&attr) == 0) {
        if (pthread_attr_setstacksize(&attr, 256 * 1024) != 0 ||
            pthread_setattr_default_np(&attr) != 0)
            fprintf(stderr, "noop-milter: cannot set the worker thread stack size\n");
        pthread_attr_destroy(&attr);
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
