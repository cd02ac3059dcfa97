/*
 * address.c - the domains an envelope address stands for. The parser is
 * as tolerant as the MTAs it sits behind (Postfix and Sendmail accept
 * blanks and comments inside the brackets, doubled brackets, source routes
 * and trailing dots, and route the address they parse from that), and
 * strict about where the domain begins: the last '@' outside a quoted
 * local part. Every domain leaves in one canonical form (A-labels, lower
 * case, no trailing dot) or not at all.
 */
#include "address.h"

#include <idn2.h>
#include <string.h>

/* Comments nest; deeper nesting than this is refused rather than followed. */
#define MAX_COMMENT_DEPTH 32

void tt_domain_normalize(char *d)
{
    size_t n;

    for (n = 0; d[n] != '\0'; n++)
        if (d[n] >= 'A' && d[n] <= 'Z')
            d[n] = (char)(d[n] - 'A' + 'a');
    /* Every trailing dot: "example.org.." must not slip past a rule for example.org. */
    while (n > 0 && d[n - 1] == '.')
        d[--n] = '\0';
}

bool tt_is_dns_name(const char *d, bool utf8)
{
    size_t total = 0, label = 0;

    for (; *d != '\0'; d++, total++) {
        unsigned char c = (unsigned char)*d;

        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || (utf8 && c >= 0x80)))
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0 && total <= 253;
}

static bool has_non_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

bool tt_domain_canonical(const char *in, char *out, size_t outsz)
{
    char tmp[TT_DOMAIN_MAX];
    size_t n;

    if (outsz == 0)
        return false;
    out[0] = '\0';
    if (in == NULL || (n = strlen(in)) >= sizeof(tmp))
        return false;
    memcpy(tmp, in, n + 1);
    tt_domain_normalize(tmp);
    if (has_non_ascii(tmp)) {
        char *ace = NULL;

        /*
         * UTS #46 mapping folds case and look-alike dots (U+3002 ...), so
         * every spelling the resolver would treat as one name meets the
         * same table key. Invalid UTF-8 or a disallowed code point fails.
         */
        if (idn2_to_ascii_8z(tmp, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
            return false;
        n = strlen(ace);
        if (n >= sizeof(tmp)) {
            idn2_free(ace);
            return false;
        }
        memcpy(tmp, ace, n + 1);
        idn2_free(ace);
        tt_domain_normalize(tmp);
    }
    if (!tt_is_dns_name(tmp, false) || strlen(tmp) >= outsz)
        return false;
    memcpy(out, tmp, strlen(tmp) + 1);
    return true;
}

/*
 * Copy addr into buf without the blanks and comments that stand outside
 * quoted strings. False for an unterminated quote or comment, comments
 * nested too deep, or an address longer than bufsz.
 */
static bool strip_cfws(const char *addr, char *buf, size_t bufsz)
{
    size_t n = 0;
    int depth = 0;
    bool quoted = false;
    const char *p;

    for (p = addr; *p != '\0'; p++) {
        if (depth > 0) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '(' && ++depth > MAX_COMMENT_DEPTH)
                return false;
            else if (*p == ')')
                depth--;
            continue;
        }
        if (!quoted && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            continue;
        if (!quoted && *p == '(') {
            depth = 1;
            continue;
        }
        if (n + 2 >= bufsz)
            return false;
        if (*p == '\\' && p[1] != '\0') {
            buf[n++] = *p++;
        } else if (*p == '"') {
            quoted = !quoted;
        }
        buf[n++] = *p;
    }
    buf[n] = '\0';
    return !quoted && depth == 0;
}

/* Index of the last '@' outside quotes, or -1; -2 when '<' or '>' is left there. */
static long last_at(const char *s)
{
    long at = -1, i;
    bool quoted = false;

    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '\\' && s[i + 1] != '\0')
            i++;
        else if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && s[i] == '@')
            at = i;
        else if (!quoted && (s[i] == '<' || s[i] == '>'))
            return -2;
    }
    return at;
}

/* The local part s[0..n) without quotes and with escapes resolved. */
static void unquote_local(const char *s, size_t n, char *local, size_t localsz)
{
    size_t i, o = 0;

    if (local == NULL || localsz == 0)
        return;
    for (i = 0; i < n && o + 1 < localsz; i++) {
        if (s[i] == '\\' && i + 1 < n)
            local[o++] = s[++i];
        else if (s[i] != '"')
            local[o++] = s[i];
    }
    local[i == n ? o : 0] = '\0';
}

