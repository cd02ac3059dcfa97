/*
 * outbound.h - the sending side of a network, from the same rules as the
 * receiving side: a domain's rule (decide.h, tt_domain_rule) written as a
 * Postfix TLS policy (smtp_tls_policy_maps) or as a Sendmail access-map
 * TLS_Rcpt entry, and the whole domain table exported in either form.
 * The mapping is documented in tlstrustctl(8), OUTBOUND POLICY.
 */
#ifndef TT_OUTBOUND_H
#define TT_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "domtable.h"

/* Longest policy text either form produces (far below socketmap's 100000 bytes). */
#define TT_OUTBOUND_MAX 8192

enum tt_out {
    TT_OUT_NONE = 0, /* no network policy: no rule, or an exemption */
    TT_OUT_POLICY,   /* out holds the policy */
    TT_OUT_ERROR,    /* the rule cannot be written for this MTA: err says why */
};

/*
 * The Postfix policy for r:
 *   trusted[:NET]  secure tafile=BUNDLE... [match=...] [protocols=>=V] [ciphers=high]
 *   verify         verify [match=...] [protocols=>=V] [ciphers=high]
 *   encrypt        encrypt [protocols=>=V] [ciphers=high]
 *   action monitor may
 * match= comes from subject= ("*.d" becomes ".d"); without it Postfix's
 * own default match applies. TT_OUT_ERROR when a bundle's path holds a
 * blank or a comma (Postfix splits attributes there).
 */
enum tt_out tt_outbound_postfix(const struct tt_config *cfg, const struct tt_rule *r, char *out,
                                size_t outsz, char *err, size_t errsz);

/*
 * The Sendmail TLS_Rcpt right-hand side for r:
 *   trusted[:NET]  TEMP+VERIFY[:BITS]+CITag:TAG   (PERM+ for action reject)
 *   verify         TEMP+VERIFY[:BITS]
 *   encrypt        TEMP+ENCR:BITS                 (BITS: min_bits, else 1)
 *   action monitor, exemption   OK
 * TAG names the network's issuer entries (tt_outbound_sendmail_tag).
 */
enum tt_out tt_outbound_sendmail(const struct tt_config *cfg, const struct tt_rule *r, char *out,
                                 size_t outsz, char *err, size_t errsz);

/* "TLSTRUST" for any network, "TLSTRUST_NAME" for one ('.' written "=2E": one token). */
void tt_outbound_sendmail_tag(const char *network, char *out, size_t outsz);

/*
 * The domain table's from: rules as a postmap source (postfix) or a
 * makemap source (sendmail), with comments for what the MTA cannot
 * state. false with err when a rule or bundle cannot be written.
 */
bool tt_outbound_export_postfix(const struct tt_config *cfg, FILE *out, char *err, size_t errsz);
bool tt_outbound_export_sendmail(const struct tt_config *cfg, FILE *out, char *err, size_t errsz);

#endif
