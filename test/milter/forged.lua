-- forged.lua - incoming copies of the tag (any letter case) and
-- Authentication-Results carrying our authserv-id are deleted; others stay.
dofile(HERE .. "/common.lua")

T.run(function()
T.start("AuthResults yes\n", "")
local conn = T.session(T.postfix)
T.helo(conn, T.postfix.tls)
T.mail(conn, "<a@forger.test>")
T.rcpt(conn, "<b@receiver.test>")
T.mark()
T.check(T.message(conn, {
  {"X-TLS-Trust", "trusted; network=redsegura; policy=pass"},
  {"x-tls-trust", "trusted"},
  {"X-Tls-TRUST", "verified"},
  {"Authentication-Results", "mx.receiver.test; x-tls=pass smtp.version=TLSv1.3"},
  {"Authentication-Results", "other.example; spf=pass smtp.mailfrom=forger.test"},
  {"Authentication-Results", "(c) MX.RECEIVER.TEST 1; dkim=pass"},
}) == SMFIR_CONTINUE, "message with forgeries accepted")
T.check(mt.eom_check(conn, MT_HDRDELETE, "X-TLS-Trust"), "forged tags deleted")
T.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), "our forged Authentication-Results deleted")
T.check(T.last_log("removed", {"removed 3 forged X-TLS-Trust"}), "three forged tags counted and logged")
local tag = T.tag(conn)
T.check(tag ~= nil and tag:find("^encrypted; ") ~= nil, "our own tag inserted", tostring(tag))
T.check(mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust", tag, 0), "tag inserted at the top")
T.check(mt.getheader(conn, "Authentication-Results", 0) ==
  "mx.receiver.test; x-tls=pass smtp.version=TLSv1.3 smtp.cipher=TLS_AES_256_GCM_SHA384 smtp.bits=256",
  "our Authentication-Results added", tostring(mt.getheader(conn, "Authentication-Results", 0)))

-- RFC 8601 lets the authserv-id be a quoted-string: still ours, still deleted.
T.mail(conn, "<a@forger.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"Authentication-Results", "\"mx.receiver.test\"; dkim=pass"}})
T.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
  "quoted authserv-id recognised as ours and deleted")

-- Next transaction on the same connection: a foreign result only, nothing to delete.
T.mail(conn, "<a@forger.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"Authentication-Results", "other.example; spf=pass"}})
T.check(not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), "foreign Authentication-Results kept")
T.check(not mt.eom_check(conn, MT_HDRDELETE, "X-TLS-Trust"), "no deletion without forgeries")
T.check(mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "tag added again")

-- 32 forged copies (the cap) are deleted, one by one.
T.mail(conn, "<a@forger.test>")
T.rcpt(conn, "<b@receiver.test>")
local many = {}
for i = 1, 32 do many[i] = {"X-TLS-TRUST", "trusted; n=" .. i} end
T.mark()
T.check(T.message(conn, many) == SMFIR_CONTINUE, "32 forged tags: accepted")
T.check(T.last_log("removed", {"removed 32 forged"}), "32 forged tags removed")

-- The 33rd copy refuses the message (5xx) instead of 33 deletions: each
-- deletion costs the MTA work that grows with the header count.
T.mail(conn, "<a@forger.test>")
T.rcpt(conn, "<b@receiver.test>")
T.mark()
for i = 1, 32 do
  assert(mt.header(conn, "X-TLS-Trust", "trusted; n=" .. i) == nil)
  assert(mt.getreply(conn) == SMFIR_CONTINUE)
end
assert(mt.header(conn, "X-TLS-Trust", "trusted; n=33") == nil)
-- Headers get no reply (SMFIP_NR_HDR): the refusal comes at end of message,
-- after the client's final dot, as it would from a header reply.
assert(mt.eom(conn) == nil)
T.check(mt.getreply(conn) == SMFIR_REPLYCODE, "33 forged tags: message refused")
T.check(T.last_log("too many forged TLS tags", {}), "refusal logged with its reason")
mt.disconnect(conn)

-- The same cap for our Authentication-Results (AuthResults yes).
conn = T.session(T.postfix)
T.helo(conn, {})
T.mail(conn, "<a@forger.test>")
T.rcpt(conn, "<b@receiver.test>")
T.mark()
for i = 1, 32 do
  assert(mt.header(conn, "Authentication-Results", "mx.receiver.test; x-tls=pass") == nil)
  assert(mt.getreply(conn) == SMFIR_CONTINUE)
end
assert(mt.header(conn, "Authentication-Results", "\"mx.receiver.test\"; x-tls=pass") == nil)
assert(mt.eom(conn) == nil)
T.check(mt.getreply(conn) == SMFIR_REPLYCODE, "33 of our Authentication-Results: refused")
T.check(T.last_log("too many forged Authentication", {}), "refusal logged")
mt.disconnect(conn)
end)
