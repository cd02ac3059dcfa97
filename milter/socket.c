/*
 * socket.c - libmilter's smfi_opensocket(true) would unlink any socket
 * file, including one a running instance is serving; we probe it first and
 * unlink only a dead one. inet sockets are probed the same way so that the
 * message names the real cause.
 *
 * A unix socket file is then secured without ever following a link: the
 * directory must not let other users replace it, bind() creates it with
 * mode 0660 (main sets the umask), and the owner is changed through an
 * O_PATH descriptor of the very file found at the path, once it is proven
 * to be the socket we just created (see tt_socket_secure).
 */
#define _GNU_SOURCE /* O_PATH, AT_EMPTY_PATH */
#include "socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

const char *tt_socket_unix_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    if (spec[0] == '/')
        return spec;
    return NULL;
}

/* 1: something accepted a connection; 0: nothing listens; -1: could not tell. */
static int probe_unix(const char *path)
{
    struct sockaddr_un sun;
    int fd, r;

    if (strlen(path) >= sizeof(sun.sun_path))
        return -1;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    close(fd);
    if (r == 0)
        return 1;
    return errno == ECONNREFUSED || errno == ENOENT ? 0 : -1;
}

static int probe_inet(const char *spec)
{
    char port[16], host[256] = "";
    const char *rest = strchr(spec, ':') + 1, *at = strchr(rest, '@');
    struct addrinfo hints, *res = NULL, *ai;
    int found = 0;

    if (at == NULL) {
        snprintf(port, sizeof(port), "%s", rest);
        snprintf(host, sizeof(host), "%s", strncmp(spec, "inet6:", 6) == 0 ? "::1" : "127.0.0.1");
    } else {
        snprintf(port, sizeof(port), "%.*s", (int)(at - rest), rest);
        snprintf(host, sizeof(host), "%s", at + 1);
    }
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    for (ai = res; ai != NULL && !found; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM, 0);

        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            found = 1;
        if (fd >= 0)
            close(fd);
    }
    freeaddrinfo(res);
    return found;
}

/*
 * Whoever can write the socket's directory can replace the socket (the MTA
 * would then talk to an impostor) or plant links at its path. Accept only a
 * directory that group and others cannot write, or a sticky one (as /tmp),
 * where they cannot remove or rename our file.
 */
bool tt_socket_safe_dir(const char *spec, char *err, size_t errsz)
{
    const char *path = tt_socket_unix_path(spec);
    char copy[PATH_MAX];
    const char *dir;
    struct stat st;

    if (path == NULL)
        return true;
    snprintf(copy, sizeof(copy), "%s", path);
    dir = dirname(copy);
    if (stat(dir, &st) != 0) {
        snprintf(err, errsz, "socket directory %s: %s", dir, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "socket directory %s is not a directory", dir);
        return false;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
        snprintf(err, errsz,
                 "socket directory %s is writable by group or others: other users could "
                 "replace the socket; use a directory only root or UserID can write",
                 dir);
        return false;
    }
    return true;
}

bool tt_socket_prepare(const char *spec, char *err, size_t errsz)
{
    const char *path = tt_socket_unix_path(spec);
    struct stat st;

    if (path == NULL) {
        /* inet with a wildcard address cannot be probed; bind() will tell. */
        if (probe_inet(spec) == 1) {
            snprintf(err, errsz,
                     "socket %s is in use by another process "
                     "(is tlstrust-milter already running?)",
                     spec);
            return false;
        }
        return true;
    }
    if (lstat(path, &st) != 0)
        return true;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errsz, "%s exists and is not a socket; not touching it", path);
        return false;
    }
    switch (probe_unix(path)) {
    case 1:
        snprintf(err, errsz,
                 "socket %s is in use by another process "
                 "(is tlstrust-milter already running?)",
                 path);
        return false;
    case 0:
        if (unlink(path) != 0) {
            snprintf(err, errsz, "cannot remove stale socket %s: %s", path, strerror(errno));
            return false;
        }
        return true;
    default:
        snprintf(err, errsz, "cannot tell whether socket %s is in use: %s", path, strerror(errno));
        return false;
    }
}

#define SOCKET_MODE 0660

/* A socket with one link and our uid: the file bind() just created, not a planted one. */
static bool created_by_us(const struct stat *st)
{
    return S_ISSOCK(st->st_mode) && st->st_nlink == 1 && st->st_uid == geteuid();
}

/*
 * chown(path) and chmod(path) follow a symbolic link, and act on whatever a
 * hard link at the path points to: if the file were swapped between bind()
 * and here, root would hand the target to UserID. fchown() on the
 * listening descriptor does not help either: on Linux it changes the
 * socket's sockfs inode, not the file. So the path itself is opened with
 * O_PATH | O_NOFOLLOW (a symlink is opened as a symlink, never followed),
 * that descriptor is checked to be a socket with one link that we created,
 * and fchownat(AT_EMPTY_PATH) changes the owner of that inode only. No
 * chmod: bind() already created the file 0660 under main's umask, and any
 * other mode (a default ACL on the directory) is refused. Afterwards the
 * path must still name the same inode.
 */
static bool secure_fd(int fd, const char *path, uid_t uid, gid_t gid, bool chown_it, char *err,
                      size_t errsz)
{
    struct stat st, now;

    if (fstat(fd, &st) != 0 || !created_by_us(&st)) {
        snprintf(err, errsz,
                 "%s is not the socket just created (a link, or replaced); not "
                 "touching it",
                 path);
        return false;
    }
    if ((st.st_mode & 07777) != SOCKET_MODE) {
        snprintf(err, errsz, "socket %s has mode %03o, not %03o (a default ACL on its directory?)",
                 path, (unsigned)(st.st_mode & 07777), SOCKET_MODE);
        return false;
    }
    if (chown_it && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0) {
        snprintf(err, errsz, "chown %s: %s", path, strerror(errno));
        return false;
    }
    if (fstat(fd, &st) != 0 || lstat(path, &now) != 0 || st.st_dev != now.st_dev ||
        st.st_ino != now.st_ino) {
        snprintf(err, errsz, "socket %s was replaced while being secured", path);
        return false;
    }
    return true;
}

bool tt_socket_secure(const char *spec, uid_t uid, gid_t gid, bool chown_it, char *err,
                      size_t errsz)
{
    const char *path = tt_socket_unix_path(spec);
    int fd;
    bool ok;

    if (path == NULL)
        return true;
    fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errsz, "socket %s: %s", path, strerror(errno));
        return false;
    }
    ok = secure_fd(fd, path, uid, gid, chown_it, err, errsz);
    close(fd);
    return ok;
}
