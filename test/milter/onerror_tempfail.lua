-- onerror_tempfail.lua - OnError tempfail (the default): an internal
-- failure at MAIL or while adding the tag refuses with 451 4.3.0.
-- env: TLSTRUST_TEST_FAULT=envfrom
dofile(HERE .. "/common.lua")

T.run(function()
T.start("", "")
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<a@x.test>") == SMFIR_REPLYCODE, "failure at MAIL: refused")
T.check(T.last_log("internal error", {"injected failure at MAIL", "OnError tempfail"}), "failure logged with the policy")
mt.disconnect(conn)
end)
