-- recipients.lua - to: rules judged per recipient: a protected recipient
-- is refused over plaintext while the others go through.
dofile(HERE .. "/common.lua")

T.run(function()
T.start("", "to:protected.test encrypt reject\n" ..
  "to:.deferred.test encrypt defer\n" ..
  "to:watched.test trusted monitor\n")
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "MAIL accepted")
T.check(T.rcpt(conn, "<one@receiver.test>") == SMFIR_CONTINUE, "first recipient accepted")
T.check(T.rcpt(conn, "<two@Protected.Test>") == SMFIR_REPLYCODE, "protected recipient refused")
T.check(T.last_log("refused at RCPT", {"rcpt=\"<two@Protected.Test>\"", "rule=to:protected.test", "reply=550 5.7.10"}),
  "refusal logged with 550 5.7.10")
T.check(T.rcpt(conn, "<three@x.deferred.test>") == SMFIR_REPLYCODE, "subdomain rule defers")
T.check(T.last_log("refused at RCPT", {"reply=450 4.7.10"}), "deferral logged with 450 4.7.10")
T.check(T.rcpt(conn, "<four@receiver.test>") == SMFIR_CONTINUE, "later recipient accepted")
T.check(T.message(conn) == SMFIR_CONTINUE, "message delivered to the others")
T.check(T.tag(conn) == "none; policy=none; authserv-id=mx.receiver.test", "refused recipients do not mark the tag", tostring(T.tag(conn)))

-- A monitored to: rule fails in plaintext; the tag reports it.
T.mail(conn, "<a@unlisted.test>")
T.check(T.rcpt(conn, "<w@watched.test>") == SMFIR_CONTINUE, "monitored recipient accepted")
T.message(conn)
T.check(T.tag(conn) == "none; policy=fail; action=monitor; rule=\"to:watched.test\"; authserv-id=mx.receiver.test",
  "to: monitor in tag", tostring(T.tag(conn)))
mt.disconnect(conn)

-- Over TLS the protected recipient passes and the tag names its rule.
conn = T.session(T.postfix)
T.helo(conn, T.postfix.tls)
T.mail(conn, "<a@unlisted.test>")
T.check(T.rcpt(conn, "<two@protected.test>") == SMFIR_CONTINUE, "protected recipient accepted over TLS")
T.message(conn)
local tag = T.tag(conn)
T.check(tag ~= nil and tag:find("policy=pass; rule=\"to:protected.test\"", 1, true) ~= nil, "tag names the to: rule", tostring(tag))
mt.disconnect(conn)

-- 1,000 recipients in one transaction.
conn = T.session(T.postfix)
T.helo(conn, {})
T.mail(conn, "<a@unlisted.test>")
local refused = 0
for i = 1, 1000 do
  local to = (i % 10 == 0) and ("<r" .. i .. "@protected.test>") or ("<r" .. i .. "@receiver.test>")
  if T.rcpt(conn, to) == SMFIR_REPLYCODE then refused = refused + 1 end
end
T.check(refused == 100, "1,000 recipients: exactly the 100 protected ones refused", tostring(refused))
T.check(T.message(conn) == SMFIR_CONTINUE, "1,000 recipients: message accepted")
mt.disconnect(conn)
end)
