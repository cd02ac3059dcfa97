/*
 * log.c - logging to syslog (the default for a daemon) or to stderr (the
 * foreground and the tests). Messages carry no CR or LF from peers: callers
 * pass peer values through tt_escape_quoted() first.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static atomic_int log_level = LOG_INFO;
static atomic_bool log_syslog = false;
static const char *log_ident = "tlstrust";

void tt_log_open(const char *ident, bool use_syslog, int facility)
{
    log_ident = ident;
    if (use_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, facility);
    atomic_store(&log_syslog, use_syslog);
}

void tt_log_set_level(int level)
{
    atomic_store(&log_level, level);
}

int tt_log_level(void)
{
    return atomic_load(&log_level);
}

bool tt_log_enabled(int level)
{
    return level <= atomic_load(&log_level);
}

void tt_log(int level, const char *fmt, ...)
{
    static const char *names[] = {"emerg",   "alert",  "crit", "error",
                                  "warning", "notice", "info", "debug"};
    char msg[2048];
    va_list ap;

    if (!tt_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (atomic_load(&log_syslog)) {
        syslog(level, "%s", msg);
    } else {
        struct timespec ts;
        struct tm tm;
        char when[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        /* One fprintf per line: stdio locks the stream, so threads do not interleave. */
        fprintf(stderr, "%s %s[%s]: %s\n", when, log_ident, names[level & 7], msg);
    }
}
