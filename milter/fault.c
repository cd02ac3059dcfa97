/*
 * fault.c - see fault.h. Reads the environment once per call: it runs only
 * in test builds, where simplicity beats speed.
 */
#include "fault.h"

#ifdef TT_FAULT_INJECTION
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong limited_hits;

bool tt_fault(const char *point)
{
    const char *list = getenv("TLSTRUST_TEST_FAULT");
    size_t n = strlen(point);

    while (list != NULL && *list != '\0') {
        const char *comma = strchr(list, ',');
        size_t len = comma != NULL ? (size_t)(comma - list) : strlen(list);

        if (len == n && strncmp(list, point, n) == 0)
            return true;
        if (len > n && strncmp(list, point, n) == 0 && list[n] == ':')
            return atomic_fetch_add(&limited_hits, 1) < strtoul(list + n + 1, NULL, 10);
        list = comma != NULL ? comma + 1 : NULL;
    }
    return false;
}
#else
typedef int tt_fault_unused; /* keep the translation unit non-empty */
#endif
