#!/usr/bin/env python3
"""mtalat.py - per-message latency through an MTA, several listeners interleaved.

    mtalat.py COUNT NAME=PORT [NAME=PORT ...]

Sends COUNT messages to each listener on 127.0.0.1, one SMTP session per
message (connect, EHLO, MAIL, RCPT, DATA, a 2 KB message, QUIT), one at a
time. The listeners take turns message by message (the order rotates), so
every one sees the same machine. A message's latency is from connect to the
reply to the final ".". Prints one line per listener:

    NAME n=COUNT p50_us=.. p90_us=.. p99_us=.. max_us=.. failed=N
"""
import socket
import sys
import time

BODY = ("Subject: latency probe\r\nFrom: <sender@sender.example>\r\n"
        "To: <rcpt@receiver.test>\r\n\r\n" + ("x" * 70 + "\r\n") * 28)


def reply(f):
    """Read one SMTP reply; return its code."""
    while True:
        line = f.readline()
        if not line:
            raise OSError("connection closed")
        if line[3:4] != b"-":
            return int(line[:3])


def one(port):
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    try:
        ok = reply(f) == 220
        for cmd, want in ((b"EHLO client.lab.test", 250), (b"MAIL FROM:<sender@sender.example>", 250),
                          (b"RCPT TO:<rcpt@receiver.test>", 250), (b"DATA", 354)):
            s.sendall(cmd + b"\r\n")
            ok = ok and reply(f) == want
        s.sendall(BODY.encode() + b".\r\n")
        ok = ok and reply(f) == 250
        t1 = time.perf_counter()
        s.sendall(b"QUIT\r\n")
        reply(f)
    finally:
        f.close()
        s.close()
    return (t1 - t0) * 1e6, ok


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else 0


def main():
    count = int(sys.argv[1])
    targets = [(a.split("=")[0], int(a.split("=")[1])) for a in sys.argv[2:]]
    lat = {n: [] for n, _ in targets}
    failed = {n: 0 for n, _ in targets}
    for i in range(count):
        k = i % len(targets)
        for name, port in targets[k:] + targets[:k]:
            try:
                us, ok = one(port)
            except OSError:
                us, ok = 0, False
            if ok:
                lat[name].append(us)
            else:
                failed[name] += 1
    for name, _ in targets:
        v = lat[name]
        print(f"{name} n={len(v)} p50_us={pct(v, .5):.0f} p90_us={pct(v, .9):.0f} "
              f"p99_us={pct(v, .99):.0f} max_us={max(v) if v else 0:.0f} failed={failed[name]}")


if __name__ == "__main__":
    main()
