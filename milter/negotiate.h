/*
 * negotiate.h - the milter's side of option negotiation (xxfi_negotiate):
 * header actions, skipped steps and macro lists. The no-reply steps are
 * agreed by the caller, which keeps what was agreed in its session state.
 */
#ifndef TT_NEGOTIATE_H
#define TT_NEGOTIATE_H

#include <libmilter/mfapi.h>

/*
 * Fill the actions (*pf0) and skipped steps (*pf1) from what the MTA
 * offers (f0, f1), and ask for our macro lists. SMFIS_REJECT when the MTA
 * does not let us add and change headers: then we cannot tag.
 */
sfsistat tt_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                      unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                      unsigned long *pf3);

#endif
