-- onerror_chgheader.lua - a forged tag that cannot be deleted is never let
-- through, even under OnError accept; without a forgery the message passes.
-- env: TLSTRUST_TEST_FAULT=chgheader
dofile(HERE .. "/common.lua")

T.run(function()
T.start("OnError accept\n", "")
local conn = T.session(T.postfix)
T.helo(conn, {})
T.mail(conn, "<a@x.test>")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn, {{"X-TLS-Trust", "trusted; forged"}}) == SMFIR_REPLYCODE, "undeletable forgery: tempfail")
T.check(T.last_log("cannot remove", {"tempfail"}), "logged")
T.mail(conn, "<a@x.test>")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_CONTINUE, "no forgery: accepted")
T.check(mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "no forgery: tagged")
mt.disconnect(conn)
end)
