/*
 * tls_state.c - turn the MTA's TLS macros into a trust level. The two MTAs
 * differ in what "verified" looks like (see doc/mta-facts.md):
 *   Postfix:  {cert_issuer} is sent only for a verified client certificate,
 *             as the issuer CN (or O) in UTF-8.
 *   Sendmail: {cert_issuer} is always sent, as an xtext-encoded oneline DN;
 *             only {verify} = OK or TRUSTED means it verified.
 * A certificate from a rogue CA with a copied DN fails verification at the
 * MTA, so it can never reach TRUSTED here under either dialect.
 */
#include "tls_state.h"

#include <string.h>
#include <strings.h>

#include "dn.h"
#include "xtext.h"

/* Copy at most dstsz-1 bytes; report whether everything fit. */
static bool copy_bounded(char *dst, size_t dstsz, const char *src)
{
    size_t n = strlen(src);

    if (n >= dstsz) {
        memcpy(dst, src, dstsz - 1);
        dst[dstsz - 1] = '\0';
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

static bool present(const char *v)
{
    return v != NULL && *v != '\0';
}

static int parse_bits(const char *s)
{
    int v = 0;
    size_t n = 0;

    if (!present(s))
        return -1;
    for (; *s != '\0'; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 5)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* The one TLS version scale: names as OpenSSL reports them, numbers to compare. */
static const struct {
    const char *name;
    int num;
    const char *required; /* the reason a min_version failure gives */
} versions[] = {
    {"TLSv1", 10, "TLSv1 or later required"},     {"TLSv1.1", 11, "TLSv1.1 or later required"},
    {"TLSv1.2", 12, "TLSv1.2 or later required"}, {"TLSv1.3", 13, "TLSv1.3 or later required"},
    {"TLSv1.0", 10, "TLSv1 or later required"},
};

int tt_tls_version_number(const char *v)
{
    size_t i;

    if (v == NULL)
        return 0;
    for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
        if (strcasecmp(v, versions[i].name) == 0)
            return versions[i].num;
    return 0;
}

static size_t version_index(int num)
{
    size_t i;

    for (i = 0; i < sizeof(versions) / sizeof(versions[0]) - 1; i++)
        if (versions[i].num == num)
            return i;
    return 0;
}

const char *tt_tls_version_name(int num)
{
    return versions[version_index(num)].name;
}

const char *tt_tls_version_required(int num)
{
    return versions[version_index(num)].required;
}

bool tt_host_match(const char *pattern, const char *host)
{
    size_t pl = strlen(pattern), hl = strlen(host);

    if (pl > 0 && pattern[pl - 1] == '.')
        pl--;
    if (hl > 0 && host[hl - 1] == '.')
        hl--;
    if (pl == 0 || hl == 0)
        return false;
    if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
        /* As in RFC 6125, the star stands for exactly one non-empty label. */
        size_t sl = pl - 1, ll;

        if (hl <= sl)
            return false;
        ll = hl - sl;
        return memchr(host, '.', ll) == NULL && strncasecmp(host + ll, pattern + 1, sl) == 0;
    }
    return pl == hl && strncasecmp(pattern, host, pl) == 0;
}

static enum tt_dialect pick_dialect(const struct tt_macros *m, enum tt_dialect configured)
{
    if (configured != TT_DIALECT_AUTO)
        return configured;
    if (m->verify != NULL)
        return TT_DIALECT_SENDMAIL;
    if (m->mta_version != NULL)
        return strncasecmp(m->mta_version, "Postfix", 7) == 0 ? TT_DIALECT_POSTFIX
                                                              : TT_DIALECT_SENDMAIL;
    /* No hint: a oneline DN can only come from Sendmail. */
    return present(m->cert_issuer) && m->cert_issuer[0] == '/' ? TT_DIALECT_SENDMAIL
                                                               : TT_DIALECT_POSTFIX;
}

/* Sendmail: decode xtext name; fall back to the DN's CN for display. */
static void sendmail_names(struct tt_tls *s, const struct tt_macros *m)
{
    char cn[TT_NAME_MAX];

    s->issuer_usable = present(m->cert_issuer) &&
                       tt_xtext_decode(m->cert_issuer, s->issuer, sizeof(s->issuer)) > 0;
    if (!s->issuer_usable) {
        s->issuer[0] = '\0';
        if (present(m->cert_issuer))
            s->anomaly = "undecodable {cert_issuer}";
    }
    if (present(m->cn_issuer) && strncmp(m->cn_issuer, "BadCertificate", 14) != 0 &&
        tt_xtext_decode(m->cn_issuer, cn, sizeof(cn)) > 0)
        copy_bounded(s->issuer_display, sizeof(s->issuer_display), cn);
    else if (s->issuer_usable && tt_dn_attr(s->issuer, "CN", cn, sizeof(cn)) > 0)
        copy_bounded(s->issuer_display, sizeof(s->issuer_display), cn);
    else if (s->issuer_usable && tt_dn_attr(s->issuer, "O", cn, sizeof(cn)) > 0)
        copy_bounded(s->issuer_display, sizeof(s->issuer_display), cn);
    else
        copy_bounded(s->issuer_display, sizeof(s->issuer_display), s->issuer);

    if (present(m->cn_subject) && strncmp(m->cn_subject, "BadCertificate", 14) != 0 &&
        tt_xtext_decode(m->cn_subject, cn, sizeof(cn)) > 0) {
        copy_bounded(s->subject_cn, sizeof(s->subject_cn), cn);
    } else if (present(m->cert_subject)) {
        char dn[TT_NAME_MAX];

        if (tt_xtext_decode(m->cert_subject, dn, sizeof(dn)) > 0 &&
            tt_dn_attr(dn, "CN", cn, sizeof(cn)) > 0)
            copy_bounded(s->subject_cn, sizeof(s->subject_cn), cn);
    }
    if (present(m->verify)) {
        copy_bounded(s->verify, sizeof(s->verify), m->verify);
        s->verified = strcmp(m->verify, "OK") == 0 || strcmp(m->verify, "TRUSTED") == 0;
    } else if (present(m->cert_issuer)) {
        s->anomaly = "{cert_issuer} without {verify}: treated as not verified";
    }
}

/* Postfix: plain UTF-8 names, present only for a verified certificate. */
static void postfix_names(struct tt_tls *s, const struct tt_macros *m)
{
    if (!present(m->cert_issuer))
        return;
    s->verified = true;
    s->issuer_usable = copy_bounded(s->issuer, sizeof(s->issuer), m->cert_issuer);
    copy_bounded(s->issuer_display, sizeof(s->issuer_display), m->cert_issuer);
    if (present(m->cert_subject))
        copy_bounded(s->subject_cn, sizeof(s->subject_cn), m->cert_subject);
    if (!s->issuer_usable)
        s->anomaly = "{cert_issuer} too long";
}

void tt_tls_capture(struct tt_tls *s, const struct tt_macros *m, enum tt_dialect dialect,
                    const struct tt_trust *trust)
{
    const struct tt_network *net;

    memset(s, 0, sizeof(*s));
    s->bits = -1;
    s->level = TT_LEVEL_NONE;
    s->dialect = pick_dialect(m, dialect);
    s->tls = present(m->tls_version) || present(m->cipher);
    if (!s->tls)
        return;
    if (present(m->tls_version))
        copy_bounded(s->version, sizeof(s->version), m->tls_version);
    if (present(m->cipher))
        copy_bounded(s->cipher, sizeof(s->cipher), m->cipher);
    s->bits = parse_bits(m->cipher_bits);
    if (s->dialect == TT_DIALECT_SENDMAIL)
        sendmail_names(s, m);
    else
        postfix_names(s, m);
    s->level = TT_LEVEL_ENCRYPTED;
    if (!s->verified)
        return;
    s->level = TT_LEVEL_VERIFIED;
    if (!s->issuer_usable)
        return;
    net = tt_trust_match(trust, s->dialect, s->issuer, NULL);
    if (net != NULL) {
        s->level = TT_LEVEL_TRUSTED;
        copy_bounded(s->network, sizeof(s->network), net->name);
    }
}
