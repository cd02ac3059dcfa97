/*
 * callbacks.c - libmilter's side of a session, translated to the library's
 * session (session.h) and back: macros through smfi_getsymval, answers
 * through smfi_setreply and SMFIS_*, the end-of-message edits through
 * smfi_chgheader and smfi_insheader. What stays here is the milter's own
 * business: what we negotiate with the MTA, which configuration snapshot a
 * session runs under, the no-reply steps, and the fault-injection hooks.
 */
#include "callbacks.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"
#include "fault.h"
#include "log.h"
#include "session.h"
#include "snapshot.h"

struct conn {
    struct tt_snapshot *snap; /* the configuration of the current transaction */
    /* No-reply steps the MTA agreed to (negotiate_cb): return SMFIS_NOREPLY there. */
    bool nr_conn, nr_hdr;
    struct tt_session s;
};

static char fallback_hostname[129] = "localhost";

void tt_callbacks_set_hostname(const char *name)
{
    /* An authserv-id is written unquoted: accept only a host-name-like token. */
    if (name != NULL && tt_is_token(name, 128))
        snprintf(fallback_hostname, sizeof(fallback_hostname), "%s", name);
}

static const char *get_macro(void *ctx, const char *name)
{
    return smfi_getsymval(ctx, (char *)name);
}

/* The macros of the current step, as the library reads them. */
#define MACROS(ctx) (&(const struct tt_macro_src){get_macro, (ctx)})

static const struct tt_config *cfg_of(const struct conn *c)
{
    return tt_snapshot_config(c->snap);
}

/* Each transaction runs under the configuration in force when it starts. */
static void bind_snapshot(struct conn *c)
{
    tt_snapshot_put(c->snap);
    c->snap = tt_snapshot_get();
}

/* The library's answer as libmilter's: ok when it says continue. */
static sfsistat reply(SMFICTX *ctx, struct tt_answer a, sfsistat ok)
{
    if (a.step == TT_STEP_CONTINUE)
        return ok;
    if (smfi_setreply(ctx, (char *)a.rcode, (char *)a.xcode, (char *)a.text) != MI_SUCCESS)
        tt_log(LOG_WARNING, "smfi_setreply failed; the MTA uses its default reply");
    return a.step == TT_STEP_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static struct conn *new_conn(bool nr_conn, bool nr_hdr)
{
    struct conn *c = tt_fault("connect-alloc") ? NULL : calloc(1, sizeof(*c));

    if (c != NULL) {
        c->nr_conn = nr_conn;
        c->nr_hdr = nr_hdr;
        tt_session_init(&c->s, fallback_hostname, nr_hdr, TT_FAULT_HOOK);
    }
    return c;
}

/*
 * Where our answer is always "continue", the MTA need not wait for it: at
 * connect, and at each header (a refusal found in a header is given at end
 * of message instead, which is when the client hears it anyway). The
 * session state is allocated here, to remember what was agreed; without
 * it (no memory), we ask for no such step and connect_cb tries again.
 */
static unsigned long no_reply_steps(SMFICTX *ctx, unsigned long offered)
{
    struct conn *c = new_conn((offered & SMFIP_NR_CONN) != 0, (offered & SMFIP_NR_HDR) != 0);

    if (c == NULL)
        return 0;
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
        free(c);
        return 0;
    }
    return offered & (SMFIP_NR_CONN | SMFIP_NR_HDR);
}

static sfsistat negotiate_cb(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    static const struct {
        int stage;
        const char *macros;
    } lists[] = {
        {SMFIM_CONNECT, TT_MACROS_CONNECT},
        {SMFIM_ENVFROM, TT_MACROS_MAIL},
        {SMFIM_ENVRCPT, TT_MACROS_RCPT},
        {SMFIM_EOM, TT_MACROS_EOM},
    };
    size_t i;

    (void)f2;
    (void)f3;
    if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) {
        tt_log(LOG_ERR, "MTA does not allow adding and changing headers; cannot tag");
        return SMFIS_REJECT;
    }
    *pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | (f0 & SMFIF_SETSYMLIST);
    /*
     * Every stage the MTA sends is a round trip it waits for: skip those we
     * do not use: the body, unknown commands, end of headers, and HELO when
     * the MTA takes our macro lists (the TLS state is then captured at
     * MAIL, where we ask for the same macros; without our lists, MAIL sees
     * the TLS macros only through the HELO stage). DATA is not skipped, on
     * purpose: when it is, Postfix sends the DATA macros alone and, with no
     * reply to carry our ACK, holds its next packet for our delayed ACK
     * (about 40 ms a message over inet; BENCHMARKS.md). The DATA round trip
     * costs far less than that stall.
     */
    *pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NOEOH |
                 ((f0 & SMFIF_SETSYMLIST) != 0 ? SMFIP_NOHELO : 0));
    *pf1 |= no_reply_steps(ctx, f1);
    *pf2 = 0;
    *pf3 = 0;
    if ((f0 & SMFIF_SETSYMLIST) == 0) {
        tt_log(LOG_WARNING, "MTA cannot take our macro list; relying on its configured macros");
        return SMFIS_CONTINUE;
    }
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        if (smfi_setsymlist(ctx, lists[i].stage, (char *)lists[i].macros) != MI_SUCCESS)
            tt_log(LOG_WARNING, "smfi_setsymlist(%d) failed; relying on the MTA's macros",
                   lists[i].stage);
    return SMFIS_CONTINUE;
}

