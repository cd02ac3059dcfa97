/*
 * fuzz_forgery.c - whole header sequences through the forged-header rules
 * (forgery.c).
 *
 * Input: one header a line, "NAME:VALUE" (a line without ':' is a name with
 * an empty value); the first line's first byte chooses AuthResults (odd:
 * yes). Properties:
 *  - the verdict is TT_HDR_BARE_CR exactly for the first header whose name
 *    or value holds a CR not followed by LF (no header after a refusal is
 *    fed, as the milter does);
 *  - when every header was taken and cleaning succeeds, the deletions are
 *    exactly the copies of the tag (each spelling from its count down to 1)
 *    and our Authentication-Results (by their index among exact-name ones,
 *    descending), never more than TT_FORGED_MAX of each;
 *  - a model count of tag copies (any case, blanks before the colon) agrees
 *    with the rules' count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "forgery.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TAG "X-TLS-Trust"
#define ID "mx.receiver.test"

struct seen {
    unsigned int n, tags, ars;
    unsigned int last_index;
    char last_name[80];
};

static bool check_delete(void *ctx, const char *name, unsigned int index)
{
    struct seen *s = ctx;
    bool exact;

    FZ_CHECK(index >= 1);
    FZ_CHECK(tt_header_name_is(name, TAG, &exact) ||
             strcasecmp(name, "Authentication-Results") == 0);
    /* Within one name, indexes go down. */
    if (strcmp(name, s->last_name) == 0)
        FZ_CHECK(index < s->last_index);
    snprintf(s->last_name, sizeof(s->last_name), "%s", name);
    s->last_index = index;
    if (strcasecmp(name, "Authentication-Results") == 0)
        s->ars++;
    else
        s->tags++;
    s->n++;
    return true;
}

static bool bare_cr(const char *s)
{
    for (; (s = strchr(s, '\r')) != NULL; s++)
        if (s[1] != '\n')
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strdup(data, size), *line, *save = NULL;
    bool auth_results = size > 0 && (data[0] & 1);
    struct tt_forgery f = {0};
    struct seen s = {0};
    enum tt_header_verdict v = TT_HDR_OK;
    unsigned int model_tags = 0;

    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        const char *value = colon != NULL ? colon + 1 : "";
        bool exact;

        if (colon != NULL)
            *colon = '\0';
        v = tt_forgery_header(&f, line, value, TAG, auth_results, ID);
        FZ_CHECK((v == TT_HDR_BARE_CR) == (bare_cr(line) || bare_cr(value)));
        if (v == TT_HDR_BARE_CR)
            break;
        if (tt_header_name_is(line, TAG, &exact))
            model_tags++;
        FZ_CHECK(f.tag_count == model_tags);
        if (v != TT_HDR_OK)
            break;
    }
    if (v == TT_HDR_OK && tt_forgery_strip(&f, check_delete, &s)) {
        FZ_CHECK(s.tags == f.tag_count && s.tags <= TT_FORGED_MAX);
        FZ_CHECK(s.ars == f.n_ar_ours && s.ars <= TT_FORGED_MAX);
        FZ_CHECK(!auth_results ? s.ars == 0 : true);
    }
    if (v == TT_HDR_TOO_MANY_TAGS)
        FZ_CHECK(f.tag_count == TT_FORGED_MAX + 1);
    free(text);
    return 0;
}
