/*
 * report.h - tlstrustctl report: the mail-state map read from the
 * StateDatabase and written as one self-contained HTML page, as JSON (the
 * schema is in doc/state-map.md) or as CSV.
 */
#ifndef TT_REPORT_H
#define TT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

enum tt_report_format { TT_REPORT_HTML, TT_REPORT_JSON, TT_REPORT_CSV };

#define TT_REPORT_DEFAULT_DAYS 30
#define TT_REPORT_MAX_DAYS 3660
/* Rows read: the busiest peers and the latest probes, so the page stays readable. */
#define TT_REPORT_MAX_PEERS 5000
#define TT_REPORT_MAX_PROBES 5000
/* A certificate that expires within this many days is "expiring soon". */
#define TT_REPORT_EXPIRY_DAYS 30
/* JSON schema identifier (doc/state-map.md). */
#define TT_REPORT_SCHEMA "tlstrust-state-map/1"

struct tt_report_opts {
    enum tt_report_format format;
    int days;    /* the last N days, today included */
    int64_t now; /* unix seconds: the clock the ages are taken from */
};

/* false with the reason in err (the output may then be incomplete). */
bool tt_report_write(struct tt_store *st, const struct tt_report_opts *o, FILE *out, char *err,
                     size_t errsz);

/* Parse "html", "json" or "csv". */
bool tt_report_format_parse(const char *s, enum tt_report_format *f);

#endif
