-- protocol.lua - the stages the milter asks the MTA to send (issue 14):
-- every stage is a round trip the MTA waits for. HELO, end of headers and
-- the body are skipped (the TLS macros come with MAIL); DATA is not, so
-- that Postfix never sends its DATA macros alone and then waits about
-- 40 ms for our delayed ACK over inet. miltertest refuses to send a stage
-- the milter negotiated away.
dofile(HERE .. "/common.lua")

T.run(function()
T.start("", "from:tru.test trusted reject\n")
local conn = T.session(T.postfix)
T.check(mt.getreply(conn) == SMFIR_CONTINUE, "connect is sent and answered")
local ok, err = pcall(mt.helo, conn, "client.example")
T.check(not ok and tostring(err):find("SMFIP_NOHELO", 1, true), "HELO is skipped", err)
-- The TLS state arrives with MAIL, where the MTA sends the macros we asked for.
T.helo(conn, T.concat(T.postfix.tls, {"{cert_subject}", "mx.tru.test", "{cert_issuer}", "Red Segura CA"}))
T.check(T.mail(conn, "<a@tru.test>") == SMFIR_CONTINUE, "TLS macros at MAIL: trusted rule passes")
T.check(T.rcpt(conn, "<b@receiver.test>") == SMFIR_CONTINUE, "RCPT answered")
ok, err = pcall(mt.data, conn)
T.check(ok and mt.getreply(conn) == SMFIR_CONTINUE, "DATA is sent and answered", err)
assert(mt.header(conn, "Subject", "x") == nil)
ok, err = pcall(mt.eoh, conn)
T.check(not ok and tostring(err):find("SMFIP_NOEOH", 1, true), "end of headers is skipped", err)
assert(mt.eom(conn) == nil)
T.check(mt.getreply(conn) == SMFIR_CONTINUE, "end of message answered")
local tag = T.tag(conn)
T.check(tag and tag:find("^trusted") and tag:find("network=redsegura", 1, true), "tagged trusted", tag)
mt.disconnect(conn)
end)
