/*
 * tcp.h - TCP options libmilter leaves to us on its inet listening socket.
 */
#ifndef TT_TCP_H
#define TT_TCP_H

/*
 * Set TCP_NODELAY on every TCP listening socket of the process (the one
 * smfi_opensocket made). Returns how many sockets it set, -1 when setting
 * one failed. Unix sockets have no Nagle and are left alone.
 */
int tt_tcp_nodelay_listeners(void);

#endif
