-- reload_session.lua - what a reload changes reaches an open connection at
-- its next transaction: the authserv-id our headers carry (and recognise
-- as ours) and the InternalHosts answer (security review, item 7).
dofile(HERE .. "/common.lua")

local function write_conf(extra)
  local f = assert(io.open(T.conf, "w"))
  f:write("Socket " .. T.sock .. "\n" ..
    "TrustedNetwork redsegura " .. CA .. "\n" ..
    "DomainTable " .. DIR .. "/domains\n" ..
    "Syslog no\nLogLevel debug\nAuthResults yes\n" .. extra)
  f:close()
end

local function reload(extra)
  write_conf(extra)
  T.mark()
  mt.signal(1)
  for _ = 1, 100 do
    if T.log():sub(T.mark_pos + 1):find("reloaded", 1, true) then return true end
    mt.sleep(0.05)
  end
  return false
end

T.run(function()
T.start("AuthResults yes\n", "")
-- Connected first: a signal before the daemon is ready would end it.
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(reload("AuthservID old.example\n"), "first configuration loaded")
T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn)
local tag = T.tag(conn) or ""
T.check(tag:find("authserv-id=old.example", 1, true) ~= nil, "tag names old.example", tag)

T.check(reload("AuthservID new.example\n"), "SIGHUP: AuthservID new.example")
T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"Authentication-Results", "new.example; x-tls=pass"}})
tag = T.tag(conn) or ""
T.check(tag:find("authserv-id=new.example", 1, true) ~= nil,
  "same connection, next transaction: tag names new.example", tag)
T.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
  "a forged Authentication-Results for new.example is deleted")

T.check(reload("AuthservID new.example\nInternalHosts 192.0.2.10\n"),
  "SIGHUP: the client becomes internal")
T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"X-TLS-Trust", "trusted; from an internal host"}})
T.check(not mt.eom_check(conn, MT_HDRDELETE, "X-TLS-Trust"),
  "same connection, next transaction: internal, its tag kept")
T.check(not mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "internal: no tag added")
mt.disconnect(conn)
end)
