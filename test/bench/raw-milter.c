/*
 * raw-milter.c - a benchmark reference only: the milter protocol (version
 * 6) spoken without libmilter, by one thread with epoll. It negotiates
 * exactly what tlstrust-milter negotiates (the same actions, skipped
 * stages, no-reply steps and macro lists), answers "continue" everywhere,
 * and inserts one tag header at end of message, writing the insertion and
 * the final reply in one write. Through a real MTA, the gap between this
 * and noop-milter (the same work through libmilter) is what libmilter's
 * threading and its one-write-per-packet replies cost; the gap between
 * this and no milter at all is what the milter protocol itself costs.
 * It keeps no policy and judges nothing: never deploy it.
 *
 * With -t it asks for the least a tag-only milter needs (HELO for the TLS
 * macros, the headers for forged tags, end of message for the tag) and
 * answers only at end of message: the floor for a design where the MTA's
 * own tables enforce the policy and the milter only tags.
 *
 *   usage: raw-milter -p inet:PORT@ADDR|unix:PATH [-H HEADER] [-t]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* Protocol constants, as in libmilter/mfdef.h (the wire format is the contract). */
enum {
    ACT_ADDHDRS = 0x01,
    ACT_CHGHDRS = 0x10,
    ACT_SETSYMLIST = 0x100,
    P_NOHELO = 0x02,
    P_NOMAIL = 0x04,
    P_NORCPT = 0x08,
    P_NOBODY = 0x10,
    P_NOEOH = 0x40,
    P_NR_HDR = 0x80,
    P_NOUNKNOWN = 0x100,
    P_NODATA = 0x200,
    P_NR_CONN = 0x1000,
    P_NR_HELO = 0x2000,
    MAXPKT = 65536 + 5, /* a header or macro packet larger than this closes the session */
};

#define TLS_MACROS                                                                                 \
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {cn_subject} {cn_issuer} "  \
    "{verify}"

static const char *tag_header = "X-TLS-Trust";
static bool tag_only; /* -t */
static const char tag_value[] = "none; policy=none; authserv-id=mx.receiver.test; "
                                "version=none; cipher=none; bits=0; rule=\"none\"";

struct session {
    int fd;
    uint32_t proto; /* the steps agreed at negotiation */
    size_t have;
    unsigned char buf[MAXPKT];
};

static void put32(unsigned char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

/* Append one packet (command + data) to out; returns the new length. */
static size_t packet(unsigned char *out, size_t len, char cmd, const void *data, size_t n)
{
    put32(out + len, (uint32_t)(n + 1));
    out[len + 4] = (unsigned char)cmd;
    if (n > 0)
        memcpy(out + len + 5, data, n);
    return len + 5 + n;
}

static bool send_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false; /* a peer that stops reading is dropped */
        p += w;
        n -= (size_t)w;
    }
    return true;
}

struct macro_list {
    uint32_t stage; /* SMFIM_CONNECT 0, HELO 1, ENVFROM 2, ENVRCPT 3, EOM 5 */
    const char *macros;
};
#define CONNECT_MACROS "j v _ {daemon_name} {client_addr} {client_name} {client_resolve}"
/* What tlstrust-milter's negotiate_cb asks for. */
static const struct macro_list full_lists[] = {
    {0, CONNECT_MACROS},
    {2, "i {mail_addr} " TLS_MACROS},
    {3, "i {rcpt_addr}"},
    {5, "i"},
};
/* -t: the TLS macros at HELO (Postfix has none at end of message), the rest at the end. */
static const struct macro_list tag_only_lists[] = {
    {0, CONNECT_MACROS},
    {1, TLS_MACROS},
    {5, "i {mail_addr}"},
};

static bool negotiate(struct session *s, const unsigned char *d, size_t n)
{
    const struct macro_list *l = tag_only ? tag_only_lists : full_lists;
    size_t nl = tag_only ? sizeof(tag_only_lists) / sizeof(tag_only_lists[0])
                         : sizeof(full_lists) / sizeof(full_lists[0]);
    unsigned char data[1024], out[1100];
    uint32_t actions, offered;
    size_t len = 12, i;

    if (n < 12)
        return false;
    memcpy(&actions, d + 4, 4);
    memcpy(&offered, d + 8, 4);
    actions = ntohl(actions);
    offered = ntohl(offered);
    if (tag_only)
        s->proto = offered & (P_NOMAIL | P_NORCPT | P_NODATA | P_NOBODY | P_NOUNKNOWN | P_NOEOH |
                              P_NR_CONN | P_NR_HELO | P_NR_HDR);
    else
        s->proto = offered & (P_NOBODY | P_NOUNKNOWN | P_NOEOH | P_NR_CONN | P_NR_HDR |
                              ((actions & ACT_SETSYMLIST) ? P_NOHELO : 0));
    put32(data, 6);
    put32(data + 4, ACT_ADDHDRS | ACT_CHGHDRS | (actions & ACT_SETSYMLIST));
    put32(data + 8, s->proto);
    for (i = 0; (actions & ACT_SETSYMLIST) && i < nl; i++) {
        size_t m = strlen(l[i].macros) + 1;

        put32(data + len, l[i].stage);
        memcpy(data + len + 4, l[i].macros, m);
        len += 4 + m;
    }
    return send_all(s->fd, out, packet(out, 0, 'O', data, len));
}

