/*
 * negotiate.c - see negotiate.h: what tlstrust-milter asks of the MTA when
 * a connection starts: the actions it needs, the steps it skips, and the
 * macros the library reads at each step (session.h).
 */
#include "negotiate.h"

#include <stddef.h>

#include "log.h"
#include "session.h"

sfsistat tt_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                      unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                      unsigned long *pf3)
{
    static const struct {
        int stage;
        const char *macros;
    } lists[] = {
        {SMFIM_CONNECT, TT_MACROS_CONNECT},
        {SMFIM_ENVFROM, TT_MACROS_MAIL},
        {SMFIM_ENVRCPT, TT_MACROS_RCPT},
        {SMFIM_EOM, TT_MACROS_EOM},
    };
    size_t i;

    (void)f2;
    (void)f3;
    if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) {
        tt_log(LOG_ERR, "MTA does not allow adding and changing headers; cannot tag");
        return SMFIS_REJECT;
    }
    *pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | (f0 & SMFIF_SETSYMLIST);
    /*
     * Every stage the MTA sends is a round trip it waits for: skip those we
     * do not use: the body, unknown commands, end of headers, and HELO when
     * the MTA takes our macro lists (the TLS state is then captured at
     * MAIL, where we ask for the same macros; without our lists, MAIL sees
     * the TLS macros only through the HELO stage). DATA is not skipped, on
     * purpose: when it is, Postfix sends the DATA macros alone and, with no
     * reply to carry our ACK, holds its next packet for our delayed ACK
     * (about 40 ms a message over inet; BENCHMARKS.md). The DATA round trip
     * costs far less than that stall.
     */
    *pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NOEOH |
                 ((f0 & SMFIF_SETSYMLIST) != 0 ? SMFIP_NOHELO : 0));
    *pf2 = 0;
    *pf3 = 0;
    if ((f0 & SMFIF_SETSYMLIST) == 0) {
        tt_log(LOG_WARNING, "MTA cannot take our macro list; relying on its configured macros");
        return SMFIS_CONTINUE;
    }
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        if (smfi_setsymlist(ctx, lists[i].stage, (char *)lists[i].macros) != MI_SUCCESS)
            tt_log(LOG_WARNING, "smfi_setsymlist(%d) failed; relying on the MTA's macros",
                   lists[i].stage);
    return SMFIS_CONTINUE;
}
