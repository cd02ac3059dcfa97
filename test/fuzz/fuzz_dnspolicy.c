/*
 * fuzz_dnspolicy.c - the policy zone record parser (tt_dnspolicy_parse):
 * TXT records such as "v=TLSTRUST1; req=trusted; action=defer;
 * subject=*.example.org" that anyone able to answer (or forge) a DNS
 * query controls. The record is turned into a table line and parsed by
 * domtable.c; the rule is copied into inline storage.
 *
 * Input: one TXT record, cut at the first NUL. It is parsed for network
 * "redsegura" of the fuzz trust store. Properties:
 *  - the result is one of the four tt_dnsrec values; err is a string of
 *    printable ASCII or tabs (it goes to the log), empty exactly for
 *    NOT_OURS and OK;
 *  - NOT_OURS exactly when the record does not start, after blanks, with
 *    "v=TLSTRUST" (any case);
 *  - OK: a "req=" tag was there; the rule is a from: rule with the key
 *    passed, line 0, no reply, a network only for a trusted requirement
 *    and then one of the trust store (req=trusted means trusted:redsegura),
 *    min_version 0 or 10..13, min_bits 0..65535, at most TT_DNSP_SUBJECTS
 *    subject patterns stored inside the rule itself, and identity=dns only
 *    when the record said so.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnspolicy.h"
#include "fuzz_common.h"

#define KEY "zone:redsegura:example.org"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_tag(const char *txt, const char *tag)
{
    const char *p;

    for (p = txt; *p != '\0'; p++)
        if (strncasecmp(p, tag, strlen(tag)) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct tt_trust *trust = fz_trust();
    char *txt = fz_strdup(data, size), err[512];
    const char *s = txt, *p;
    struct tt_dnsrule *out = malloc(sizeof(*out));
    enum tt_dnsrec r;
    size_t i;

    FZ_CHECK(out != NULL);
    memset(err, 'x', sizeof(err));
    r = tt_dnspolicy_parse(txt, KEY, "redsegura", trust, out, err, sizeof(err));
    FZ_CHECK(r == TT_DNSREC_OK || r == TT_DNSREC_NOT_OURS || r == TT_DNSREC_VERSION ||
             r == TT_DNSREC_BROKEN);
    FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    for (p = err; *p != '\0'; p++)
        FZ_CHECK((*p >= 0x20 && *p < 0x7f) || *p == '\t');
    while (*s == ' ' || *s == '\t')
        s++;
    FZ_CHECK((r == TT_DNSREC_NOT_OURS) == (strncasecmp(s, "v=TLSTRUST", 10) != 0));
    FZ_CHECK((err[0] == '\0') == (r == TT_DNSREC_NOT_OURS || r == TT_DNSREC_OK));
    if (r == TT_DNSREC_OK) {
        const struct tt_rule *rule = &out->rule;

        FZ_CHECK(has_tag(txt, "req"));
        FZ_CHECK(rule->type == TT_KEY_FROM);
        FZ_CHECK(rule->key == out->key && strcmp(out->key, KEY) == 0);
        FZ_CHECK(rule->line == 0 && rule->reply == NULL);
        FZ_CHECK(rule->req <= TT_REQ_TRUSTED);
        FZ_CHECK(rule->network == NULL || tt_trust_find(trust, rule->network) != NULL);
        FZ_CHECK(rule->network == NULL || rule->req == TT_REQ_TRUSTED);
        FZ_CHECK(rule->min_version == 0 || (rule->min_version >= 10 && rule->min_version <= 13));
        FZ_CHECK(rule->min_bits >= 0 && rule->min_bits <= 65535);
        FZ_CHECK(!rule->identity_dns || has_tag(txt, "identity"));
        if (rule->subjects != NULL) {
            FZ_CHECK((const char *)rule->subjects >= out->store &&
                     (const char *)rule->subjects < out->store + sizeof(out->store));
            for (i = 0; rule->subjects[i] != NULL; i++) {
                FZ_CHECK(i < TT_DNSP_SUBJECTS);
                FZ_CHECK(rule->subjects[i] >= out->store &&
                         rule->subjects[i] < out->store + sizeof(out->store));
                FZ_CHECK(rule->subjects[i][0] != '\0');
            }
        }
    }
    free(out);
    free(txt);
    return 0;
}
