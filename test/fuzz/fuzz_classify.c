/*
 * fuzz_classify.c - the whole classify-and-decide path: macros ->
 * tt_tls_capture -> tt_policy_eval on every rule of a fixed table ->
 * tt_policy_merge -> tt_tag_value and tt_authres_value.
 *
 * Input: byte 0 chooses the configured dialect (auto, postfix, sendmail);
 * the rest is split at NUL bytes into up to nine macro values, in the
 * order of struct tt_macros: v, {tls_version}, {cipher}, {cipher_bits},
 * {cert_subject}, {cert_issuer}, {cn_subject}, {cn_issuer}, {verify}. An
 * empty or missing field is a macro the MTA did not send (NULL).
 * Properties:
 *  - no TLS macros: level none, nothing verified;
 *  - trusted implies verified, issuer_usable, and a network name that
 *    tt_trust_match() gives again for the issuer;
 *  - Sendmail dialect with {verify} other than OK or TRUSTED: not
 *    verified, level below verified (a rogue CA with a copied DN must not
 *    pass); Postfix dialect: verified exactly when {cert_issuer} was sent;
 *  - every rule: no result exactly for requirement none; a failure has a
 *    reason, no TLS fails every requirement; a pass meets the level, the
 *    network, the version, the bits and a subject pattern; a refusing
 *    verdict's SMTP reply text is printable ASCII without '%'; a subject
 *    pattern "*.d" matches exactly one more leftmost label (checked
 *    against a separate reading of tlstrust-domains(5));
 *  - the tag is shorter than TT_TAG_MAX, equals strlen (no NUL), holds no
 *    CR or LF, and reads back as "LEVEL(; key=value)*" with LEVEL the
 *    level name, known keys in their fixed order, each at most once, and
 *    each value a token or one quoted-string (a peer cannot inject a
 *    pair); subject and issuer appear only when verified, network exactly
 *    when trusted; the TT_TAG_MAX buffer drops no field (same text as with
 *    a 4 KiB buffer);
 *  - the Authentication-Results value: no CR, LF or NUL, shorter than its
 *    buffer, starting with "AUTHSERV; x-tls=pass" or "...=none", and
 *    tt_authres_is_ours() recognises it as ours (the milter deletes
 *    incoming copies with that test); tt_authres_is_ours() on the first
 *    field as an incoming header value (comments, folding): true when the
 *    value starts with the authserv-id followed by ';', a blank or its
 *    end, and never true for two different authserv-ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domtable.h"
#include "escape.h"
#include "fuzz_common.h"
#include "policy.h"
#include "tag.h"
#include "tls_state.h"

#define AUTHSERV "mx.receiver.test"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char table_text[] =
    "none.test          none\n"
    "encrypt.test       encrypt            reject\n"
    "verify.test        verify             monitor\n"
    "trusted.test       trusted\n"
    "ministerio.test    trusted:redsegura  defer   subject=*.ministerio.test,mail.ministerio.test\n"
    "universidad.test   trusted:universidad\n"
    "to:tls12.test      encrypt            min_version=TLSv1.2 min_bits=128\n"
    "to:tls13.test      verify             reject  min_version=TLSv1.3 "
    "reply=\"TLS 1.3 with a certificate required\"\n"
    "to:.secretaria.test trusted           monitor min_bits=256 subject=relay.secretaria.test\n"
    "client:192.0.2.0/24 trusted           reject  subject=mx.example.org\n"
    "client:.relay.test encrypt            min_bits=256\n";

static const struct {
    enum tt_key_type type;
    const char *key; /* a domain, or an address for client: CIDR rules */
} rule_keys[] = {
    {TT_KEY_FROM, "none.test"},        {TT_KEY_FROM, "encrypt.test"},
    {TT_KEY_FROM, "verify.test"},      {TT_KEY_FROM, "trusted.test"},
    {TT_KEY_FROM, "ministerio.test"},  {TT_KEY_FROM, "universidad.test"},
    {TT_KEY_TO, "tls12.test"},         {TT_KEY_TO, "tls13.test"},
    {TT_KEY_TO, "x.secretaria.test"},  {TT_KEY_CLIENT, "192.0.2.7"},
    {TT_KEY_CLIENT, "mx1.relay.test"},
};
#define NRULES (sizeof(rule_keys) / sizeof(rule_keys[0]))

