-- onerror_insheader.lua - OnError tempfail when the tag cannot be added.
-- env: TLSTRUST_TEST_FAULT=insheader
dofile(HERE .. "/common.lua")

T.run(function()
T.start("", "")
local conn = T.session(T.postfix)
T.helo(conn, {})
T.mail(conn, "<a@x.test>")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_REPLYCODE, "tag not added: tempfail")
T.check(T.last_log("internal error", {"cannot add the tag header", "OnError tempfail"}), "logged")
mt.disconnect(conn)
end)
