/*
 * rule.c - see rule.h: the requirement, action and attribute grammar of
 * every rule, wherever it is written.
 */
#include "rule.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "tls_state.h"

static bool rfail(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool rfail(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return false;
}

static char *store_strndup(const struct tt_rule_store *st, const char *s, size_t n)
{
    char *d = st->alloc(st->owner, n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

bool tt_rule_set_req(struct tt_rule *r, const char *text, const struct tt_trust *trust, char *err,
                     size_t errsz)
{
    static const struct {
        const char *name;
        enum tt_req req;
    } reqs[] = {{"none", TT_REQ_NONE},
                {"encrypt", TT_REQ_ENCRYPT},
                {"verify", TT_REQ_VERIFY},
                {"trusted", TT_REQ_TRUSTED}};
    size_t i;

    r->network = NULL;
    for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
        if (strcasecmp(text, reqs[i].name) == 0) {
            r->req = reqs[i].req;
            return true;
        }
    if (strncasecmp(text, "trusted:", 8) == 0) {
        const struct tt_network *n = tt_trust_find(trust, text + 8);

        if (n == NULL)
            return rfail(err, errsz, "unknown network '%s' (no TrustedNetwork of that name)",
                         text + 8);
        r->req = TT_REQ_TRUSTED;
        r->network = n->name; /* lives as long as the configuration that owns both */
        return true;
    }
    return rfail(err, errsz,
                 "unknown requirement '%s' (none, encrypt, verify, trusted, trusted:NETWORK)",
                 text);
}

bool tt_rule_set_action(struct tt_rule *r, const char *text, char *err, size_t errsz)
{
    int a = tt_action_from_name(text);

    if (a < 0)
        return rfail(err, errsz, "unknown action '%s' (reject, defer, monitor)", text);
    r->action = (enum tt_action)a;
    return true;
}

/* subject=PATTERN[,PATTERN...]: host names, or "*.domain" for one label. */
static bool set_subjects(struct tt_rule *r, const char *v, const struct tt_rule_store *st,
                         char *err, size_t errsz)
{
    size_t n = 1, i = 0;
    const char *s;
    const char **list;

    for (s = v; *s != '\0'; s++)
        n += *s == ',';
    list = st->alloc(st->owner, (n + 1) * sizeof(*list));
    if (list == NULL)
        return rfail(err, errsz, "out of memory");
    for (s = v;; s++) {
        const char *e = strchr(s, ',');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        char pat[300];

        if (len == 0 || len >= sizeof(pat))
            return rfail(err, errsz, "empty or too long subject pattern");
        memcpy(pat, s, len);
        pat[len] = '\0';
        tt_domain_normalize(pat);
        if (!tt_is_dns_name(strncmp(pat, "*.", 2) == 0 ? pat + 2 : pat, true))
            return rfail(err, errsz, "invalid subject pattern '%s' (host name or *.domain)", pat);
        list[i] = store_strndup(st, pat, strlen(pat));
        if (list[i++] == NULL)
            return rfail(err, errsz, "out of memory");
        if (e == NULL)
            break;
        s = e;
    }
    list[i] = NULL;
    r->subjects = list;
    return true;
}

bool tt_rule_set_attr(struct tt_rule *r, const char *name, const char *v, unsigned int *seen,
                      const struct tt_rule_store *st, char *err, size_t errsz)
{
    static const char *names[] = {"min_version", "min_bits", "subject", "reply", "identity"};
    unsigned int i;

    for (i = 0; i < 5; i++)
        if (strcasecmp(name, names[i]) == 0)
            break;
    if (i == 5)
        return rfail(err, errsz,
                     "unknown attribute '%s' (min_version, min_bits, subject, reply, identity)",
                     name);
    if (*seen & (1u << i))
        return rfail(err, errsz, "attribute '%s' given twice", names[i]);
    *seen |= 1u << i;
    if (*v == '\0')
        return rfail(err, errsz, "attribute '%s' has an empty value", names[i]);
    switch (i) {
    case 0:
        r->min_version = tt_tls_version_number(v);
        if (r->min_version == 0)
            return rfail(err, errsz, "unknown TLS version '%s' (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)",
                         v);
        return true;
    case 1: {
        char *end;
        long b;

        errno = 0;
        b = strtol(v, &end, 10);
        if (*end != '\0' || errno != 0 || b < 1 || b > 65535 || v[0] < '0' || v[0] > '9')
            return rfail(err, errsz, "min_bits must be a number from 1 to 65535, got '%s'", v);
        r->min_bits = (int)b;
        return true;
    }
    case 2:
        return set_subjects(r, v, st, err, errsz);
    case 3: {
        const unsigned char *c;

        if (strlen(v) > TT_REPLY_MAX)
            return rfail(err, errsz, "reply text longer than %d bytes", TT_REPLY_MAX);
        /* The text goes into an SMTP reply: printable ASCII, no '%' (a libmilter format). */
        for (c = (const unsigned char *)v; *c != '\0'; c++)
            if (*c < 0x20 || *c > 0x7E || *c == '%')
                return rfail(err, errsz, "reply text may hold printable ASCII only, without '%%'");
        r->reply = store_strndup(st, v, strlen(v));
        return r->reply != NULL || rfail(err, errsz, "out of memory");
    }
    default:
        if (strcasecmp(v, "dns") != 0)
            return rfail(err, errsz, "identity must be 'dns', got '%s'", v);
        /* Judged at MAIL FROM, where the client is known: not on to: rules. */
        if (r->type == TT_KEY_TO)
            return rfail(err, errsz, "identity=dns applies to from: and client: rules only");
        r->identity_dns = true;
        return true;
    }
}

bool tt_rule_check(const struct tt_rule *r, unsigned int seen, char *err, size_t errsz)
{
    if (r->req == TT_REQ_NONE && (seen != 0 || r->action != TT_ACTION_UNSET))
        return rfail(err, errsz, "requirement 'none' takes no action or attributes");
    return true;
}