static const struct tt_trust *trust;
static struct tt_table *table; /* kept for the life of the process, as the daemon's is */
static const struct tt_rule *rules[NRULES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[1024];
    FILE *f;
    size_t i;

    (void)argc;
    (void)argv;
    trust = fz_trust();
    f = fz_open((const uint8_t *)table_text, strlen(table_text));
    table = tt_table_load_stream(f, "classify-table", trust, err, sizeof(err));
    fz_close(f);
    if (table == NULL) {
        fprintf(stderr, "fuzz_classify: %s\n", err);
        abort();
    }
    FZ_CHECK(tt_table_count(table) == NRULES);
    for (i = 0; i < NRULES; i++) {
        if (rule_keys[i].type == TT_KEY_CLIENT && rule_keys[i].key[0] >= '0' &&
            rule_keys[i].key[0] <= '9') {
            struct tt_cidr a;

            FZ_CHECK(tt_ip_parse(rule_keys[i].key, &a));
            rules[i] = tt_table_lookup_addr(table, &a);
        } else {
            rules[i] = tt_table_lookup_domain(table, rule_keys[i].type, rule_keys[i].key);
        }
        FZ_CHECK(rules[i] != NULL);
    }
    return 0;
}

static bool present(const char *v)
{
    return v != NULL && *v != '\0';
}

static void check_state(const struct tt_tls *s, const struct tt_macros *m)
{
    FZ_CHECK(s->level >= TT_LEVEL_NONE && s->level <= TT_LEVEL_TRUSTED);
    FZ_CHECK(strnlen(s->version, sizeof(s->version)) < sizeof(s->version));
    FZ_CHECK(strnlen(s->cipher, sizeof(s->cipher)) < sizeof(s->cipher));
    FZ_CHECK(strnlen(s->verify, sizeof(s->verify)) < sizeof(s->verify));
    FZ_CHECK(strnlen(s->issuer, sizeof(s->issuer)) < sizeof(s->issuer));
    FZ_CHECK(strnlen(s->issuer_display, sizeof(s->issuer_display)) < sizeof(s->issuer_display));
    FZ_CHECK(strnlen(s->subject_cn, sizeof(s->subject_cn)) < sizeof(s->subject_cn));
    FZ_CHECK(strnlen(s->network, sizeof(s->network)) < sizeof(s->network));
    FZ_CHECK(s->bits >= -1 && s->bits <= 99999);
    FZ_CHECK(s->dialect == TT_DIALECT_POSTFIX || s->dialect == TT_DIALECT_SENDMAIL);

    if (!present(m->tls_version) && !present(m->cipher)) {
        FZ_CHECK(!s->tls && s->level == TT_LEVEL_NONE && !s->verified);
        return;
    }
    FZ_CHECK(s->tls && s->level >= TT_LEVEL_ENCRYPTED);
    FZ_CHECK((s->level >= TT_LEVEL_VERIFIED) == s->verified);
    FZ_CHECK((s->level == TT_LEVEL_TRUSTED) == (s->network[0] != '\0'));
    if (s->level == TT_LEVEL_TRUSTED) {
        const struct tt_network *n;

        FZ_CHECK(s->verified && s->issuer_usable);
        n = tt_trust_match(trust, s->dialect, s->issuer, NULL);
        FZ_CHECK(n != NULL && strcmp(n->name, s->network) == 0);
    }
    if (s->dialect == TT_DIALECT_SENDMAIL &&
        !(present(m->verify) &&
          (strcmp(m->verify, "OK") == 0 || strcmp(m->verify, "TRUSTED") == 0)))
        FZ_CHECK(!s->verified && s->level < TT_LEVEL_VERIFIED);
    if (s->dialect == TT_DIALECT_POSTFIX)
        FZ_CHECK(s->verified == present(m->cert_issuer));
}

/*
 * tlstrust-domains(5), written apart from tt_host_match(): "*.d" is one
 * non-empty label, a dot, then d; any other pattern equals the name. Case
 * and one trailing dot on either side do not count.
 */
