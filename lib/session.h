/*
 * session.h - one SMTP session as the MTA reports it to a milter, and the
 * transactions (messages) in it. One call per milter step: connect, helo,
 * mail, rcpt, header, eom, abort, close. Each step returns what the MTA
 * must do (continue, or refuse with this reply); end of message also gives
 * the edits to make first (delete header N of name X, insert this header
 * at position P). The daemon's callbacks only translate libmilter to these
 * calls and back, so the whole story of a message is here, where unit tests
 * and the fuzzer reach it.
 *
 * Macros come in through a getter (struct tt_macro_src), never an SMFICTX.
 * Which configuration a step runs under is the caller's business: it passes
 * the configuration in at connect and at each MAIL, and keeps it alive
 * until the next MAIL or the close.
 */
#ifndef TT_SESSION_H
#define TT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cidr.h"
#include "config.h"
#include "dnspolicy.h"
#include "forgery.h"
#include "observation.h"
#include "policy.h"
#include "tag.h"
#include "tls_state.h"

/* The macros each step reads: what a milter asks the MTA for (smfi_setsymlist). */
#define TT_MACROS_CONNECT "j v _ {daemon_name} {client_addr} {client_name} {client_resolve}"
#define TT_MACROS_TLS                                                                              \
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "                           \
    "{cn_subject} {cn_issuer} {verify}"
#define TT_MACROS_MAIL "i {mail_addr} " TT_MACROS_TLS
#define TT_MACROS_RCPT "i {rcpt_addr}"
#define TT_MACROS_EOM "i"

/* The MTA's macros of the current step: get(ctx, "{tls_version}"), NULL when not sent. */
struct tt_macro_src {
    const char *(*get)(void *ctx, const char *name);
    void *ctx;
};

enum tt_step {
    TT_STEP_CONTINUE = 0,
    TT_STEP_REJECT,   /* refuse for good, with the reply */
    TT_STEP_TEMPFAIL, /* refuse for now, with the reply */
};

/*
 * What the MTA must do after a step. The reply (set when step is not
 * TT_STEP_CONTINUE) is static text or the configuration's, valid until the
 * next step of the session.
 */
struct tt_answer {
    enum tt_step step;
    const char *rcode, *xcode, *text;
};

enum tt_edit_kind { TT_EDIT_DELETE, TT_EDIT_INSERT };

/* One change to the message, made by the MTA at end of message. */
struct tt_edit {
    enum tt_edit_kind kind;
    const char *name;
    /* DELETE: 1-based index among the headers of that name; INSERT: position, 0 the top. */
    unsigned int index;
    const char *value; /* INSERT: the header's value */
    bool tag;          /* INSERT of the tag itself (not the Authentication-Results) */
};

/* Forged tags and Authentication-Results to delete, then ours to insert. */
#define TT_EDITS_MAX (2 * TT_FORGED_MAX + 2)

/*
 * The edits of one end of message, in the order they must be made, in the
 * caller's storage: every string they point to lives here or in the
 * configuration.
 */
struct tt_eom_plan {
    size_t n;
    struct tt_edit edit[TT_EDITS_MAX];
    /* The names deleted: each spelling of the tag, and Authentication-Results. */
    char names[TT_TAG_SPELLINGS + 1][80];
    size_t nnames;
    char authres[TT_TAG_MAX], tag[TT_TAG_MAX]; /* the inserted values */
};

/* One message's state; reset by every MAIL, end of message and abort. */
struct tt_txn {
    char queueid[32];
    char from_log[260];        /* escaped sender, for the log */
    struct tt_verdict verdict; /* strictest over MAIL and accepted RCPTs */
    struct tt_forgery forgery; /* forged tags and Authentication-Results (forgery.c) */
    bool degraded;             /* an internal error happened under OnError accept */
    /* A header made us refuse the message: said at end of message (no-reply headers). */
    const char *refuse_xcode, *refuse_why;
    /* At end of message: the forged headers cannot all be deleted; how many deletions. */
    bool uncleanable;
    size_t ndelete;
    /*
     * DNS policy rules and query budget of this message (9.8 KiB), allocated
     * at MAIL only when DNS policy is configured: an idle connection, or one
     * under a configuration without DNS, does not carry it. The verdict may
     * point into its rules until end of message; the reset frees it.
     */
    struct tt_dnsmsg *dns;
};

/*
 * One SMTP session. Zeroed storage and tt_session_init(); the fields are
 * read by the caller (logs, counters) but written only here.
 */
