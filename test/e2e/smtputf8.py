#!/usr/bin/env python3
"""smtputf8.py - one SMTP transaction with a UTF-8 envelope, sent as raw
bytes, with MAIL FROM's SMTPUTF8 parameter when the server offers it
(swaks can send neither).

Usage: smtputf8.py PORT FROM TO TEST-ID
Prints each reply after MAIL FROM as "CODE TEXT", one a line. Exits 0
whatever the replies.
"""
import socket
import sys


def reply(f):
    lines = []
    while True:
        line = f.readline().decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines


def main():
    port, sender, rcpt, test_id = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    f = s.makefile("rb")

    def cmd(text, show=True):
        s.sendall(text.encode("utf-8") + b"\r\n")
        r = reply(f)
        if show:
            print(r[-1])
        return r[-1][:1]

    reply(f)
    s.sendall(b"EHLO client.lab.test\r\n")
    utf8 = any(line[4:].upper().startswith("SMTPUTF8") for line in reply(f))
    if cmd(f"MAIL FROM:<{sender}>" + (" SMTPUTF8" if utf8 else "")) == "2":
        if cmd(f"RCPT TO:<{rcpt}>") == "2" and cmd("DATA") == "3":
            cmd(f"X-Test-Id: {test_id}\r\nSubject: utf8\r\n\r\nbody\r\n.")
    cmd("QUIT", show=False)


if __name__ == "__main__":
    main()
