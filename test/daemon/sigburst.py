#!/usr/bin/env python3
"""sigburst.py SOCKSPEC PID [term] - for daemon.sh: while LOADERS threads run
back-to-back milter sessions against SOCKSPEC, send PID 200 reload signals,
SIGUSR1 and SIGHUP interleaved: first in pairs 2 ms apart (each pair lands
while the daemon is still waking for the first signal of it, which is when
a thread of libmilter waiting for SIGHUP could take the second), then 200
more back to back. Prints "sent=N sessions=N errors=N alive=yes|no" and,
if alive, whether a new session still gets its tag ("fresh=ok").
With "term": send one SIGTERM after 0.5 s of load instead, keep the load
on until PID is gone (at most 20 s), and print "gone=yes|no"."""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "catalogue"))
from milterclient import Session  # noqa: E402

LOADERS = 4


def session(spec):
    s = Session(spec, timeout=10)
    try:
        s.connect()
        s.helo()
        s.mail("<a@sender.example>")
        s.rcpt("<b@receiver.example>")
        s.header("Subject", "burst")
        s.eom()
        return bool(s.count("X-TLS-Trust"))
    finally:
        s.close()


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main():
    spec, pid = sys.argv[1], int(sys.argv[2])
    term = len(sys.argv) > 3 and sys.argv[3] == "term"
    stop = threading.Event()
    done, errors = [0] * LOADERS, [0] * LOADERS

    def load(i):
        while not stop.is_set():
            try:
                session(spec)
                done[i] += 1
            except Exception:  # noqa: BLE001 - any failure counts
                errors[i] += 1
                time.sleep(0.01)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(LOADERS)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    if term:
        time.sleep(0.2)
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 20
        while alive(pid) and time.time() < deadline:
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        print("sessions=%d gone=%s" % (sum(done), "no" if alive(pid) else "yes"))
        return
    sent = 0
    try:
        for _ in range(100):
            os.kill(pid, signal.SIGUSR1)
            os.kill(pid, signal.SIGHUP)
            sent += 2
            time.sleep(0.002)
        for k in range(200):
            os.kill(pid, signal.SIGHUP if k % 2 else signal.SIGUSR1)
            sent += 1
    except ProcessLookupError:
        pass
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    up = alive(pid)
    fresh = "none"
    if up:
        try:
            fresh = "ok" if session(spec) else "untagged"
        except Exception as e:  # noqa: BLE001
            fresh = "failed:%s" % e
    print("sent=%d sessions=%d errors=%d alive=%s fresh=%s"
          % (sent, sum(done), sum(errors), "yes" if up else "no", fresh))


main()