/* No session state: OnError decides; under accept the session goes on without it. */
static sfsistat connect_nomem(SMFICTX *ctx)
{
    struct tt_snapshot *snap = tt_snapshot_get();
    struct tt_answer a =
        tt_stateless_error(tt_snapshot_config(snap), "cannot allocate session state");

    tt_snapshot_put(snap);
    return reply(ctx, a, SMFIS_CONTINUE);
}

static sfsistat connect_cb(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
    struct conn *c = smfi_getpriv(ctx);

    /* Normally allocated at negotiate (no_reply_steps); then nothing here can fail. */
    if (c == NULL) {
        c = new_conn(false, false);
        if (c == NULL)
            return connect_nomem(ctx);
        if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
            free(c);
            return reply(ctx, tt_stateless_error(NULL, "smfi_setpriv failed"), SMFIS_CONTINUE);
        }
    }
    bind_snapshot(c);
    return reply(ctx, tt_session_connect(&c->s, cfg_of(c), MACROS(ctx), hostname, hostaddr),
                 c->nr_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE);
}

static sfsistat helo_cb(SMFICTX *ctx, char *helohost)
{
    struct conn *c = smfi_getpriv(ctx);

    (void)helohost;
    return c == NULL ? SMFIS_CONTINUE
                     : reply(ctx, tt_session_helo(&c->s, MACROS(ctx)), SMFIS_CONTINUE);
}

static sfsistat envfrom_cb(SMFICTX *ctx, char **argv)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c == NULL)
        return SMFIS_CONTINUE;
    bind_snapshot(c);
    /* The resolver belongs to the snapshot, not the configuration: it outlives reloads. */
    return reply(ctx,
                 tt_session_mail(&c->s, cfg_of(c), tt_snapshot_dns(c->snap), MACROS(ctx),
                                 argv != NULL ? argv[0] : NULL),
                 SMFIS_CONTINUE);
}

static sfsistat envrcpt_cb(SMFICTX *ctx, char **argv)
{
    struct conn *c = smfi_getpriv(ctx);

    return c == NULL
               ? SMFIS_CONTINUE
               : reply(ctx, tt_session_rcpt(&c->s, MACROS(ctx), argv != NULL ? argv[0] : NULL),
                       SMFIS_CONTINUE);
}

static sfsistat header_cb(SMFICTX *ctx, char *name, char *value)
{
    struct conn *c = smfi_getpriv(ctx);
    struct tt_snapshot *snap;
    struct tt_answer a;

    if (c != NULL)
        return reply(ctx, tt_session_header(&c->s, name, value),
                     c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE);
    /* No session state (OnError accept after a failed allocation): refuse forgeries. */
    snap = tt_snapshot_get();
    a = tt_stateless_header(tt_snapshot_config(snap), name);
    tt_snapshot_put(snap);
    return reply(ctx, a, SMFIS_CONTINUE);
}

/* Make one edit of the library's plan (the fault hooks fail deletions or the tag). */
static bool apply_edit(SMFICTX *ctx, const struct tt_edit *e)
{
    if (e->kind == TT_EDIT_DELETE)
        return !tt_fault("chgheader") &&
               smfi_chgheader(ctx, (char *)e->name, (int)e->index, NULL) == MI_SUCCESS;
    return !(e->tag && tt_fault("insheader")) &&
           smfi_insheader(ctx, (int)e->index, (char *)e->name, (char *)e->value) == MI_SUCCESS;
}

static sfsistat eom_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);
    struct tt_eom_plan plan;
    size_t done = 0;

    if (c == NULL)
        return SMFIS_CONTINUE;
    tt_session_eom(&c->s, MACROS(ctx), &plan);
    while (done < plan.n && apply_edit(ctx, &plan.edit[done]))
        done++;
    return reply(ctx, tt_session_eom_done(&c->s, &plan, done), SMFIS_CONTINUE);
}

static sfsistat abort_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c != NULL)
        tt_session_abort(&c->s);
    return SMFIS_CONTINUE;
}

static sfsistat close_cb(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c != NULL) {
        tt_session_close(&c->s);
        tt_snapshot_put(c->snap);
        free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc tt_milter_desc = {
    .xxfi_name = "tlstrust",
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
