/*
 * callbacks.c - libmilter's side of a session, translated to the library's
 * session (session.h) and back: macros through smfi_getsymval, answers
 * through smfi_setreply and SMFIS_*, the end-of-message edits through
 * smfi_chgheader and smfi_insheader. What stays here is the milter's own
 * business: which configuration snapshot a session runs under, the no-reply
 * steps agreed at negotiation (negotiate.c), and the fault-injection hooks.
 */
#include "callbacks.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"
#include "fault.h"
#include "log.h"
#include "negotiate.h"
#include "observe.h"
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

/* Each transaction runs under the configuration in force when it starts. */
static const struct tt_config *bind_snapshot(struct conn *c)
{
    tt_snapshot_put(c->snap);
    c->snap = tt_snapshot_get();
    return tt_snapshot_config(c->snap);
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
        tt_session_observe(&c->s, tt_observe); /* metrics and history (issue 12) */
    }
    return c;
}

/*
 * Where our answer is always "continue" (connect, and headers: their
 * refusals wait for end of message), the MTA need not wait for it. The
 * state allocated here remembers what was agreed; without it, none is.
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
    sfsistat r = tt_negotiate(ctx, f0, f1, f2, f3, pf0, pf1, pf2, pf3);

    if (r == SMFIS_CONTINUE)
        *pf1 |= no_reply_steps(ctx, f1);
    return r;
}

/*
 * No session state (its allocation failed): OnError of the configuration in
 * force decides; under accept the session goes on without state, and a
 * header (name) that is a copy of the tag is refused.
 */
static sfsistat stateless(SMFICTX *ctx, const char *name)
{
    struct tt_snapshot *snap = tt_snapshot_get();
    const struct tt_config *cfg = tt_snapshot_config(snap);
    struct tt_answer a = name != NULL ? tt_stateless_header(cfg, name)
                                      : tt_stateless_error(cfg, "cannot allocate session state");

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
            return stateless(ctx, NULL);
        if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
            free(c);
            return reply(ctx, tt_stateless_error(NULL, "smfi_setpriv failed"), SMFIS_CONTINUE);
        }
    }
    return reply(ctx, tt_session_connect(&c->s, bind_snapshot(c), MACROS(ctx), hostname, hostaddr),
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
    const struct tt_config *cfg;

    if (c == NULL)
        return SMFIS_CONTINUE;
    cfg = bind_snapshot(c);
    /* The resolver belongs to the snapshot, not the configuration: it outlives reloads. */
    return reply(ctx,
                 tt_session_mail(&c->s, cfg, tt_snapshot_dns(c->snap), MACROS(ctx),
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

    if (c == NULL)
        return stateless(ctx, name);
    return reply(ctx, tt_session_header(&c->s, name, value),
                 c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE);
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
