/*
 * forgery.c - see forgery.h: forged copies of the tag and of our
 * Authentication-Results, counted as the headers arrive and deleted at the
 * end of the message.
 */
#include "forgery.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tag.h"

bool tt_header_name_is(const char *raw, const char *want, bool *exact)
{
    size_t n = strlen(want);

    *exact = strcasecmp(raw, want) == 0;
    if (*exact)
        return true;
    if (strncasecmp(raw, want, n) != 0)
        return false;
    return raw[n + strspn(raw + n, " \t")] == '\0';
}

/* A CR not followed by LF: some readers take it for a line break, the MTA does not. */
static bool has_bare_cr(const char *s)
{
    for (; (s = strchr(s, '\r')) != NULL; s++)
        if (s[1] != '\n')
            return true;
    return false;
}

/* Count one incoming copy of the tag under its spelling. */
static void count_tag(struct tt_forgery *f, const char *name)
{
    unsigned int i;

    f->tag_count++;
    for (i = 0; i < f->ntags; i++) {
        if (strcasecmp(f->tags[i].name, name) == 0) {
            f->tags[i].count++;
            return;
        }
    }
    if (f->ntags == TT_TAG_SPELLINGS || strlen(name) >= sizeof(f->tags[0].name)) {
        f->tag_overflow = true;
        return;
    }
    snprintf(f->tags[f->ntags].name, sizeof(f->tags[0].name), "%s", name);
    f->tags[f->ntags++].count = 1;
}

/* Note one Authentication-Results; false past TT_FORGED_MAX of ours. */
static bool note_authres(struct tt_forgery *f, const char *value, bool exact,
                         const char *authserv_id)
{
    unsigned int i = exact ? ++f->ar_count : 0;

    if (!tt_authres_is_ours(value, authserv_id))
        return true;
    if (!exact) {
        f->ar_odd = true;
        return true;
    }
    if (f->n_ar_ours == TT_FORGED_MAX)
        return false;
    f->ar_ours[f->n_ar_ours++] = i;
    return true;
}

enum tt_header_verdict tt_forgery_header(struct tt_forgery *f, const char *name, const char *value,
                                         const char *tag_header, bool auth_results,
                                         const char *authserv_id)
{
    bool exact;

    /* Bare CRs could smuggle a header past us to a downstream reader (SECURITY.md). */
    if (has_bare_cr(name) || has_bare_cr(value))
        return TT_HDR_BARE_CR;
    if (tt_header_name_is(name, tag_header, &exact)) {
        count_tag(f, name);
        return f->tag_count > TT_FORGED_MAX ? TT_HDR_TOO_MANY_TAGS : TT_HDR_OK;
    }
    if (auth_results && tt_header_name_is(name, "Authentication-Results", &exact) &&
        !note_authres(f, value, exact, authserv_id))
        return TT_HDR_TOO_MANY_AUTHRES;
    return TT_HDR_OK;
}

const char *tt_header_refusal(enum tt_header_verdict v, const char **xcode)
{
    switch (v) {
    case TT_HDR_BARE_CR:
        *xcode = "5.6.0";
        return "tlstrust: bare CR in a message header";
    case TT_HDR_TOO_MANY_TAGS:
        *xcode = "5.7.1";
        return "tlstrust: message carries too many forged TLS tags";
    case TT_HDR_TOO_MANY_AUTHRES:
        *xcode = "5.7.1";
        return "tlstrust: message carries too many forged Authentication-Results";
    case TT_HDR_OK:
    default:
        *xcode = "2.0.0";
        return "";
    }
}

bool tt_forgery_strip(const struct tt_forgery *f, tt_delete_fn del, void *ctx)
{
    unsigned int g, i;

    if (f->tag_overflow || f->ar_odd)
        return false;
    for (g = 0; g < f->ntags; g++)
        for (i = f->tags[g].count; i >= 1; i--)
            if (!del(ctx, f->tags[g].name, i))
                return false;
    for (i = f->n_ar_ours; i >= 1; i--)
        if (!del(ctx, "Authentication-Results", f->ar_ours[i - 1]))
            return false;
    return true;
}
