/*
 * privs.h - drop root to the UserID account after the socket is open.
 */
#ifndef TT_PRIVS_H
#define TT_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Look up "user[:group]"; false with a message in err if unknown. */
bool tt_privs_lookup(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errsz);

/*
 * Switch to uid/gid for good and prove it: afterwards neither the real,
 * effective nor saved ids are 0 and setuid(0) fails. When not running as
 * root, succeed only if already uid. false with a message in err.
 */
bool tt_privs_drop(const char *user, uid_t uid, gid_t gid, char *err, size_t errsz);

#endif
