/*
 * pidfile.h - the pid file: opened as root before the privilege drop,
 * written once the pid is final, removed at stop when the daemon can.
 */
#ifndef TT_PIDFILE_H
#define TT_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Open (or create, mode 0644) path as root; -1 with err on failure. *created: made now. */
int tt_pidfile_open(const char *path, bool *created, char *err, size_t errsz);
/* Write the current pid through fd and close it. */
bool tt_pidfile_write(int fd, const char *path, char *err, size_t errsz);
/* Remove it at stop, or log that it is left for the service manager. */
void tt_pidfile_remove(const char *path);

#endif
