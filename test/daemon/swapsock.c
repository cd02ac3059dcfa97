/*
 * swapsock.c - LD_PRELOAD shim for daemon.sh. Right after the daemon's
 * listen() succeeds, it does what a user who can write the socket's
 * directory could do between bind() and the daemon securing the file:
 * moves the socket away and puts a link to $SWAPSOCK_TARGET at
 * $SWAPSOCK_PATH, a symbolic one ($SWAPSOCK_KIND=symlink) or a hard one
 * (hardlink). Without SWAPSOCK_PATH it changes nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int listen(int fd, int backlog)
{
    int (*real_listen)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
    const char *path = getenv("SWAPSOCK_PATH"), *target = getenv("SWAPSOCK_TARGET");
    const char *kind = getenv("SWAPSOCK_KIND");
    char moved[4096];
    int r = real_listen(fd, backlog);

    if (r != 0 || path == NULL || target == NULL)
        return r;
    snprintf(moved, sizeof(moved), "%s.moved", path);
    if (rename(path, moved) != 0)
        perror("swapsock: rename");
    else if (kind != NULL && strcmp(kind, "hardlink") == 0 ? link(target, path) != 0
                                                           : symlink(target, path) != 0)
        perror("swapsock: link");
    return r;
}
