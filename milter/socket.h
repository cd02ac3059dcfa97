/*
 * socket.h - checks around the milter socket that libmilter leaves to us:
 * a live instance already on it, a stale unix socket file, its mode.
 */
#ifndef TT_SOCKET_H
#define TT_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * First: a unix socket's directory must not be writable by group or others
 * unless it is sticky. true for inet. false with err set.
 */
bool tt_socket_safe_dir(const char *spec, char *err, size_t errsz);

/*
 * Before opening spec: fail if something already answers on it; remove a
 * stale unix socket file (one nobody listens on). false with err set.
 */
bool tt_socket_prepare(const char *spec, char *err, size_t errsz);

/*
 * After opening (under umask 0117): check that the unix socket file is the
 * one just created, mode 0660, and give it to uid/gid when chown_it,
 * without following links. No-op for inet.
 */
bool tt_socket_secure(const char *spec, uid_t uid, gid_t gid, bool chown_it, char *err,
                      size_t errsz);

/* Path of a unix:/local: socket spec, or NULL. */
const char *tt_socket_unix_path(const char *spec);

#endif
