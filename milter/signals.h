/*
 * signals.h - the daemon's signals (SIGHUP, SIGUSR1: reload; SIGTERM,
 * SIGINT: stop) are blocked in every thread and taken by the main thread
 * alone, through a signalfd; libmilter's own signal thread never gets one.
 */
#ifndef TT_SIGNALS_H
#define TT_SIGNALS_H

#include <stdbool.h>

/*
 * Block the daemon's signals in the calling thread and ignore SIGPIPE.
 * Call in main before any thread exists: every later thread, libmilter's
 * included, inherits the mask. Returns a signalfd for them (close-on-exec)
 * or -1 with errno set.
 */
int tt_signals_block(void);

/*
 * Register the function to call (from libmilter's thread) once libmilter's
 * signal thread is parked; see signals.c.
 */
void tt_signals_on_park(void (*notify)(void));

/* Whether libmilter's signal thread has been parked. */
bool tt_signals_milter_parked(void);

#endif
