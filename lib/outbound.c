/*
 * outbound.c - see outbound.h: a rule as Postfix and Sendmail state an
 * outbound TLS requirement, and the exports of the whole table. Every
 * text is built with a bounded appender: too long is an error, never a
 * cut policy.
 */
#include "outbound.h"

#include <stdarg.h>
#include <string.h>

#include "policy.h"
#include "tls_state.h"
#include "trustnet.h"
#include "xtext.h"

struct buf {
    char *s;
    size_t size, len;
    bool overflow;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->s + b->len, b->size - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->size - b->len) {
        b->overflow = true;
        b->s[b->len] = '\0';
        return;
    }
    b->len += (size_t)n;
}

static enum tt_out fail(char *err, size_t errsz, const char *what, const char *detail)
{
    snprintf(err, errsz, "%s: %s", what, detail);
    return TT_OUT_ERROR;
}

/* tafile= for one bundle; Postfix splits attributes at blanks and commas. */
static bool put_tafile(struct buf *b, const struct tt_network *n, char *err, size_t errsz)
{
    if (n->file[strcspn(n->file, " \t\r\n,")] != '\0') {
        fail(err, errsz, n->file,
             "a CA bundle path with a blank or a comma cannot be a Postfix tafile=");
        return false;
    }
    put(b, " tafile=%s", n->file);
    return true;
}

enum tt_out tt_outbound_postfix(const struct tt_config *cfg, const struct tt_rule *r, char *out,
                                size_t outsz, char *err, size_t errsz)
{
    struct buf b = {out, outsz, 0, outsz == 0};
    size_t i;

    if (outsz > 0)
        out[0] = '\0';
    if (r == NULL || r->req == TT_REQ_NONE)
        return TT_OUT_NONE;
    if (!tt_rule_enforced(r, cfg->default_action)) {
        /* monitor: report only. Postfix logs what it met (Trusted/Untrusted) and sends. */
        put(&b, "may");
        return b.overflow ? fail(err, errsz, r->key, "policy too long") : TT_OUT_POLICY;
    }
    put(&b, "%s",
        r->req == TT_REQ_TRUSTED  ? "secure"
        : r->req == TT_REQ_VERIFY ? "verify"
                                  : "encrypt");
    if (r->req == TT_REQ_TRUSTED) {
        /* The network's own CAs are the only trust anchors: a public CA's certificate fails. */
        for (i = 0; i < cfg->trust.nnets; i++) {
            const struct tt_network *n = &cfg->trust.nets[i];

            if (r->network != NULL && strcmp(r->network, n->name) != 0)
                continue;
            if (!put_tafile(&b, n, err, errsz))
                return TT_OUT_ERROR;
        }
        if (cfg->trust.nnets == 0)
            return fail(err, errsz, r->key, "requirement trusted, but no TrustedNetwork is set");
    }
    if (r->req >= TT_REQ_VERIFY && r->subjects != NULL) {
        /* Postfix's ".d" matches any depth below d: wider than "*.d", one label. */
        for (i = 0; r->subjects[i] != NULL; i++) {
            const char *p = r->subjects[i];

            put(&b, "%s%s", i == 0 ? " match=" : ":", strncmp(p, "*.", 2) == 0 ? p + 1 : p);
        }
    }
    if (r->min_version > 0)
        put(&b, " protocols=>=%s", tt_tls_version_name(r->min_version));
    if (r->min_bits > 0)
        put(&b, " ciphers=high");
    return b.overflow ? fail(err, errsz, r->key, "policy too long") : TT_OUT_POLICY;
}

void tt_outbound_sendmail_tag(const char *network, char *out, size_t outsz)
{
    struct buf b = {out, outsz, 0, outsz == 0};
    const char *p;

    put(&b, "TLSTRUST");
    if (network == NULL)
        return;
    put(&b, "_");
    /* '.' is one of Sendmail's operators: CITag:$- takes a single token. */
    for (p = network; *p != '\0'; p++)
        put(&b, *p == '.' ? "=2E" : "%c", *p);
}

