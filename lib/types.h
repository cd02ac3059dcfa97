/*
 * types.h - the small vocabulary shared by every module: trust levels,
 * MTA dialects, the kinds of table key, requirements, actions and results.
 */
#ifndef TT_TYPES_H
#define TT_TYPES_H

/* Ordered: a requirement is met by its level or any higher one. */
enum tt_level {
    TT_LEVEL_NONE = 0,  /* no TLS */
    TT_LEVEL_ENCRYPTED, /* TLS, no verified client certificate */
    TT_LEVEL_VERIFIED,  /* verified certificate, issuer in no trusted network */
    TT_LEVEL_TRUSTED,   /* verified, issued by a CA of a trusted network */
};

/* How the MTA reports certificate names (see doc/mta-facts.md). */
enum tt_dialect {
    TT_DIALECT_AUTO = 0,
    TT_DIALECT_POSTFIX,  /* plain UTF-8 CN/O; {cert_issuer} only when verified */
    TT_DIALECT_SENDMAIL, /* xtext oneline DN; verified only when {verify} says so */
};

/* What a table key or a policy-zone record names: sender, recipient or client. */
enum tt_key_type { TT_KEY_FROM = 0, TT_KEY_TO, TT_KEY_CLIENT };

/* What a rule requires of the session; ordered like the levels that meet it. */
enum tt_req { TT_REQ_NONE = 0, TT_REQ_ENCRYPT, TT_REQ_VERIFY, TT_REQ_TRUSTED };

enum tt_action {
    TT_ACTION_UNSET = 0,
    TT_ACTION_DEFER,
    TT_ACTION_REJECT,
    TT_ACTION_MONITOR,
};

/* The outcome of judging a session against the rules that apply. */
enum tt_result {
    TT_RESULT_NONE = 0, /* no rule applied (or an exemption) */
    TT_RESULT_PASS,
    TT_RESULT_FAIL,
};

const char *tt_level_name(enum tt_level l);
const char *tt_req_name(enum tt_req r);
const char *tt_action_name(enum tt_action a);
/* -1 when unknown. */
int tt_action_from_name(const char *s);

#endif