enum tt_addr_kind tt_addr_split(const char *addr, char *out, size_t outsz, char *local,
                                size_t localsz)
{
    char buf[TT_ADDRESS_MAX], dom[TT_DOMAIN_MAX];
    char *s, *e;
    long at;
    size_t n;

    if (local != NULL && localsz > 0)
        local[0] = '\0';
    if (out == NULL || outsz == 0)
        return TT_ADDR_INVALID;
    out[0] = '\0';
    if (addr == NULL)
        return TT_ADDR_NULL;
    if (!strip_cfws(addr, buf, sizeof(buf)))
        return TT_ADDR_INVALID;
    /* "<<a@x>>" is routed like "<a@x>": drop balanced brackets, refuse the rest. */
    s = buf;
    e = buf + strlen(buf);
    while (s < e && *s == '<') {
        if (e[-1] != '>')
            return TT_ADDR_INVALID;
        s++;
        e--;
    }
    *e = '\0';
    if (s == e)
        return TT_ADDR_NULL;
    /* A source route "@a,@b:user@domain" is obsolete; its hops are not the domain. */
    if (*s == '@') {
        char *colon = strchr(s, ':');

        if (colon == NULL)
            return TT_ADDR_INVALID;
        s = colon + 1;
    }
    at = last_at(s);
    if (at == -2)
        return TT_ADDR_INVALID;
    unquote_local(s, at < 0 ? strlen(s) : (size_t)at, local, localsz);
    if (at < 0)
        return TT_ADDR_NODOMAIN;
    n = strlen(s + at + 1);
    if (n >= sizeof(dom))
        return TT_ADDR_INVALID;
    memcpy(dom, s + at + 1, n + 1);
    if (dom[0] == '[') {
        if (dom[n - 1] != ']' || n >= outsz)
            return TT_ADDR_INVALID;
        memcpy(out, dom, n + 1);
        return TT_ADDR_LITERAL;
    }
    tt_domain_normalize(dom);
    if (dom[0] == '\0')
        return TT_ADDR_NODOMAIN;
    if (!tt_domain_canonical(dom, out, outsz))
        return TT_ADDR_INVALID;
    return TT_ADDR_DOMAIN;
}

enum tt_addr_kind tt_addr_domain(const char *addr, char *out, size_t outsz)
{
    return tt_addr_split(addr, out, outsz, NULL, 0);
}

static void add_domain(struct tt_envelope *env, const char *d)
{
    size_t i;

    for (i = 0; i < env->n; i++)
        if (strcmp(env->domain[i], d) == 0)
            return;
    if (env->n < TT_ENVELOPE_DOMAINS)
        memcpy(env->domain[env->n++], d, strlen(d) + 1);
}

/*
 * Where a percent hack ("u%dom", the rightmost '%') or a bang path
 * ("dom!u", the first hop) in a local part could send the message, when
 * the MTA is configured to honour them. Names that are not DNS names route
 * nowhere and are skipped.
 */
static void add_hops(struct tt_envelope *env, const char *local)
{
    char d[TT_DNSNAME_MAX], hop[TT_DOMAIN_MAX];
    const char *pct = strrchr(local, '%'), *bang = strchr(local, '!');

    if (pct != NULL && tt_domain_canonical(pct + 1, d, sizeof(d)))
        add_domain(env, d);
    if (bang != NULL && (size_t)(bang - local) < sizeof(hop)) {
        memcpy(hop, local, (size_t)(bang - local));
        hop[bang - local] = '\0';
        if (tt_domain_canonical(hop, d, sizeof(d)))
            add_domain(env, d);
    }
}

void tt_envelope_domains(const char *raw, const char *parsed, bool routing, struct tt_envelope *env)
{
    const char *forms[2] = {parsed, raw};
    enum tt_addr_kind kinds[2] = {TT_ADDR_NULL, TT_ADDR_NULL};
    char d[TT_DOMAIN_MAX], local[TT_ADDRESS_MAX];
    size_t i;

    env->n = 0;
    for (i = 0; i < 2; i++) {
        if (i == 0 && parsed == NULL)
            continue;
        kinds[i] = tt_addr_split(forms[i], d, sizeof(d), local, sizeof(local));
        if (kinds[i] == TT_ADDR_INVALID) {
            env->n = 0;
            env->kind = TT_ADDR_INVALID;
            return;
        }
        if (kinds[i] == TT_ADDR_DOMAIN)
            add_domain(env, d);
        if (routing)
            add_hops(env, local);
    }
    env->kind = env->n > 0 ? TT_ADDR_DOMAIN : parsed != NULL ? kinds[0] : kinds[1];
}
