/*
 * counters.h - the process-wide counters the metrics endpoint reports
 * (milter/metrics.c): decisions by level, result and action, refusals by
 * stage, forged tags removed, reloads, and the latency of the MAIL FROM
 * decision as a histogram. Lock-free (C11 atomics), fixed size: recording
 * never allocates and never blocks a session. Labels are small enums, never
 * domains or peers, so the set of series is fixed.
 */
#ifndef TT_COUNTERS_H
#define TT_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "types.h"

/* What became of a transaction, as counted: a refusal's action, or delivery. */
enum tt_outcome {
    TT_OUTCOME_ACCEPT = 0, /* delivered: no rule failed */
    TT_OUTCOME_MONITOR,    /* delivered: a rule failed in monitor mode */
    TT_OUTCOME_DEFER,      /* refused with 4xx */
    TT_OUTCOME_REJECT,     /* refused with 5xx */
};
#define TT_OUTCOMES 4

/* Where a transaction's outcome was decided. */
enum tt_stage {
    TT_STAGE_MAIL = 0,
    TT_STAGE_RCPT,
    TT_STAGE_HEADER,
    TT_STAGE_EOM, /* end of message: delivered (refusals happen at the three above) */
};
#define TT_STAGES 4

#define TT_LEVELS 4
#define TT_RESULTS 3
/* Upper bounds of the decision latency histogram, in seconds (+Inf follows). */
#define TT_LATENCY_BUCKETS 14
extern const double tt_latency_bounds[TT_LATENCY_BUCKETS];

struct tt_counters_view {
    uint64_t messages[TT_LEVELS][TT_RESULTS][TT_OUTCOMES];
    uint64_t refusals[TT_STAGES]; /* TT_STAGE_EOM stays 0 */
    uint64_t forged_removed;
    uint64_t reloads_ok, reloads_failed;
    time_t config_loaded;                     /* start, or the last successful reload */
    uint64_t latency[TT_LATENCY_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
    uint64_t latency_count;
    double latency_sum;
};

const char *tt_outcome_name(enum tt_outcome o);
const char *tt_stage_name(enum tt_stage s);
const char *tt_result_name(enum tt_result r);

/* One transaction's outcome: a delivered message (TT_STAGE_EOM) or a refusal. */
void tt_counters_decision(enum tt_stage stage, enum tt_level level, enum tt_result result,
                          enum tt_outcome outcome);
void tt_counters_forged(unsigned int removed);
/* A configuration was put in force (ok, at start or reload) or a reload failed. */
void tt_counters_config(bool ok, time_t now);
/* Seconds one MAIL FROM decision took (tt_decide_mail). */
void tt_counters_latency(double seconds);

/* A copy of every counter; each is read atomically, the set is not one instant. */
void tt_counters_read(struct tt_counters_view *out);

#endif