/* One command from the MTA; false closes the session. */
static bool command(struct session *s, char cmd, const unsigned char *d, size_t n)
{
    unsigned char out[512], ins[256];
    size_t hl = strlen(tag_header) + 1, vl = sizeof(tag_value), len;

    switch (cmd) {
    case 'O':
        return negotiate(s, d, n);
    case 'D': /* macros: never answered */
    case 'A': /* abort: never answered */
        return true;
    case 'C':
        return (s->proto & P_NR_CONN) || send_all(s->fd, (const unsigned char *)"\0\0\0\1c", 5);
    case 'H':
        return (s->proto & P_NR_HELO) || send_all(s->fd, (const unsigned char *)"\0\0\0\1c", 5);
    case 'L':
        return (s->proto & P_NR_HDR) || send_all(s->fd, (const unsigned char *)"\0\0\0\1c", 5);
    case 'E':
        put32(ins, 0);
        memcpy(ins + 4, tag_header, hl);
        memcpy(ins + 4 + hl, tag_value, vl);
        len = packet(out, 0, 'i', ins, 4 + hl + vl);
        len = packet(out, len, 'c', NULL, 0);
        return send_all(s->fd, out, len);
    case 'Q':
        return false;
    case 'K': /* quit, new connection: the same socket serves the next session */
        return true;
    default: /* HELO, MAIL, RCPT, DATA, EOH, BODY, UNKNOWN: continue */
        return send_all(s->fd, (const unsigned char *)"\0\0\0\1c", 5);
    }
}

/* Read what is there and handle every whole packet. */
static bool readable(struct session *s)
{
    for (;;) {
        ssize_t r = read(s->fd, s->buf + s->have, sizeof(s->buf) - s->have);
        size_t off = 0;

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (r <= 0)
            return false;
        s->have += (size_t)r;
        while (s->have - off >= 5) {
            uint32_t plen;

            memcpy(&plen, s->buf + off, 4);
            plen = ntohl(plen);
            if (plen == 0 || plen > MAXPKT - 4)
                return false;
            if (s->have - off < 4 + (size_t)plen)
                break;
            if (!command(s, (char)s->buf[off + 4], s->buf + off + 5, plen - 1))
                return false;
            off += 4 + plen;
        }
        memmove(s->buf, s->buf + off, s->have - off);
        s->have -= off;
    }
}

static int listen_on(const char *spec)
{
    int fd, one = 1;

    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        if (strlen(spec + 5) >= sizeof(sun.sun_path))
            return -1;
        strcpy(sun.sun_path, spec + 5);
        unlink(sun.sun_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
            chmod(sun.sun_path, 0666) < 0)
            return -1;
    } else if (strncmp(spec, "inet:", 5) == 0 && strchr(spec, '@') != NULL) {
        struct sockaddr_in sin = {.sin_family = AF_INET};

        sin.sin_port = htons((uint16_t)atoi(spec + 5));
        if (inet_pton(AF_INET, strchr(spec, '@') + 1, &sin.sin_addr) != 1)
            return -1;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        /* Accepted sockets inherit TCP_NODELAY, as tlstrust-milter sets it. */
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
            return -1;
    } else {
        return -1;
    }
    return listen(fd, 128) < 0 ? -1 : fd;
}

int main(int argc, char **argv)
{
    const char *spec = NULL;
    int opt, lfd, ep;
    struct epoll_event ev = {.events = EPOLLIN}, evs[64];

    while ((opt = getopt(argc, argv, "p:H:t")) != -1) {
        if (opt == 'p')
            spec = optarg;
        else if (opt == 'H')
            tag_header = optarg;
        else if (opt == 't')
            tag_only = true;
        else
            return 64;
    }
    if (spec == NULL) {
        fprintf(stderr, "usage: raw-milter -p inet:PORT@ADDR|unix:PATH [-H HEADER] [-t]\n");
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    if ((lfd = listen_on(spec)) < 0 || (ep = epoll_create1(0)) < 0) {
        perror(spec);
        return 1;
    }
    ev.data.ptr = NULL; /* NULL marks the listening socket */
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1), i;

        for (i = 0; i < n; i++) {
            struct session *s = evs[i].data.ptr;

            if (s == NULL) {
                int fd;

                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    s = calloc(1, sizeof(*s));
                    if (s == NULL) {
                        close(fd);
                        continue;
                    }
                    s->fd = fd;
                    ev.data.ptr = s;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
            } else if (!readable(s)) {
                close(s->fd);
                free(s);
            }
        }
    }
}
