-- reload_session.lua - what a reload changes reaches an open connection at
-- its next transaction: the authserv-id our headers carry (and recognise
-- as ours) and the InternalHosts answer (security review, item 7).
dofile(HERE .. "/common.lua")

T.run(function()
T.start("AuthResults yes\n", "")
-- Connected first: a signal before the daemon is ready would end it.
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.reload("AuthResults yes\nAuthservID old.example\n"), "first configuration loaded")
T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn)
local tag = T.tag(conn) or ""
T.check(tag:find("authserv-id=old.example", 1, true) ~= nil, "tag names old.example", tag)

T.check(T.reload("AuthResults yes\nAuthservID new.example\n"), "SIGHUP: AuthservID new.example")
T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"Authentication-Results", "new.example; x-tls=pass"}})
tag = T.tag(conn) or ""
T.check(tag:find("authserv-id=new.example", 1, true) ~= nil,
  "same connection, next transaction: tag names new.example", tag)
T.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
  "a forged Authentication-Results for new.example is deleted")

T.check(T.reload("AuthResults yes\nAuthservID new.example\nInternalHosts 192.0.2.10\n"),
  "SIGHUP: the client becomes internal")
T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"X-TLS-Trust", "trusted; from an internal host"}})
T.check(not mt.eom_check(conn, MT_HDRDELETE, "X-TLS-Trust"),
  "same connection, next transaction: internal, its tag kept")
T.check(not mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "internal: no tag added")
mt.disconnect(conn)
end)