struct tt_session {
    /* Set at init. */
    const char *local_host;           /* authserv-id when neither AuthservID nor j gives one */
    bool quiet_headers;               /* the MTA takes no reply at headers: refusals wait for eom */
    bool (*fault)(const char *point); /* test hook: true fails the named operation */
    tt_observer_fn observe;           /* told of each decision (tt_session_observe), or NULL */
    /* The policy in force (passed in at connect and at each MAIL). */
    const struct tt_config *cfg;
    struct tt_dns *dns;
    /* The connection. */
    char client_log[300]; /* name[addr], escaped */
    struct tt_cidr addr;
    bool have_addr;
    char client_name[256]; /* the MTA-verified host name, normalized, or "" */
    char mta_host[129];    /* the MTA's "j" macro, when it is a token */
    bool internal;         /* the client is in InternalHosts (of cfg) */
    char authserv[129];    /* the authserv-id our headers carry (of cfg) */
    char mta_version[64];
    bool have_mta_version;
    struct tt_tls tls;
    struct tt_txn t;
};

/*
 * Start a session in zeroed storage. local_host (a token, or NULL for
 * "localhost") must outlive it. quiet_headers: the MTA agreed not to wait
 * for a reply at each header, so a refusal found there is answered at end
 * of message (the client hears it after its final dot either way).
 */
void tt_session_init(struct tt_session *s, const char *local_host, bool quiet_headers,
                     bool (*fault)(const char *point));

/* Report each decision of this session to fn (metrics, history); NULL: to nobody. */
void tt_session_observe(struct tt_session *s, tt_observer_fn fn);

/*
 * Connect: the client's name (counted only when the MTA verified it, see
 * the .c) and address (sa may be NULL), InternalHosts under cfg. Macros
 * read: TT_MACROS_CONNECT. Always continues.
 */
struct tt_answer tt_session_connect(struct tt_session *s, const struct tt_config *cfg,
                                    const struct tt_macro_src *m, const char *hostname,
                                    const struct sockaddr *sa);

/* HELO: capture the TLS state (an MTA that cannot take our macro lists sends it here). */
struct tt_answer tt_session_helo(struct tt_session *s, const struct tt_macro_src *m);

/*
 * MAIL FROM: a new transaction under cfg (dns: its resolver, NULL when
 * none). Captures the TLS state and judges the sender (tt_decide_mail):
 * a refusing verdict refuses here.
 */
struct tt_answer tt_session_mail(struct tt_session *s, const struct tt_config *cfg,
                                 struct tt_dns *dns, const struct tt_macro_src *m,
                                 const char *from);

/* RCPT TO: the recipient's to: rules; a refusal refuses this recipient only. */
struct tt_answer tt_session_rcpt(struct tt_session *s, const struct tt_macro_src *m,
                                 const char *rcpt);

/* One header: forged tags are noted; some headers refuse the message (forgery.h). */
struct tt_answer tt_session_header(struct tt_session *s, const char *name, const char *value);

/*
 * End of message, first half: fill plan with the edits to make, in order
 * (none when the message is refused or left alone). Then the caller makes
 * them, stopping at the first that fails, and calls tt_session_eom_done
 * with how many were made: that gives the answer and ends the transaction.
 */
void tt_session_eom(struct tt_session *s, const struct tt_macro_src *m, struct tt_eom_plan *plan);
struct tt_answer tt_session_eom_done(struct tt_session *s, const struct tt_eom_plan *plan,
                                     size_t applied);

/* The transaction was aborted (RSET, a refusal elsewhere, the client left). */
void tt_session_abort(struct tt_session *s);

/* The connection ended: release what the session holds (not s itself). */
void tt_session_close(struct tt_session *s);

/*
 * Log one line about the session's current message, with the queue id (or
 * NOQUEUE), the client and the sender said once, here:
 *   "QUEUEID: [stage ]client=NAME[ADDR][ from=<sender>]" then fmt.
 */
void tt_session_log(const struct tt_session *s, int level, const char *stage, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * An internal failure with no session state to carry it (it could not be
 * allocated or kept): OnError of cfg decides (cfg NULL: tempfail).
 */
struct tt_answer tt_stateless_error(const struct tt_config *cfg, const char *what);

/*
 * A header in a session without state (OnError accept after a failed
 * allocation): a copy of the tag cannot be removed later, so it is refused.
 */
struct tt_answer tt_stateless_header(const struct tt_config *cfg, const char *name);

#endif
