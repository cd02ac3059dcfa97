/*
 * decide.h - the one decision at MAIL FROM: which rules apply to a
 * transaction, in which order, and how they merge. The daemon judges a
 * transaction with tt_decide_mail; tlstrustctl lookup lists the same rules
 * with tt_mail_rules, so the two cannot disagree on the order.
 */
#ifndef TT_DECIDE_H
#define TT_DECIDE_H

#include <stddef.h>

#include "address.h"
#include "cidr.h"
#include "config.h"
#include "dnspolicy.h"
#include "policy.h"
#include "tls_state.h"

/* What is known of a transaction at MAIL FROM. */
struct tt_mail_case {
    const char *id;                   /* queue id, or a label, for the log */
    const struct tt_envelope *sender; /* the sender's domains; NULL: none judged */
    const char *client_name;          /* the MTA-verified host name, or NULL */
    const struct tt_cidr *client;     /* the client address, or NULL */
};

/* One rule that applies: from the table (dns NULL) or from DNS. */
struct tt_mail_rule {
    const struct tt_rule *rule;
    const struct tt_dnsrule *dns;
};

#define TT_MAIL_RULES (TT_ENVELOPE_DOMAINS + 1 + TT_DNSP_RULES)

/*
 * The rules that apply, in this order:
 *  1. the table's from: rule of each of the sender's domains;
 *  2. the table's client: rule, by address first, then by host name;
 *  3. when the table has no from: rule for the MTA's sender domain (an
 *     exemption counts as a rule) and m can make lookups: the policy-zone
 *     records, then the DNS sender signals, for that domain.
 * m may be NULL (no DNS). TT_DNSP_TEMPFAIL when a lookup failed under
 * OnDnsError tempfail (m->failed says which).
 */
enum tt_dnsp_status tt_mail_rules(const struct tt_config *cfg, struct tt_dnsmsg *m,
                                  const struct tt_mail_case *mc, struct tt_mail_rule *out,
                                  size_t *n);

/*
 * Judge every rule of tt_mail_rules against the session's TLS state,
 * identity=dns included (through m), and merge the strictest into acc.
 */
enum tt_dnsp_status tt_decide_mail(const struct tt_config *cfg, struct tt_dnsmsg *m,
                                   const struct tt_mail_case *mc, const struct tt_tls *tls,
                                   struct tt_verdict *acc);

/*
 * The network's rule for mail to domain: the rule its own mail servers
 * stand under as senders, found as tt_mail_rules finds it for a sender
 * domain, so the inbound and outbound sides never disagree:
 *  1. the table's from: rule (exact key, then the nearest ".parent"); an
 *     exemption (requirement none) counts and wins over DNS;
 *  2. else, when m can make lookups, the policy zones' records; of
 *     several zones the strictest record (an enforcing action before
 *     monitor, then the higher requirement; the first zone on a tie).
 * The DNS sender signals (MTA-STS, DANE) are not asked: the MTA has its
 * own. *rule is NULL when nothing applies; *dns is the zone record, or
 * NULL for a table rule. Outbound fails closed: TT_DNSP_TEMPFAIL when any
 * zone lookup failed (m->failed says which), whatever OnDnsError says.
 */
enum tt_dnsp_status tt_domain_rule(const struct tt_config *cfg, struct tt_dnsmsg *m, const char *id,
                                   const char *domain, const struct tt_rule **rule,
                                   const struct tt_dnsrule **dns);

#endif
