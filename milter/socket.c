/*
 * socket.c - libmilter's smfi_opensocket(true) would unlink any socket
 * file, including one a running instance is serving; we probe it first and
 * unlink only a dead one. inet sockets are probed the same way so that the
 * message names the real cause.
 */
#include "socket.h"

#include <arpa/inet.h>
#include <errno.h>
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

bool tt_socket_secure(const char *spec, uid_t uid, gid_t gid, bool chown_it, char *err,
                      size_t errsz)
{
    const char *path = tt_socket_unix_path(spec);

    if (path == NULL)
        return true;
    if (chown_it && chown(path, uid, gid) != 0) {
        snprintf(err, errsz, "chown %s: %s", path, strerror(errno));
        return false;
    }
    /* The MTA reaches the socket through the group (e.g. add postfix to it). */
    if (chmod(path, 0660) != 0) {
        snprintf(err, errsz, "chmod %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}
