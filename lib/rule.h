/*
 * rule.h - the one grammar of a rule's requirement, action and attributes,
 * shared by the domain table (a line "KEY REQ [ACTION] [attr=value ...]"),
 * policy-zone TXT records ("req=...; action=...; subject=...") and
 * tlstrust.conf's DnsSenderRequirement. Each caller tokenises its own
 * syntax and hands the words here; errors come back without FILE:LINE,
 * which the caller adds.
 */
#ifndef TT_RULE_H
#define TT_RULE_H

#include <stdbool.h>
#include <stddef.h>

#include "domtable.h"
#include "trustnet.h"

/* Where a rule's strings and lists go: a table's arena, or a DNS rule's own buffer. */
struct tt_rule_store {
    void *(*alloc)(void *owner, size_t n); /* aligned for pointers; NULL when full */
    void *owner;
};

/*
 * "none", "encrypt", "verify", "trusted" or "trusted:NETWORK" (a network of
 * trust, whose name the rule then points to).
 */
bool tt_rule_set_req(struct tt_rule *r, const char *text, const struct tt_trust *trust, char *err,
                     size_t errsz);

/* "defer", "reject" or "monitor". */
bool tt_rule_set_action(struct tt_rule *r, const char *text, char *err, size_t errsz);

/*
 * One attribute: min_version, min_bits, subject, reply or identity. *seen
 * records those given, so a second one is an error. r->type must be set
 * (identity=dns applies to from: and client: rules only).
 */
bool tt_rule_set_attr(struct tt_rule *r, const char *name, const char *value, unsigned int *seen,
                      const struct tt_rule_store *store, char *err, size_t errsz);

/* What holds across the fields: requirement none takes no action or attribute. */
bool tt_rule_check(const struct tt_rule *r, unsigned int seen, char *err, size_t errsz);

#endif
