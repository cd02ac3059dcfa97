#!/usr/bin/env python3
"""catalogue.py - bad inputs too large for miltertest, sent to the real
daemon with milterclient.py: 64 KiB certificate names, NUL bytes in macro
packets, a 1 MiB header, and a message whose forged tags are counted after
the milter's changes are applied. Usage: catalogue.py SOCKET."""

import os
import sys

from milterclient import MilterError, Session


def fixtures():
    """The MTA macros every harness shares (test/fixtures/macros.tsv):
    {fixture: [(name, value), ...]} in the file's order."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                        "macros.tsv")
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                fixture, name, value = line.split("\t")
                out.setdefault(fixture, []).append((name, value))
    return out


FIXTURES = fixtures()
PF = FIXTURES["postfix.connect"]
TLS = FIXTURES["tls"]
results = []


def check(cond, what, detail=""):
    results.append(bool(cond))
    print(("ok - " if cond else "not ok - ") + "catalogue: " + what)
    if not cond and detail:
        print("#   " + str(detail)[:300])


def session(sock, helo_macros=(), mail_macros=(), sender="<a@unlisted.test>"):
    s = Session(sock)
    s.connect(macros=PF)
    s.helo(macros=TLS + list(helo_macros))
    return s, s.mail(sender, macros=mail_macros)


def main(sock):
    big = "A" * 65536
    # 64 KiB issuer that starts with the network CA's name, 64 KiB subject.
    s, r = session(sock, [("{cert_issuer}", "Red Segura CA" + big)],
                   [("{cert_subject}", big)], sender="<a@tru.test>")
    check(r == "y", "64 KiB issuer: trusted rule refuses (not trusted)", r)
    s.abort()
    r = s.mail("<a@unlisted.test>")
    s.rcpt("<b@receiver.test>")
    r = s.eom()
    tag = s.count("X-TLS-Trust")
    check(r == "c" and len(tag) == 1, "64 KiB names: message tagged", (r, tag))
    check(tag and len(tag[0]) < 998 and "\r" not in tag[0] and "\n" not in tag[0],
          "64 KiB names: tag bounded, no CR/LF", tag and len(tag[0]))
    check(tag and tag[0].startswith("verified;"), "64 KiB names: verified only", tag)
    s.close()

    # NUL bytes inside a macro packet: the value ends at the NUL and the rest
    # reads as more names and values; nothing breaks. (The count of strings
    # is kept even: libmilter's smfi_getsymval reads past its array when a
    # packet ends on a name without a value, which valgrind reports. Postfix
    # and Sendmail never put a NUL inside a value; see SECURITY.md.)
    s, r = session(sock, [("{cert_issuer}", b"Red Segura CA\0{verify}\0OK"),
                          ("{cert_subject}", b"mx\0evil\0x")], sender="<a@tru.test>")
    check(r in ("c", "y"), "NUL in macro values: session continues", r)
    s.close()

    # A header just under 1 MiB that is a forged tag: deleted.
    s, r = session(sock)
    s.rcpt("<b@receiver.test>")
    s.header("X-TLS-Trust", "trusted; " + "x" * 1000000)
    r = s.eom()
    check(r == "c" and len(s.count("X-TLS-Trust")) == 1 and
          s.count("X-TLS-Trust")[0].startswith("encrypted;"),
          "1 MB forged tag header: deleted, ours added", (r, [v[:40] for v in s.count("X-TLS-Trust")]))
    s.close()

    # Over 1 MiB: libmilter drops the session (the MTA then applies
    # milter_default_action); the daemon keeps serving.
    s, r = session(sock)
    s.rcpt("<b@receiver.test>")
    try:
        s.header("X-Big", "y" * (1 << 20))
        s.eom()
        dropped = False
    except (MilterError, OSError):
        dropped = True
    check(dropped, "header over 1 MiB: session dropped by libmilter")
    s, r = session(sock)
    check(r == "c", "daemon still serving after the dropped session", r)
    s.close()

    # Forged tags in every letter case among other headers: exactly one survives, ours,
    # at the top; our forged Authentication-Results goes, a foreign one stays.
    s, r = session(sock)
    s.rcpt("<b@receiver.test>")
    s.headers.append(("Received", "from elsewhere"))
    for name, value in [("X-TLS-Trust", "trusted; forged=1"), ("Subject", "hi"),
                        ("x-tls-trust", "trusted; forged=2"), ("X-Tls-TRUST", "trusted; forged=3"),
                        ("Authentication-Results", "mx.receiver.test; x-tls=pass"),
                        ("Authentication-Results", "other.example; spf=pass"),
                        ("X-TLS-TRUST", "trusted; forged=4")]:
        s.header(name, value)
    r = s.eom()
    tags = s.count("X-TLS-Trust")
    check(r == "c" and len(tags) == 1 and "forged" not in tags[0], "exactly one tag survives, ours",
          tags)
    check(s.headers[0][0] == "X-TLS-Trust", "our tag is the first header", s.headers[:2])
    ars = s.count("Authentication-Results")
    check(ars == ["mx.receiver.test; x-tls=pass smtp.version=TLSv1.3 "
                  "smtp.cipher=TLS_AES_256_GCM_SHA384 smtp.bits=256",
                  "other.example; spf=pass"], "our forged result replaced, foreign one kept", ars)
    s.close()

    # Obsolete syntax: blanks between the name and the colon. The MTA indexes
    # "X-TLS-Trust " apart from "X-TLS-Trust"; each spelling is deleted under
    # its own name.
    s, r = session(sock)
    s.rcpt("<b@receiver.test>")
    for name in ("X-TLS-Trust ", "x-tls-trust\t", "X-TLS-Trust", "X-TLS-TRUST "):
        s.header(name, "trusted; forged")
    r = s.eom()
    tags = s.count("X-TLS-Trust") + s.count("X-TLS-Trust ") + s.count("x-tls-trust\t")
    check(r == "c" and len(tags) == 1 and "forged" not in tags[0],
          "tag names with blanks before the colon: deleted too", (r, s.headers))
    s.close()
    s, r = session(sock)
    s.rcpt("<b@receiver.test>")
    s.header("Authentication-Results ", "mx.receiver.test; x-tls=pass")
    r = s.eom()
    check(r == "y", "our Authentication-Results under a malformed name: refused", r)
    s.close()

    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
