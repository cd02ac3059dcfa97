-- onerror_accept.lua - OnError accept: after an internal failure the
-- message goes through untagged, but forged tags are still removed.
-- env: TLSTRUST_TEST_FAULT=envfrom
dofile(HERE .. "/common.lua")

T.run(function()
T.start("OnError accept\n", "strict.test trusted reject\n")
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<a@strict.test>") == SMFIR_CONTINUE, "failure at MAIL: accepted")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn, {{"X-TLS-Trust", "trusted; forged"}}) == SMFIR_CONTINUE, "message accepted")
T.check(mt.eom_check(conn, MT_HDRDELETE, "X-TLS-Trust"), "forged tag still deleted")
T.check(not mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "no tag added")
T.check(T.last_log("internal error", {"OnError accept"}), "failure logged with the policy")
mt.disconnect(conn)
end)
