-- onerror_degraded.lua - OnError accept degrades one transaction only: after
-- a failure at MAIL, the next transaction on the same connection is judged
-- and tagged again (security review, item 7).
-- env: TLSTRUST_TEST_FAULT=envfrom:1
dofile(HERE .. "/common.lua")

T.run(function()
T.start("OnError accept\n", "strict.test trusted reject\n")
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<a@strict.test>") == SMFIR_CONTINUE, "failure at MAIL: accepted")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_CONTINUE, "degraded message accepted")
T.check(not mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "degraded message: no tag")

T.check(T.mail(conn, "<a@strict.test>") == SMFIR_REPLYCODE,
  "next transaction: policy enforced again")
T.check(T.last_log("refused at MAIL", {"rule=from:strict.test"}), "refusal logged")
mt.abort(conn)
T.check(T.mail(conn, "<a@other.test>") == SMFIR_CONTINUE, "other sender accepted")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_CONTINUE, "message accepted")
T.check(mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "next transaction: tagged again")
mt.disconnect(conn)
end)
