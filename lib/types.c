/*
 * types.c - names of levels, requirements and actions, as they appear in
 * the tag, the logs and the domain table.
 */
#include "types.h"

#include <strings.h>

const char *tt_level_name(enum tt_level l)
{
    switch (l) {
    case TT_LEVEL_ENCRYPTED:
        return "encrypted";
    case TT_LEVEL_VERIFIED:
        return "verified";
    case TT_LEVEL_TRUSTED:
        return "trusted";
    case TT_LEVEL_NONE:
    default:
        return "none";
    }
}

const char *tt_req_name(enum tt_req r)
{
    switch (r) {
    case TT_REQ_ENCRYPT:
        return "encrypt";
    case TT_REQ_VERIFY:
        return "verify";
    case TT_REQ_TRUSTED:
        return "trusted";
    case TT_REQ_NONE:
    default:
        return "none";
    }
}

const char *tt_action_name(enum tt_action a)
{
    switch (a) {
    case TT_ACTION_DEFER:
        return "defer";
    case TT_ACTION_REJECT:
        return "reject";
    case TT_ACTION_MONITOR:
        return "monitor";
    case TT_ACTION_UNSET:
    default:
        return "unset";
    }
}

int tt_action_from_name(const char *s)
{
    if (strcasecmp(s, "defer") == 0)
        return TT_ACTION_DEFER;
    if (strcasecmp(s, "reject") == 0)
        return TT_ACTION_REJECT;
    if (strcasecmp(s, "monitor") == 0)
        return TT_ACTION_MONITOR;
    return -1;
}
