/*
 * socketmap.h - the outbound policy served live to Postfix as a socketmap
 * (socketmap_table(5)), map name "tlstrust", on PolicyMapSocket:
 *   smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8895:tlstrust
 * Each request is answered from the configuration in force (snapshot.h)
 * and its resolver, so reloads and policy zones apply at once.
 */
#ifndef TT_SOCKETMAP_H
#define TT_SOCKETMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The map name Postfix asks for. */
#define TT_SOCKETMAP_NAME "tlstrust"
/* Longest request accepted: "tlstrust " and a next-hop domain with a port, with room. */
#define TT_SOCKETMAP_REQUEST_MAX 512
/* Connections served at once (one thread each); more wait in the listen queue. */
#define TT_SOCKETMAP_WORKERS 16

/*
 * Listen on spec (inet:PORT[@ADDR], inet6:PORT[@ADDR], unix:PATH), as root
 * before the privilege drop; a unix socket file gets mode 0660 and, when
 * chown_it, owner uid:gid, as the milter socket (socket.h). false with err.
 */
bool tt_socketmap_open(const char *spec, uid_t uid, gid_t gid, bool chown_it, char *err,
                       size_t errsz);

/* Start the workers (after the daemon has detached). No-op when nothing is open. */
bool tt_socketmap_start(char *err, size_t errsz);

/* Stop the workers, ending their connections, and close the socket. */
void tt_socketmap_stop(void);

/*
 * One request's answer, without the netstring frame: "OK policy",
 * "NOTFOUND ", "TEMP reason" or "PERM reason". data is the request's
 * payload ("tlstrust KEY"), len bytes, not NUL-terminated. The daemon's
 * workers call it; the tests reach it directly.
 */
void tt_socketmap_answer(const char *data, size_t len, char *reply, size_t replysz);

#endif
