/*
 * forgery.h - the rules for incoming headers that pretend to be ours: which
 * are forged copies of the tag or of our Authentication-Results, which
 * headers refuse the message, and the deletions that clean it. The milter
 * feeds each header in and carries out the deletions; the rules live here,
 * where unit tests and the fuzzer reach them.
 */
#ifndef TT_FORGERY_H
#define TT_FORGERY_H

#include <stdbool.h>

/*
 * Most forged copies of the tag, or of our Authentication-Results, that are
 * deleted. Each deletion is one request to the MTA, whose work for each
 * grows with the header count (quadratic in Postfix's cleanup), so a
 * message with more is refused rather than cleaned.
 */
#define TT_FORGED_MAX 32
/* Spellings of the tag's name kept apart per message (beyond that: cannot clean). */
#define TT_TAG_SPELLINGS 4

/* One message's incoming headers, as far as forgery goes. Reset by zeroing. */
struct tt_forgery {
    /*
     * Copies of the tag grouped by their name as the MTA gave it (any
     * letter case): a name with blanks before the colon (obsolete syntax)
     * is another name to the MTA's header index, so each group is deleted
     * under its own name.
     */
    struct {
        char name[80];
        unsigned int count;
    } tags[TT_TAG_SPELLINGS];
    unsigned int ntags, tag_count;
    bool tag_overflow;                   /* a spelling that could not be kept */
    bool ar_odd;                         /* our Authentication-Results under an odd name */
    unsigned int ar_count;               /* Authentication-Results headers so far */
    unsigned int ar_ours[TT_FORGED_MAX]; /* 1-based indexes of those with our id */
    unsigned int n_ar_ours;
};

enum tt_header_verdict {
    TT_HDR_OK = 0,
    TT_HDR_BARE_CR,         /* a CR not followed by LF, in the name or the value */
    TT_HDR_TOO_MANY_TAGS,   /* more than TT_FORGED_MAX copies of the tag */
    TT_HDR_TOO_MANY_AUTHRES /* more than TT_FORGED_MAX of our Authentication-Results */
};

/*
 * Note one incoming header. tag_header is the tag's name; with
 * auth_results, Authentication-Results carrying authserv_id are ours too.
 * Anything but TT_HDR_OK refuses the message (tt_header_refusal).
 */
enum tt_header_verdict tt_forgery_header(struct tt_forgery *f, const char *name, const char *value,
                                         const char *tag_header, bool auth_results,
                                         const char *authserv_id);

/* The SMTP reply for a refusing verdict: enhanced code in *xcode, text returned. */
const char *tt_header_refusal(enum tt_header_verdict v, const char **xcode);

/*
 * Carry out the deletions, last index first within each name, through
 * del(ctx, name, index) (index 1-based among headers of that name). False
 * when the message cannot be cleaned (a spelling not kept, our
 * Authentication-Results under an odd name) or del failed: the caller
 * must not let it through.
 */
typedef bool (*tt_delete_fn)(void *ctx, const char *name, unsigned int index);
bool tt_forgery_strip(const struct tt_forgery *f, tt_delete_fn del, void *ctx);

/* The header name raw is want, in any letter case and with blanks before the colon. */
bool tt_header_name_is(const char *raw, const char *want, bool *exact);

#endif
