/*
 * history.h - the mail-state history (issue 12): per-peer counts kept in
 * memory (peers.h) and written by a thread of their own, every
 * TT_HISTORY_INTERVAL seconds and at a clean stop, into the `observed`
 * table of StateDatabase (SQLite), in daily buckets. Sessions only count
 * in memory: a slow or broken database never holds up mail; its errors
 * are logged and the counts of that write are lost.
 */
#ifndef TT_HISTORY_H
#define TT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peers.h"

#define TT_HISTORY_INTERVAL 60

struct tt_history_stats {
    bool running;
    size_t peers;           /* in the recording table now */
    size_t bytes;           /* the tables' memory */
    uint64_t overflow;      /* decisions counted as "*other*" */
    uint64_t writes_ok;     /* transactions committed */
    uint64_t writes_failed; /* writes that failed (their counts are lost) */
};

/*
 * Make the tables (capacity peers) and start the writer. Call after the
 * privilege drop and after detaching: the database is opened by the
 * writer, as UserID, from the StateDatabase of the configuration in force
 * at each write (none: the counts are only dropped).
 */
bool tt_history_start(size_t capacity, char *err, size_t errsz);
/* Count one decision; nothing before tt_history_start. */
void tt_history_record(const struct tt_peer_event *ev);
/* Write what is counted, stop the writer, close the database. */
void tt_history_stop(void);
void tt_history_stats(struct tt_history_stats *out);

#endif