static bool spec_host_match(const char *pattern, const char *host)
{
    char p[TT_NAME_MAX], h[TT_NAME_MAX];
    const char *dot;
    size_t n;

    snprintf(p, sizeof(p), "%s", pattern);
    snprintf(h, sizeof(h), "%s", host);
    if ((n = strlen(p)) > 0 && p[n - 1] == '.')
        p[n - 1] = '\0';
    if ((n = strlen(h)) > 0 && h[n - 1] == '.')
        h[n - 1] = '\0';
    if (p[0] == '\0' || h[0] == '\0')
        return false;
    if (strncmp(p, "*.", 2) != 0)
        return strcasecmp(p, h) == 0;
    dot = strchr(h, '.');
    return dot != NULL && dot != h && strcasecmp(dot + 1, p + 2) == 0;
}

static void check_verdict(const struct tt_rule *r, const struct tt_tls *s,
                          const struct tt_verdict *v)
{
    static const enum tt_level need[] = {TT_LEVEL_NONE, TT_LEVEL_ENCRYPTED, TT_LEVEL_VERIFIED,
                                         TT_LEVEL_TRUSTED};
    size_t i;

    for (i = 0; r->subjects != NULL && r->subjects[i] != NULL; i++)
        FZ_CHECK(tt_host_match(r->subjects[i], s->subject_cn) ==
                 spec_host_match(r->subjects[i], s->subject_cn));
    FZ_CHECK((v->result == TT_RESULT_NONE) == (r->req == TT_REQ_NONE));
    if (v->result == TT_RESULT_NONE)
        return;
    FZ_CHECK(v->rule == r);
    FZ_CHECK(v->action != TT_ACTION_UNSET);
    FZ_CHECK((v->result == TT_RESULT_FAIL) == (v->reason != NULL));
    if (!s->tls)
        FZ_CHECK(v->result == TT_RESULT_FAIL && v->no_tls);
    if (v->result == TT_RESULT_PASS) {
        FZ_CHECK(s->level >= need[r->req]);
        FZ_CHECK(r->network == NULL ||
                 (s->issuer_usable && tt_trust_match(trust, s->dialect, s->issuer, r->network)));
        FZ_CHECK(r->min_version == 0 || tt_tls_version_number(s->version) >= r->min_version);
        FZ_CHECK(r->min_bits == 0 || s->bits >= r->min_bits);
        if (r->subjects != NULL) {
            FZ_CHECK(s->verified);
            for (i = 0; r->subjects[i] != NULL; i++)
                if (tt_host_match(r->subjects[i], s->subject_cn))
                    break;
            FZ_CHECK(r->subjects[i] != NULL);
        }
    }
    if (tt_policy_refuses(v)) {
        const char *rcode, *xcode, *text, *p;

        tt_policy_reply(v, &rcode, &xcode, &text);
        FZ_CHECK(rcode != NULL && xcode != NULL && text != NULL && text[0] != '\0');
        for (p = text; *p != '\0'; p++)
            FZ_CHECK(*p >= 0x20 && *p <= 0x7E && *p != '%');
    }
}

