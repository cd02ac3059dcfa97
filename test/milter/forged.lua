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

-- Next transaction on the same connection: a foreign result only, nothing to delete.
T.mail(conn, "<a@forger.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"Authentication-Results", "other.example; spf=pass"}})
T.check(not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), "foreign Authentication-Results kept")
T.check(not mt.eom_check(conn, MT_HDRDELETE, "X-TLS-Trust"), "no deletion without forgeries")
T.check(mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "tag added again")

-- 100 forged copies.
T.mail(conn, "<a@forger.test>")
T.rcpt(conn, "<b@receiver.test>")
local many = {}
for i = 1, 100 do many[i] = {"X-TLS-TRUST", "trusted; n=" .. i} end
T.mark()
T.check(T.message(conn, many) == SMFIR_CONTINUE, "100 forged tags: accepted")
T.check(T.last_log("removed", {"removed 100 forged"}), "100 forged tags removed")
mt.disconnect(conn)
end)
