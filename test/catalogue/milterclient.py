#!/usr/bin/env python3
"""milterclient.py - the MTA side of the milter protocol (version 6), for
the inputs miltertest cannot send: macro values of 64 KiB, headers of 1 MiB.
It also keeps the message's header list and applies the milter's header
changes the way an MTA does, so a test can count what really survives."""

import socket
import struct

SMFIF_ALL = 0x1FF
SMFIP_ALL = 0x1FFFFF
# Stages the milter may skip, and stages it may leave without a reply.
SMFIP_NOHELO, SMFIP_NOEOH, SMFIP_NR_HDR, SMFIP_NR_CONN = 0x2, 0x40, 0x80, 0x1000


class MilterError(Exception):
    pass


class Session:
    def __init__(self, sockspec, timeout=20):
        if sockspec.startswith("unix:"):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.connect(sockspec[5:])
        else:  # inet:PORT@HOST
            port, host = sockspec[5:].split("@")
            self.s = socket.create_connection((host, int(port)))
        self.s.settimeout(timeout)
        self.headers = []  # (name, value) as the MTA holds them
        self.reply_text = None
        self.session_macros = []  # HELO's macros, sent with MAIL when HELO is skipped
        self.send(b"O", struct.pack(">III", 6, SMFIF_ALL, SMFIP_ALL))
        cmd, data = self.recv()
        if cmd != b"O":
            raise MilterError("bad OPTNEG reply %r" % cmd)
        _, self.actions, self.protocol = struct.unpack(">III", data[:12])

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise MilterError("connection closed by the milter")
            buf += chunk
        return buf

    def recv(self):
        (n,) = struct.unpack(">I", self.recv_exact(4))
        data = self.recv_exact(n)
        return data[:1], data[1:]

    def command(self, cmd, data=b"", skip=0, noreply=0):
        """Send a command and return its final reply letter; apply header changes.
        As an MTA does, send nothing when the milter skips the stage (skip flag)
        and wait for no reply when it asked for none (noreply flag): "c" then."""
        if self.protocol & skip:
            return "c"
        self.send(cmd, data)
        if self.protocol & noreply:
            return "c"
        while True:
            rcmd, rdata = self.recv()
            if rcmd == b"p":  # progress
                continue
            if rcmd in (b"h", b"i", b"m"):
                self.apply(rcmd, rdata)
                continue
            if rcmd == b"y":
                self.reply_text = rdata.rstrip(b"\0").decode("latin-1")
            return rcmd.decode()

    def apply(self, cmd, data):
        if cmd == b"h":
            name, value = data.split(b"\0")[:2]
            self.headers.append((name.decode("latin-1"), value.decode("latin-1")))
            return
        (idx,) = struct.unpack(">I", data[:4])
        name, value = data[4:].split(b"\0")[:2]
        name, value = name.decode("latin-1"), value.decode("latin-1")
        if cmd == b"i":
            self.headers.insert(min(idx, len(self.headers)), (name, value))
            return
        # Change or delete the idx-th (1-based) header of that name, any case.
        seen = 0
        for pos, (n, _) in enumerate(self.headers):
            if n.lower() == name.lower():
                seen += 1
                if seen == idx:
                    if value == "":
                        del self.headers[pos]
                    else:
                        self.headers[pos] = (n, value)
                    return

    def macros(self, stage, pairs):
        data = b"".join(k.encode() + b"\0" + (v if isinstance(v, bytes) else v.encode()) + b"\0"
                        for k, v in pairs)
        self.send(b"D", stage + data)

    def connect(self, host="client.example", ip="192.0.2.10", macros=()):
        self.macros(b"C", list(macros))
        return self.command(b"C", host.encode() + b"\0" + b"4" + struct.pack(">H", 25000) +
                            ip.encode() + b"\0", noreply=SMFIP_NR_CONN)

    def helo(self, name="client.example", macros=()):
        if self.protocol & SMFIP_NOHELO:
            # The milter asks for its TLS macros at MAIL instead.
            self.session_macros = list(macros)
            return "c"
        self.macros(b"H", list(macros))
        return self.command(b"H", name.encode() + b"\0")

    def mail(self, addr, macros=()):
        self.macros(b"M", self.session_macros + list(macros))
        return self.command(b"M", addr.encode() + b"\0")

    def rcpt(self, addr):
        return self.command(b"R", addr.encode() + b"\0")

    def header(self, name, value):
        self.headers.append((name, value if isinstance(value, str) else value.decode("latin-1")))
        v = value if isinstance(value, bytes) else value.encode("latin-1")
        return self.command(b"L", name.encode() + b"\0" + v + b"\0", noreply=SMFIP_NR_HDR)

    def eom(self):
        r = self.command(b"N", skip=SMFIP_NOEOH)
        if r != "c":
            return r
        return self.command(b"E")

    def abort(self):
        """RSET: the milter does not reply to an abort."""
        self.send(b"A")

    def count(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def close(self):
        try:
            self.send(b"Q")
        finally:
            self.s.close()
