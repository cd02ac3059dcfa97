/*
 * callbacks.h - the libmilter callback table of tlstrust-milter.
 */
#ifndef TT_CALLBACKS_H
#define TT_CALLBACKS_H

#include <libmilter/mfapi.h>

extern struct smfiDesc tt_milter_desc;

/* Host name used as authserv-id when neither AuthservID nor the MTA's j is known. */
void tt_callbacks_set_hostname(const char *name);

#endif
