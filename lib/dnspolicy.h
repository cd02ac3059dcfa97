/*
 * dnspolicy.h - policy found in DNS: a network's policy zone (TXT records
 * "v=TLSTRUST1; req=...; ..."), the TLS-capable-sender signals (MTA-STS,
 * DANE TLSA with AD), and the identity=dns check that ties a certificate's
 * host name to the client's address. All lookups of one message share a
 * query budget; their rules live in the message's own storage.
 */
#ifndef TT_DNSPOLICY_H
#define TT_DNSPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"
#include "config.h"
#include "domtable.h"
#include "policy.h"
#include "tls_state.h"

/* Rules one message can hold: one per policy zone that answers, or a signal. */
#define TT_DNSP_RULES 4
#define TT_DNSP_SUBJECTS 16

/* A rule found in DNS, with its strings stored inline (no allocation to free). */
struct tt_dnsrule {
    struct tt_rule rule;
    char key[340];    /* "zone:NETWORK:domain", "dns:mta-sts:domain", "dns:dane:domain" */
    char source[600]; /* for tlstrustctl and the log: where it came from */
    /* Subject patterns and their list: up to TT_DNSP_SUBJECTS in one 1000-byte tag. */
    _Alignas(void *) char store[1400];
    size_t used;
};

/* One message's DNS state: lives in the transaction, reset by zeroing. */
struct tt_dnsmsg {
    struct tt_dns *dns; /* the resolver: set by the caller; NULL means no lookup can be made */
    unsigned int used;  /* lookups charged to the budget */
    unsigned int sent;  /* of which answered by the network (not the cache) */
    size_t nrules;
    struct tt_dnsrule rules[TT_DNSP_RULES];
    char failed[400]; /* the last lookup that failed, for the log and tlstrustctl */
};

enum tt_dnsrec {
    TT_DNSREC_OK = 0,
    TT_DNSREC_NOT_OURS, /* does not start with "v=TLSTRUST" */
    TT_DNSREC_VERSION,  /* v=TLSTRUST<other>: unknown version */
    TT_DNSREC_BROKEN,   /* v=TLSTRUST1 with a syntax error */
};

/*
 * Parse one TXT record of a policy zone into out, with key as its rule key.
 * network is the PolicyZone's network: "req=trusted" means trusted:network
 * when a TrustedNetwork has that name. err says what is wrong.
 */
enum tt_dnsrec tt_dnspolicy_parse(const char *txt, const char *key, const char *network,
                                  const struct tt_trust *trust, struct tt_dnsrule *out, char *err,
                                  size_t errsz);

enum tt_dnsp_status {
    TT_DNSP_OK = 0,   /* lookups done (rules may or may not have been found) */
    TT_DNSP_TEMPFAIL, /* a lookup failed and OnDnsError is tempfail */
};

/*
 * The DNS policy for sender domain (NULL: no domain, e.g. <>): the policy
 * zones in order, then, when no zone has a record and DnsSenderSignals is
 * on, MTA-STS and DANE. Found rules are stored in m. Under OnDnsError
 * ignore a failed lookup is logged and the search goes on (until the
 * budget runs out); under tempfail it ends the search with
 * TT_DNSP_TEMPFAIL. id prefixes log lines.
 */
enum tt_dnsp_status tt_dnspolicy_find(struct tt_dnsmsg *m, const struct tt_config *cfg,
                                      const char *id, const char *domain);

/*
 * The policy zones alone, in the same order and under the same budget
 * and OnDnsError as tt_dnspolicy_find, without the sender signals: what
 * the network itself says of domain (the outbound policy, outbound.h).
 */
enum tt_dnsp_status tt_dnspolicy_find_zones(struct tt_dnsmsg *m, const struct tt_config *cfg,
                                            const char *id, const char *domain);

/*
 * identity=dns for a rule that passed: when r carries it, the certificate's
 * subject host must have an A/AAAA record equal to client. On failure v
 * becomes a failure naming the check. Returns TT_DNSP_TEMPFAIL when the
 * lookup failed and OnDnsError is tempfail.
 */
enum tt_dnsp_status tt_dnspolicy_identity(struct tt_dnsmsg *m, const struct tt_config *cfg,
                                          const char *id, const struct tt_tls *tls,
                                          const struct tt_cidr *client, struct tt_verdict *v);

#endif
