#!/usr/bin/env python3
"""socketmap_catalogue.py HOST PORT - malformed and hostile requests against
the daemon's policy map (milter/socketmap.c), spoken raw over TCP: every
frame that is not a netstring, an oversize length, a wrong map name, control
bytes, an empty key, a slow client, pipelining, and the bound on the number
of connections served at once. One line per check; exit 1 if one failed."""
import socket
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
WORKERS = 16
failed = 0


def report(ok, name, detail=""):
    global failed
    print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + detail))
    failed += 0 if ok else 1


def conn(timeout=10):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    return s


def netstring(text):
    data = text.encode("latin-1")
    return str(len(data)).encode() + b":" + data + b","


def read_reply(s):
    """One netstring reply, or None when the server closed first."""
    buf = b""
    while b":" not in buf:
        c = s.recv(1)
        if not c:
            return None
        buf += c
    n = int(buf[:-1])
    data = b""
    while len(data) < n + 1:
        c = s.recv(n + 1 - len(data))
        if not c:
            return None
        data += c
    assert data[-1:] == b",", data
    return data[:-1].decode("latin-1")


def closed(s):
    """The server closed: EOF, or a reset when it left our bytes unread."""
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def ask(raw):
    s = conn()
    s.sendall(raw)
    r = read_reply(s)
    return s, r


# A correct request first: the server answers and keeps the connection.
s, r = ask(netstring("tlstrust member.test"))
report(r is not None and r.startswith("OK secure"), "a correct request is answered", repr(r))
s.sendall(netstring("tlstrust outsider.test"))
r = read_reply(s)
report(r == "NOTFOUND ", "a second request on the same connection", repr(r))
s.close()

# Frames that are not netstrings: one PERM, then the connection is closed.
for name, raw, want in [
    ("a length that is not a number", b"abc:tlstrust x,", "PERM malformed netstring length"),
    ("a length with a leading zero", b"05:tlstrust x,", "PERM malformed netstring length"),
    ("a length of 7 digits", b"1234567:", "PERM request of 1234567 bytes exceeds the limit of 512"),
    ("a length of more than 7 digits", b"12345678901234567890:", "PERM malformed netstring length"),
    ("no ':' after the length", b"12 tlstrust x,", "PERM malformed netstring length"),
    ("no ',' after the data", b"10:tlstrust x;", "PERM malformed netstring (no ',' after the data)"),
]:
    s, r = ask(raw)
    report(r == want and closed(s), name + ": refused and closed", repr(r))
    s.close()

# An oversize request is refused from its length, before its data is sent.
s = conn()
s.sendall(b"100000:")
r = read_reply(s)
report(r == "PERM request of 100000 bytes exceeds the limit of 512" and closed(s),
       "oversize length (socketmap's own 100000): refused unread", repr(r))
s.close()
s, r = ask(netstring("tlstrust " + "a" * 503 + ".test"))
report(r is not None and "exceeds the limit of 512" in r, "a request just over the bound", repr(r))
s.close()
s, r = ask(netstring("tlstrust " + "a." * 60 + "test"))
report(r == "NOTFOUND ", "a long but bounded name is judged", repr(r))
s.close()

# Well-framed but wrong requests: PERM, and the connection goes on.
s = conn()
for name, text, want in [
    ("another map name", "other member.test", "PERM unknown map (this is map tlstrust)"),
    ("a map name without a key", "tlstrust", "PERM unknown map (this is map tlstrust)"),
    ("an empty key", "tlstrust ", "PERM no key"),
    ("a control byte", "tlstrust member\x01.test", "PERM control character in request"),
    ("a NUL byte", "tlstrust member\x00.test", "PERM control character in request"),
    ("an empty netstring", "", "PERM unknown map (this is map tlstrust)"),
]:
    s.sendall(netstring(text))
    r = read_reply(s)
    report(r == want, name + ": PERM", repr(r))
s.sendall(netstring("tlstrust member.test"))
r = read_reply(s)
report(r is not None and r.startswith("OK "), "the connection still serves after PERMs", repr(r))
s.close()

# Keys that are not domains of the network.
for key in ["[127.0.0.1]:25", ".member.test", "member.test:x", "bad..name", "-x.test"]:
    s, r = ask(netstring("tlstrust " + key))
    report(r == "NOTFOUND ", "key %r: NOTFOUND" % key, repr(r))
    s.close()

# Two requests in one write: two answers, in order.
s = conn()
s.sendall(netstring("tlstrust member.test") + netstring("tlstrust outsider.test"))
r1, r2 = read_reply(s), read_reply(s)
report(r1 is not None and r1.startswith("OK ") and r2 == "NOTFOUND ", "pipelined requests",
       repr((r1, r2)))
s.close()

# A slow client: half a request, then nothing. Cut off after the request deadline (5 s).
s = conn(timeout=15)
s.sendall(b"20:tlstr")
t0 = time.monotonic()
gone = closed(s)
took = time.monotonic() - t0
report(gone and 3 < took < 10, "a slow client is cut off after about 5 s", "closed=%s after %.1f s"
       % (gone, took))
s.close()

# Bounded concurrency: WORKERS idle connections hold every worker; one more
# waits in the listen queue unanswered, and is served once one is freed.
held = [conn() for _ in range(WORKERS)]
for h in held:  # each connection is owned by a worker once it answered
    h.sendall(netstring("tlstrust outsider.test"))
    read_reply(h)
extra = conn(timeout=1.5)
extra.sendall(netstring("tlstrust member.test"))
try:
    r = read_reply(extra)
    report(False, "connection %d waits while %d are served" % (WORKERS + 1, WORKERS), repr(r))
except socket.timeout:
    report(True, "connection %d waits while %d are served" % (WORKERS + 1, WORKERS))
held.pop().close()
extra.settimeout(10)
r = read_reply(extra)
report(r is not None and r.startswith("OK "), "and is served once one closes", repr(r))
extra.close()
for h in held:
    h.close()

sys.exit(1 if failed else 0)
