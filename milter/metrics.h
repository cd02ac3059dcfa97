/*
 * metrics.h - the Prometheus text endpoint (MetricsSocket), served by
 * libmicrohttpd on its own thread: GET /metrics, nothing else.
 */
#ifndef TT_METRICS_H
#define TT_METRICS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Bind and listen on spec (inet:PORT@ADDR, see tt_sockspec_inet), as root,
 * before the privilege drop. spec NULL: the endpoint is off, true.
 */
bool tt_metrics_listen(const char *spec, char *err, size_t errsz);
/* Serve on that socket; call after detaching (threads do not survive fork). */
bool tt_metrics_start(char *err, size_t errsz);
/* Stop serving and close the socket; nothing when not started. */
void tt_metrics_stop(void);

/* The whole exposition, malloc'ed (the caller frees it); NULL when out of memory. */
char *tt_metrics_render(size_t *len);

#endif
