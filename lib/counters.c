/*
 * counters.c - see counters.h. Relaxed atomics: each counter is exact, and
 * a scrape needs no order between them.
 */
#include "counters.h"

#include <stdatomic.h>

/* From 100 us (a table lookup) to 30 s (DNS at its bound: DnsTimeout x attempts x budget). */
const double tt_latency_bounds[TT_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30};

static atomic_uint_fast64_t messages[TT_LEVELS][TT_RESULTS][TT_OUTCOMES];
static atomic_uint_fast64_t refusals[TT_STAGES];
static atomic_uint_fast64_t forged_removed;
static atomic_uint_fast64_t reloads_ok, reloads_failed;
static _Atomic long long config_loaded;
static atomic_uint_fast64_t latency[TT_LATENCY_BUCKETS + 1];
static atomic_uint_fast64_t latency_ns; /* the sum, in nanoseconds (584 years before it wraps) */

#define ADD(x, n) atomic_fetch_add_explicit(&(x), (n), memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

const char *tt_outcome_name(enum tt_outcome o)
{
    static const char *names[TT_OUTCOMES] = {"accept", "monitor", "defer", "reject"};

    return (unsigned)o < TT_OUTCOMES ? names[o] : "?";
}

const char *tt_stage_name(enum tt_stage s)
{
    static const char *names[TT_STAGES] = {"mail", "rcpt", "header", "eom"};

    return (unsigned)s < TT_STAGES ? names[s] : "?";
}

const char *tt_result_name(enum tt_result r)
{
    static const char *names[TT_RESULTS] = {"none", "pass", "fail"};

    return (unsigned)r < TT_RESULTS ? names[r] : "?";
}

void tt_counters_decision(enum tt_stage stage, enum tt_level level, enum tt_result result,
                          enum tt_outcome outcome)
{
    if ((unsigned)stage >= TT_STAGES || (unsigned)level >= TT_LEVELS ||
        (unsigned)result >= TT_RESULTS || (unsigned)outcome >= TT_OUTCOMES)
        return;
    ADD(messages[level][result][outcome], 1);
    if (stage != TT_STAGE_EOM)
        ADD(refusals[stage], 1);
}

void tt_counters_forged(unsigned int removed)
{
    if (removed > 0)
        ADD(forged_removed, removed);
}

void tt_counters_config(bool ok, time_t now)
{
    if (!ok) {
        ADD(reloads_failed, 1);
        return;
    }
    /* The first configuration is the start, not a reload. */
    if (atomic_exchange(&config_loaded, (long long)now) != 0)
        ADD(reloads_ok, 1);
}

void tt_counters_latency(double seconds)
{
    size_t i;

    if (!(seconds >= 0))
        seconds = 0;
    for (i = 0; i < TT_LATENCY_BUCKETS && seconds > tt_latency_bounds[i]; i++) {
    }
    ADD(latency[i], 1);
    ADD(latency_ns, (uint_fast64_t)(seconds * 1e9));
}

void tt_counters_read(struct tt_counters_view *out)
{
    size_t l, r, o, i;

    for (l = 0; l < TT_LEVELS; l++)
        for (r = 0; r < TT_RESULTS; r++)
            for (o = 0; o < TT_OUTCOMES; o++)
                out->messages[l][r][o] = GET(messages[l][r][o]);
    for (i = 0; i < TT_STAGES; i++)
        out->refusals[i] = GET(refusals[i]);
    out->forged_removed = GET(forged_removed);
    out->reloads_ok = GET(reloads_ok);
    out->reloads_failed = GET(reloads_failed);
    out->config_loaded = (time_t)atomic_load(&config_loaded);
    out->latency_count = 0;
    for (i = 0; i <= TT_LATENCY_BUCKETS; i++) {
        out->latency[i] = GET(latency[i]);
        out->latency_count += out->latency[i];
    }
    out->latency_sum = (double)GET(latency_ns) / 1e9;
}
