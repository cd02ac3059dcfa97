/*
 * fault.h - test hook that makes named internal operations fail, so the
 * OnError policy can be tested against the real daemon. Compiled in only
 * with -DTLSTRUST_FAULT_INJECTION=ON; otherwise every check is false.
 * TLSTRUST_TEST_FAULT holds a comma-separated list of point names; a
 * name written "point:N" fails only the first N times it is reached (one
 * count per process), to test what happens after a failure.
 */
#ifndef TT_FAULT_H
#define TT_FAULT_H

#include <stdbool.h>

#ifdef TT_FAULT_INJECTION
bool tt_fault(const char *point);
/* The hook handed to the library (session.h), NULL when not compiled in. */
#define TT_FAULT_HOOK tt_fault
#else
#define tt_fault(point) ((void)(point), false)
#define TT_FAULT_HOOK NULL
#endif

#endif
