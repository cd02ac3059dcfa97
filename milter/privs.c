/*
 * privs.c - least privilege: the daemon needs root only to bind a
 * privileged socket path or port, so it switches to UserID right after and
 * refuses to go on if the switch did not fully happen.
 */
#define _GNU_SOURCE /* setresuid, getresuid */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool tt_privs_lookup(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errsz)
{
    char user[256];
    const char *colon = strchr(spec, ':');
    size_t n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    struct passwd *pw;

    if (n == 0 || n >= sizeof(user)) {
        snprintf(err, errsz, "UserID '%s': bad user name", spec);
        return false;
    }
    memcpy(user, spec, n);
    user[n] = '\0';
    pw = getpwnam(user);
    if (pw == NULL) {
        snprintf(err, errsz, "UserID: unknown user '%s'", user);
        return false;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (colon != NULL) {
        struct group *gr = getgrnam(colon + 1);

        if (gr == NULL) {
            snprintf(err, errsz, "UserID: unknown group '%s'", colon + 1);
            return false;
        }
        *gid = gr->gr_gid;
    }
    return true;
}

bool tt_privs_drop(const char *user, uid_t uid, gid_t gid, char *err, size_t errsz)
{
    uid_t r, e, s;

    if (geteuid() != 0) {
        if (getuid() == uid && geteuid() == uid)
            return true;
        snprintf(err, errsz, "UserID %s: not running as root, cannot switch user", user);
        return false;
    }
    if (uid == 0) {
        snprintf(err, errsz, "UserID %s: refusing to run as root", user);
        return false;
    }
    if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
        snprintf(err, errsz, "UserID %s: cannot switch: %s", user, strerror(errno));
        return false;
    }
    if (getresuid(&r, &e, &s) != 0 || r == 0 || e == 0 || s == 0 || setuid(0) == 0) {
        snprintf(err, errsz, "UserID %s: root privileges are still held", user);
        return false;
    }
    return true;
}
