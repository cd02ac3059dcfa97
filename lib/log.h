/*
 * log.h - one logging entry point for the library and the daemon: syslog
 * or stderr, filtered by level.
 */
#ifndef TT_LOG_H
#define TT_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */
void tt_log_open(const char *ident, bool use_syslog, int facility);
void tt_log_set_level(int level);
int tt_log_level(void);
bool tt_log_enabled(int level);
void tt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
