-- reload.lua - SIGHUP reloads the table: the next transaction uses it, an
-- open connection picks it up at its next MAIL, and a broken or deleted
-- table leaves the previous policy in force with file:line in the log.
dofile(HERE .. "/common.lua")

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function wait_log(fragment)
  for _ = 1, 100 do
    if T.log():sub(T.mark_pos + 1):find(fragment, 1, true) then return true end
    mt.sleep(0.05)
  end
  return false
end

T.run(function()
T.start("", "a.test encrypt reject\n")
local open_conn = T.session(T.postfix)
T.helo(open_conn, {})
T.check(T.mail(open_conn, "<x@a.test>") == SMFIR_REPLYCODE, "before reload: a.test refused")
mt.abort(open_conn)

write(DIR .. "/domains", "b.test encrypt reject\n")
T.mark()
mt.signal(1)
T.check(wait_log("reloaded"), "SIGHUP logged a reload")
T.check(T.mail(open_conn, "<x@a.test>") == SMFIR_CONTINUE, "open connection: a.test now accepted")
mt.abort(open_conn)
T.check(T.mail(open_conn, "<x@b.test>") == SMFIR_REPLYCODE, "open connection: b.test now refused")
mt.abort(open_conn)

write(DIR .. "/domains", "b.test encrypt reject\nc.test sometimes\n")
T.mark()
mt.signal(1)
T.check(wait_log("reload failed"), "broken table: reload failed")
T.check(T.last_log("reload failed", {DIR .. "/domains:2: unknown requirement 'sometimes'", "keeping the previous configuration"}),
  "broken table: file:line in the log")
T.check(T.mail(open_conn, "<x@b.test>") == SMFIR_REPLYCODE, "broken table: old policy still in force")
mt.abort(open_conn)

os.remove(DIR .. "/domains")
T.mark()
mt.signal(1)
T.check(wait_log("reload failed"), "deleted table: reload failed")
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<x@b.test>") == SMFIR_REPLYCODE, "deleted table: old policy still in force")
mt.disconnect(conn)

-- SIGUSR1 reloads too (OpenDKIM's signal), and the daemon is still alive.
write(DIR .. "/domains", "")
T.mark()
mt.signal(10)
T.check(wait_log("reloaded"), "SIGUSR1 reloads")
T.check(T.mail(open_conn, "<x@b.test>") == SMFIR_CONTINUE, "empty table: nothing enforced")
mt.disconnect(open_conn)
end)
