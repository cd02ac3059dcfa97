-- onerror_alloc.lua - OnError accept when the session state cannot be
-- allocated: mail passes untagged, but a forged tag is refused at once.
-- env: TLSTRUST_TEST_FAULT=connect-alloc
dofile(HERE .. "/common.lua")

T.run(function()
T.start("OnError accept\n", "")
local conn = T.session(T.postfix)
T.check(mt.getreply(conn) == SMFIR_CONTINUE, "connect continues without state")
T.helo(conn, {})
T.mail(conn, "<a@x.test>")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_CONTINUE, "clean message accepted")
T.check(not mt.eom_check(conn, MT_HDRINSERT), "clean message not tagged")
T.mail(conn, "<a@x.test>")
T.rcpt(conn, "<b@receiver.test>")
assert(mt.header(conn, "x-TLS-trust", "trusted") == nil)
T.check(mt.getreply(conn) == SMFIR_REPLYCODE, "forged tag refused without state")
mt.disconnect(conn)
end)
