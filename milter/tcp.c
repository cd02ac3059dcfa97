/*
 * tcp.c - TCP_NODELAY for libmilter's inet socket.
 *
 * The milter protocol is a chain of small request/reply packets. With Nagle
 * on, a milter's second small write (the final reply after an insheader
 * modification) waits for the ACK of the first, and the MTA delays that ACK
 * by about 40 ms: every message over inet paid such a stall (BENCHMARKS.md).
 *
 * libmilter creates the listening socket in smfi_opensocket and does not
 * expose it, nor the accepted sockets. So after smfi_opensocket we find it
 * among our descriptors (a listening TCP socket: SO_ACCEPTCONN set, family
 * AF_INET or AF_INET6) and set TCP_NODELAY on it. Linux copies the option
 * to every socket accept() returns, which is what libmilter talks on.
 * Nothing else is open as a listening socket at that point, so the scan
 * cannot touch a socket that is not libmilter's.
 */
#include "tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/* Descriptors to look at: smfi_opensocket runs early, so its fd is small. */
#define MAX_FD_SCAN 1024

static int is_tcp_listener(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int on = 0;
    socklen_t onlen = sizeof(on);

    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &onlen) != 0 || !on)
        return 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    return ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
}

int tt_tcp_nodelay_listeners(void)
{
    long max = sysconf(_SC_OPEN_MAX);
    int fd, n = 0, one = 1;

    if (max < 0 || max > MAX_FD_SCAN)
        max = MAX_FD_SCAN;
    for (fd = 0; fd < max; fd++) {
        if (!is_tcp_listener(fd))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
            return -1;
        n++;
    }
    return n;
}