enum tt_out tt_outbound_sendmail(const struct tt_config *cfg, const struct tt_rule *r, char *out,
                                 size_t outsz, char *err, size_t errsz)
{
    struct buf b = {out, outsz, 0, outsz == 0};
    char tag[200];

    if (outsz > 0)
        out[0] = '\0';
    if (r == NULL)
        return TT_OUT_NONE;
    if (!tt_rule_enforced(r, cfg->default_action)) {
        /* Any value but a requirement ends the search: the exemption holds over a parent. */
        put(&b, "OK");
        return TT_OUT_POLICY;
    }
    put(&b, "%s+", tt_rule_action(r, cfg->default_action) == TT_ACTION_REJECT ? "PERM" : "TEMP");
    if (r->req == TT_REQ_ENCRYPT)
        put(&b, "ENCR:%d", r->min_bits > 0 ? r->min_bits : 1);
    else if (r->min_bits > 0)
        put(&b, "VERIFY:%d", r->min_bits);
    else
        put(&b, "VERIFY");
    if (r->req == TT_REQ_TRUSTED) {
        if (cfg->trust.nnets == 0)
            return fail(err, errsz, r->key, "requirement trusted, but no TrustedNetwork is set");
        tt_outbound_sendmail_tag(r->network, tag, sizeof(tag));
        put(&b, "+CITag:%s", tag);
    }
    return b.overflow ? fail(err, errsz, r->key, "policy too long") : TT_OUT_POLICY;
}

/* ---- exports ---- */

/* The key without its "from:" prefix. */
static const char *domain_key(const struct tt_rule *r)
{
    return r->key + strlen(tt_key_prefix(r->type));
}

/* The rule a ".parent" key above key would give (nearest first), or NULL. */
static const struct tt_rule *parent_rule(const struct tt_config *cfg, const char *key)
{
    const char *dot = strchr(key + 1, '.');

    return dot != NULL ? tt_table_lookup_domain(cfg->table, TT_KEY_FROM, dot) : NULL;
}

static void export_header(const struct tt_config *cfg, FILE *out, const char *what)
{
    size_t i;

    fprintf(out, "# %s, made by tlstrustctl export from %s.\n", what, cfg->path);
    fprintf(out, "# The domain table's from: rules: mail to a domain must meet what mail\n"
                 "# from it must meet. Edit the table, not this file.\n");
    for (i = 0; i < cfg->nzones; i++)
        fprintf(out,
                "# PolicyZone %s %s: not in this file; its domains are answered live by\n"
                "#   PolicyMapSocket (Postfix socketmap, map name tlstrust).\n",
                cfg->zones[i].network, cfg->zones[i].zone);
}

bool tt_outbound_export_postfix(const struct tt_config *cfg, FILE *out, char *err, size_t errsz)
{
    char pol[TT_OUTBOUND_MAX];
    size_t i;

    export_header(cfg, out, "Postfix smtp_tls_policy_maps table (postmap it)");
    for (i = 0; i < tt_table_count(cfg->table); i++) {
        const struct tt_rule *r = tt_table_rule(cfg->table, i), *p;
        const char *key;

        if (r->type != TT_KEY_FROM)
            continue;
        key = domain_key(r);
        switch (tt_outbound_postfix(cfg, r, pol, sizeof(pol), err, errsz)) {
        case TT_OUT_ERROR:
            return false;
        case TT_OUT_POLICY:
            fprintf(out, "%s\t%s\n", key, pol);
            break;
        default:
            /* A Postfix table cannot say "not found": an exemption is needed only under a parent.
             */
            p = parent_rule(cfg, key);
            if (p != NULL && p->req != TT_REQ_NONE)
                fprintf(out, "# %s: exempt from %s (table line %u)\n%s\tmay\n", key, p->key,
                        r->line, key);
        }
        if (r->identity_dns)
            fprintf(out, "# %s: identity=dns is an inbound check only\n", key);
    }
    return true;
}

