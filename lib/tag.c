/*
 * tag.c - the header values tlstrust adds. Each peer-supplied value is
 * escaped by escape.c and capped, so the whole tag stays within one
 * 998-byte header line and holds no CR, LF or NUL.
 */
#include "tag.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "escape.h"

/* Caps on each value, chosen so that the sum stays well under 998 bytes. */
#define CAP_SHORT 48
#define CAP_NAME 128

size_t tt_tag_value(char *out, size_t outsz, const struct tt_tls *s, const struct tt_verdict *v,
                    const char *authserv_id)
{
    static const char *results[] = {"none", "pass", "fail"};
    size_t len;
    char bits[16];

    len = (size_t)snprintf(out, outsz, "%s", tt_level_name(s->level));
    if (len >= outsz)
        return 0;
    if (s->network[0] != '\0')
        tt_append_pair(out, outsz, &len, "network", s->network, CAP_SHORT, false);
    if (s->tls) {
        if (s->version[0] != '\0')
            tt_append_pair(out, outsz, &len, "version", s->version, CAP_SHORT, false);
        if (s->cipher[0] != '\0')
            tt_append_pair(out, outsz, &len, "cipher", s->cipher, CAP_SHORT, false);
        if (s->bits >= 0) {
            snprintf(bits, sizeof(bits), "%d", s->bits);
            tt_append_pair(out, outsz, &len, "bits", bits, CAP_SHORT, false);
        }
    }
    if (s->verified) {
        if (s->subject_cn[0] != '\0')
            tt_append_pair(out, outsz, &len, "subject", s->subject_cn, CAP_NAME, true);
        if (s->issuer_display[0] != '\0')
            tt_append_pair(out, outsz, &len, "issuer", s->issuer_display, CAP_NAME, true);
    }
    if (s->verify[0] != '\0')
        tt_append_pair(out, outsz, &len, "verify", s->verify, CAP_SHORT, false);
    tt_append_pair(out, outsz, &len, "policy", results[v != NULL ? v->result : 0], CAP_SHORT,
                   false);
    if (v != NULL && v->result == TT_RESULT_FAIL)
        tt_append_pair(out, outsz, &len, "action", tt_action_name(v->action), CAP_SHORT, false);
    if (v != NULL && v->rule != NULL)
        tt_append_pair(out, outsz, &len, "rule", v->rule->key, CAP_NAME, true);
    tt_append_pair(out, outsz, &len, "authserv-id", authserv_id, 128, false);
    return len;
}

/* Append " name=value" (RFC 8601 property: a token, else a quoted string). */
static void add_prop(char *out, size_t outsz, size_t *len, const char *name, const char *value)
{
    char v[CAP_SHORT + 8];
    int w;

    if (tt_is_token(value, CAP_SHORT))
        memcpy(v, value, strlen(value) + 1);
    else
        tt_escape_quoted(value, strlen(value), v, sizeof(v));
    if (*len >= outsz)
        return;
    w = snprintf(out + *len, outsz - *len, " %s=%s", name, v);
    *len = w < 0 ? outsz : *len + (size_t)w;
}

size_t tt_authres_value(char *out, size_t outsz, const struct tt_tls *s, const char *authserv_id)
{
    size_t len;
    char bits[16];
    int w;

    w = snprintf(out, outsz, "%s; x-tls=%s", authserv_id, s->tls ? "pass" : "none");
    len = w < 0 ? outsz : (size_t)w;
    if (s->tls && s->version[0] != '\0')
        add_prop(out, outsz, &len, "smtp.version", s->version);
    if (s->tls && s->cipher[0] != '\0')
        add_prop(out, outsz, &len, "smtp.cipher", s->cipher);
    if (s->tls && s->bits >= 0) {
        snprintf(bits, sizeof(bits), "%d", s->bits);
        add_prop(out, outsz, &len, "smtp.bits", bits);
    }
    if (len >= outsz) {
        out[0] = '\0';
        return 0;
    }
    return len;
}

/* Skip blanks, line breaks and (nested) comments. */
static const char *skip_cfws(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p != '(')
            return p;
        {
            int depth = 0;

            do {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                else if (*p == '(')
                    depth++;
                else if (*p == ')')
                    depth--;
                p++;
            } while (depth > 0 && *p != '\0');
        }
    }
}

/*
 * The authserv-id at p, unquoted into id (idsz bytes): RFC 8601 allows a
 * quoted-string, so "\"mx.example\"" names the same server as mx.example.
 * An unterminated quote ends with the value: a lenient reader downstream
 * could still take it for ours. False when it does not fit (ours does).
 */
static bool read_authserv_id(const char *p, char *id, size_t idsz)
{
    size_t n = 0;

    if (*p == '"') {
        for (p++; *p != '"' && *p != '\0'; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            if (n + 1 >= idsz)
                return false;
            id[n++] = *p;
        }
    } else {
        for (; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t' && *p != '(' && *p != '\r' &&
               *p != '\n';
             p++) {
            if (n + 1 >= idsz)
                return false;
            id[n++] = *p;
        }
    }
    id[n] = '\0';
    return true;
}

bool tt_authres_is_ours(const char *value, const char *authserv_id)
{
    char id[256];

    if (value == NULL || authserv_id == NULL || authserv_id[0] == '\0')
        return false;
    if (!read_authserv_id(skip_cfws(value), id, sizeof(id)))
        return false;
    return strcasecmp(id, authserv_id) == 0;
}