/* Parse the tag back: "LEVEL(; key=value)*", known keys in order, values token or quoted. */
static void check_tag(const char *tag, size_t len, const struct tt_tls *s)
{
    static const char *keys[] = {"network", "version", "cipher", "bits", "subject",    "issuer",
                                 "verify",  "policy",  "action", "rule", "authserv-id"};
    const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
    const char *p = tag, *level = tt_level_name(s->level);
    size_t next = 0;
    bool seen[sizeof(keys) / sizeof(keys[0])] = {false};

    FZ_CHECK(len == strlen(tag));
    FZ_CHECK(len < TT_TAG_MAX);
    FZ_CHECK(strpbrk(tag, "\r\n") == NULL);
    FZ_CHECK(strncmp(p, level, strlen(level)) == 0);
    p += strlen(level);
    while (*p != '\0') {
        const char *eq, *v;
        size_t k, vl;

        FZ_CHECK(p[0] == ';' && p[1] == ' ');
        p += 2;
        eq = strchr(p, '=');
        FZ_CHECK(eq != NULL);
        for (k = next; k < nkeys; k++)
            if ((size_t)(eq - p) == strlen(keys[k]) && strncmp(p, keys[k], strlen(keys[k])) == 0)
                break;
        FZ_CHECK(k < nkeys); /* a known key, after the previous one */
        seen[k] = true;
        next = k + 1;
        v = eq + 1;
        if (*v == '"') {
            /* The quoted-string ends at the first unescaped '"'. */
            for (vl = 1; v[vl] != '\0' && v[vl] != '"'; vl++)
                if (v[vl] == '\\' && v[vl + 1] != '\0')
                    vl++;
            FZ_CHECK(v[vl] == '"');
            vl++;
            FZ_CHECK(fz_is_quoted(v, vl));
        } else {
            char tok[TT_TAG_MAX];

            vl = strcspn(v, ";");
            FZ_CHECK(vl < sizeof(tok));
            memcpy(tok, v, vl);
            tok[vl] = '\0';
            FZ_CHECK(tt_is_token(tok, vl));
        }
        p = v + vl;
    }
    FZ_CHECK(seen[7] && seen[10]); /* policy and authserv-id are always there */
    FZ_CHECK(seen[0] == (s->level == TT_LEVEL_TRUSTED));
    FZ_CHECK(s->verified || (!seen[4] && !seen[5]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum tt_dialect dialects[] = {TT_DIALECT_AUTO, TT_DIALECT_POSTFIX,
                                               TT_DIALECT_SENDMAIL};
    struct tt_macros m;
    const char **fields[] = {&m.mta_version, &m.tls_version,  &m.cipher,
                             &m.cipher_bits, &m.cert_subject, &m.cert_issuer,
                             &m.cn_subject,  &m.cn_issuer,    &m.verify};
    struct tt_tls s;
    struct tt_verdict acc, v;
    char tag[TT_TAG_MAX], big[4096], ar[TT_TAG_MAX];
    char *buf, *p, *end;
    size_t i, len, blen;
    bool ours;

    if (size < 1)
        return 0;
    memset(&m, 0, sizeof(m));
    buf = fz_strdup(data + 1, size - 1);
    p = buf;
    end = buf + size - 1;
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]) && p < end; i++) {
        *fields[i] = *p != '\0' ? p : NULL;
        p += strlen(p) + 1;
    }

    tt_tls_capture(&s, &m, dialects[data[0] % 3], trust);
    check_state(&s, &m);

    memset(&acc, 0, sizeof(acc));
    for (i = 0; i < NRULES; i++) {
        tt_policy_eval(rules[i], &s, trust, TT_ACTION_DEFER, &v);
        check_verdict(rules[i], &s, &v);
        tt_policy_merge(&acc, &v);
    }
    FZ_CHECK(!tt_policy_refuses(&acc) || acc.result == TT_RESULT_FAIL);

    len = tt_tag_value(tag, sizeof(tag), &s, &acc, AUTHSERV);
    check_tag(tag, len, &s);
    blen = tt_tag_value(big, sizeof(big), &s, &acc, AUTHSERV);
    FZ_CHECK(blen == len && strcmp(big, tag) == 0);

    len = tt_authres_value(ar, sizeof(ar), &s, AUTHSERV);
    FZ_CHECK(len == strlen(ar) && len < sizeof(ar));
    FZ_CHECK(strpbrk(ar, "\r\n") == NULL);
    FZ_CHECK(strncmp(ar, AUTHSERV "; x-tls=", strlen(AUTHSERV "; x-tls=")) == 0);
    FZ_CHECK(strncmp(ar + strlen(AUTHSERV "; x-tls="), s.tls ? "pass" : "none", 4) == 0);
    FZ_CHECK(tt_authres_is_ours(ar, AUTHSERV));
    /* The first field as an incoming Authentication-Results value. */
    ours = tt_authres_is_ours(buf, AUTHSERV);
    FZ_CHECK(!(ours && tt_authres_is_ours(buf, "other.example")));
    if (strncasecmp(buf, AUTHSERV, strlen(AUTHSERV)) == 0 &&
        strchr("; \t", buf[strlen(AUTHSERV)]) != NULL)
        FZ_CHECK(ours);
    free(buf);
    return 0;
}
