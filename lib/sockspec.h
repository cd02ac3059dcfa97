/*
 * sockspec.h - the milter socket notation (Socket, -p), checked before
 * libmilter sees it: libmilter takes any string without a known prefix as
 * a unix path, a non-numeric port as a service name and a host as a name
 * to resolve, so a typo would otherwise surface late or not at all.
 */
#ifndef TT_SOCKSPEC_H
#define TT_SOCKSPEC_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Accepts inet:PORT[@HOST] and inet6:PORT[@HOST] (PORT 1..65535 in
 * decimal; HOST a numeric address of that family, brackets optional, or a
 * host name; without it libmilter listens on every address), unix:PATH and
 * local:PATH (PATH absolute and short enough for sockaddr_un), and a bare
 * /PATH without a colon. false with the reason in why.
 */
bool tt_sockspec_check(const char *spec, char *why, size_t whysz);

struct sockaddr_storage;
/*
 * inet:PORT@ADDR or inet6:PORT@ADDR with a numeric address (brackets
 * optional for IPv6), for the sockets we bind ourselves (MetricsSocket):
 * the address is required, so nothing listens on every interface by
 * default, and no name is resolved. The address goes into *ss (len bytes).
 */
bool tt_sockspec_inet(const char *spec, struct sockaddr_storage *ss, unsigned int *len, char *why,
                      size_t whysz);

#endif