/* The issuer entries of one tag: every CA of one network, or of all (NULL), once each. */
static bool export_issuers(const struct tt_config *cfg, const char *network, FILE *out, char *err,
                           size_t errsz)
{
    char tag[200], enc[3 * TT_SENDMAIL_DN_MAX + 1];
    size_t i, j, k, l;

    tt_outbound_sendmail_tag(network, tag, sizeof(tag));
    for (i = 0; i < cfg->trust.nnets; i++) {
        const struct tt_network *n = &cfg->trust.nets[i];

        if (network != NULL && strcmp(n->name, network) != 0)
            continue;
        for (j = 0; j < n->ncas; j++) {
            bool seen = false;

            if (strlen(n->cas[j].oneline) > TT_SENDMAIL_DN_MAX) {
                snprintf(err, errsz,
                         "network %s: CA %s: its DN is longer than Sendmail's %d bytes "
                         "for {cert_issuer}",
                         n->name, n->cas[j].display, TT_SENDMAIL_DN_MAX);
                return false;
            }
            /* makemap refuses a key twice: the same CA in two bundles. */
            for (k = 0; k <= i && !seen; k++)
                for (l = 0; l < (k == i ? j : cfg->trust.nets[k].ncas) && !seen; l++)
                    seen = (network == NULL || strcmp(cfg->trust.nets[k].name, network) == 0) &&
                           strcmp(cfg->trust.nets[k].cas[l].oneline, n->cas[j].oneline) == 0;
            if (seen)
                continue;
            if (tt_xtext_encode(n->cas[j].oneline, enc, sizeof(enc)) < 0) {
                snprintf(err, errsz, "network %s: CA %s: DN too long", n->name, n->cas[j].display);
                return false;
            }
            fprintf(out, "%s:%s\tOK\n", tag, enc);
        }
    }
    return true;
}

/* One TLS_Rcpt line, with comments for what Sendmail cannot check. */
static bool sendmail_line(const struct tt_config *cfg, const char *key, const struct tt_rule *r,
                          FILE *out, char *err, size_t errsz)
{
    char pol[TT_OUTBOUND_MAX];

    if (r == NULL) {
        fprintf(out, "TLS_Rcpt:%s\tOK\n", key);
        return true;
    }
    if (tt_outbound_sendmail(cfg, r, pol, sizeof(pol), err, errsz) == TT_OUT_ERROR)
        return false;
    if (tt_rule_enforced(r, cfg->default_action) && r->min_version > 0)
        fprintf(out, "# %s: min_version=%s is not checked per domain by Sendmail\n", key,
                tt_tls_version_name(r->min_version));
    if (tt_rule_enforced(r, cfg->default_action) && r->subjects != NULL && r->req >= TT_REQ_VERIFY)
        fprintf(out, "# %s: subject= is not checked by Sendmail: only chain and issuer\n", key);
    fprintf(out, "TLS_Rcpt:%s\t%s\n", key, pol);
    return true;
}

bool tt_outbound_export_sendmail(const struct tt_config *cfg, FILE *out, char *err, size_t errsz)
{
    char dotted[300];
    size_t i;

    export_header(cfg, out, "Sendmail access map entries (makemap hash access < this)");
    fprintf(out, "# Needs FEATURE(`access_db') and FEATURE(`lookupdotdomain'), and the\n"
                 "# networks' CA bundles in confCACERT (Sendmail verifies against it).\n");
    for (i = 0; i < tt_table_count(cfg->table); i++) {
        const struct tt_rule *r = tt_table_rule(cfg->table, i);
        const char *key;

        if (r->type != TT_KEY_FROM)
            continue;
        key = domain_key(r);
        if (!sendmail_line(cfg, key, r, out, err, errsz))
            return false;
        /*
         * Sendmail also meets an exact key "d" for the subdomains of d, after
         * ".d" (lookupdotdomain) and before the parents of d; the table does
         * not. A ".d" line with what the table gives d's subdomains stops it.
         */
        if (key[0] != '.' && strlen(key) + 2 <= sizeof(dotted)) {
            snprintf(dotted, sizeof(dotted), ".%s", key);
            if (tt_table_lookup_domain(cfg->table, TT_KEY_FROM, dotted) == NULL ||
                strcmp(domain_key(tt_table_lookup_domain(cfg->table, TT_KEY_FROM, dotted)),
                       dotted) != 0) {
                fprintf(out, "# %s: its subdomains are not %s's\n", dotted, key);
                if (!sendmail_line(cfg, dotted,
                                   tt_table_lookup_domain(cfg->table, TT_KEY_FROM, dotted), out,
                                   err, errsz))
                    return false;
            }
        }
    }
    if (!export_issuers(cfg, NULL, out, err, errsz))
        return false;
    for (i = 0; i < cfg->trust.nnets; i++)
        if (!export_issuers(cfg, cfg->trust.nets[i].name, out, err, errsz))
            return false;
    return true;
}
