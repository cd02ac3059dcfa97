/*
 * survey.h - tlstrustctl survey: probe what each member's MX offers (EHLO,
 * STARTTLS, the TLS versions it accepts, its certificate chain against the
 * networks' CAs and the system store, the MX name, expiry, TLSA with DANE,
 * the MTA-STS TXT record), one line per MX on stdout and one row each in
 * the StateDatabase.
 */
#ifndef TT_SURVEY_H
#define TT_SURVEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "dns.h"
#include "store.h"

/* Bounds: hosts probed at once, MX per domain, domains per run, what is read from a server. */
#define TT_SURVEY_PARALLEL 4
#define TT_SURVEY_MAX_MX 10
#define TT_SURVEY_MAX_DOMAINS 10000
#define TT_SURVEY_LINE_MAX 1000
#define TT_SURVEY_REPLY_LINES 100
#define TT_SURVEY_DEFAULT_TIMEOUT 30
#define TT_SURVEY_DEFAULT_DELAY_MS 1000

struct tt_survey_opts {
    const struct tt_config *cfg;
    struct tt_dns *dns;         /* the configured resolver */
    struct tt_store *store;     /* where the rows go */
    const char *mx_host;        /* --mx: probe this host instead of the MX records */
    int mx_port;                /* its port, 25 when not given */
    int timeout_s;              /* for one SMTP connection, start to end */
    int delay_ms;               /* between two connections to the same host */
    const char *ehlo_name;      /* the name we greet with */
    const char *system_ca_file; /* NULL: OpenSSL's default paths (the system store) */
    FILE *out;
};

/*
 * Survey the domains (A-labels) with at most TT_SURVEY_PARALLEL hosts at
 * once. Returns 0 when every MX was ok, 1 when one failed, 2 when none
 * failed and one was inconclusive, 70 (EX_SOFTWARE) when the rows could
 * not be stored.
 */
int tt_survey_run(const struct tt_survey_opts *o, char **domains, size_t ndomains);

#endif
