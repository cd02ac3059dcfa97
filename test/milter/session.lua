-- session.lua - the life of a connection: STARTTLS (a second HELO with TLS
-- macros), several transactions, RSET, client: rules, aborts at each stage.
dofile(HERE .. "/common.lua")

T.run(function()
T.start("", "enc.test encrypt reject\n" ..
  "client:198.51.100.0/24 encrypt reject\n" ..
  "client:.relay.test verify defer\n" ..
  "client:198.51.100.7 none\n")

-- EHLO in plaintext, then STARTTLS and EHLO again with TLS.
local conn = T.session(T.postfix)
T.helo(conn, {})
T.helo(conn, T.postfix.tls)
T.check(T.mail(conn, "<a@enc.test>") == SMFIR_CONTINUE, "after STARTTLS the session counts as encrypted")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn)
T.check((T.tag(conn) or ""):find("^encrypted; ") ~= nil, "tag says encrypted", tostring(T.tag(conn)))
-- Second transaction on the same connection, after RSET.
T.mail(conn, "<a@other.test>")
mt.abort(conn)
T.check(T.mail(conn, "<a@enc.test>") == SMFIR_CONTINUE, "transaction after RSET")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn)
T.check((T.tag(conn) or ""):find("rule=\"from:enc.test\"", 1, true) ~= nil, "second transaction tagged with its own rule", tostring(T.tag(conn)))
mt.disconnect(conn)

-- client: rules: CIDR, exact address exemption, host name parent.
conn = T.session(T.postfix, "198.51.100.20", "unknown")
T.helo(conn, {})
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_REPLYCODE, "plaintext client in 198.51.100.0/24 refused")
T.check(T.last_log("refused at MAIL", {"rule=client:198.51.100.0/24", "reply=550 5.7.10"}), "client rule logged")
mt.disconnect(conn)
conn = T.session(T.postfix, "198.51.100.7", "unknown")
T.helo(conn, {})
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "exempted address accepted")
mt.disconnect(conn)
conn = T.session(T.postfix, "203.0.113.5", "mx1.relay.test")
T.helo(conn, T.postfix.tls)
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_REPLYCODE, "client host name rule (.relay.test verify) defers")
T.check(T.last_log("refused at MAIL", {"rule=client:.relay.test", "reply=450 4.7.1"}), "host name rule logged")
mt.disconnect(conn)
-- Sendmail's "[addr]" name is not a verified host name.
conn = T.session(T.sendmail, "203.0.113.5", "[203.0.113.5]")
T.helo(conn, {})
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "unverified client name ignored")
mt.disconnect(conn)

-- Sendmail's {client_resolve} other than OK: the name may be forged and is ignored.
conn = T.session({connect = T.concat(T.sendmail.connect, {"{client_resolve}", "FORGED"})}, "203.0.113.5", "mx1.relay.test")
T.helo(conn, T.sendmail.tls)
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "possibly forged client name ignored")
mt.disconnect(conn)
conn = T.session({connect = T.concat(T.sendmail.connect, {"{client_resolve}", "OK"})}, "203.0.113.5", "mx1.relay.test")
T.helo(conn, T.sendmail.tls)
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_REPLYCODE, "resolved client name used")
mt.disconnect(conn)

-- Aborts and disconnects at every stage leave the daemon serving.
-- (connect, HELO, MAIL, RCPT, a header: HELO, end of headers and the body
-- are never sent to us, T.helo only records the TLS macros for MAIL).
for stage = 1, 5 do
  conn = T.session(T.postfix)
  if stage >= 2 then T.helo(conn, T.postfix.tls) end
  if stage >= 3 then T.mail(conn, "<a@x.test>") end
  if stage >= 4 then T.rcpt(conn, "<b@receiver.test>") end
  if stage >= 5 then mt.header(conn, "X-TLS-Trust", "forged") end
  if stage % 2 == 0 then mt.abort(conn) end
  mt.disconnect(conn, false)
end
conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "daemon still serving after abrupt disconnects")
mt.disconnect(conn)
end)
