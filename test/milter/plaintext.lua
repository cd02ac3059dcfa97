-- plaintext.lua - sessions without TLS: untagged domains, and a trusted
-- requirement under each action (defer 450 4.7.10, reject 550 5.7.10,
-- monitor accepts with policy=fail), for both MTAs' macro sets.
dofile(HERE .. "/common.lua")

T.run(function()
T.start("DefaultAction defer\n",
  "defer.test trusted\n" ..
  "reject.test trusted reject\n" ..
  "monitor.test trusted monitor\n")

for _, mta in ipairs({{"postfix", T.postfix}, {"sendmail", T.sendmail}}) do
  local label, m = mta[1], mta[2]
  local conn = T.session(m)
  local helo = {}
  if label == "sendmail" then helo = {"{verify}", "NONE"} end
  T.check(T.helo(conn, helo) == SMFIR_CONTINUE, label .. ": HELO continues")

  T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, label .. ": unlisted sender accepted")
  T.rcpt(conn, "<b@receiver.test>")
  T.check(T.message(conn) == SMFIR_CONTINUE, label .. ": message accepted")
  T.check(T.tag(conn) == "none; policy=none; authserv-id=mx.receiver.test",
    label .. ": tag 'none; policy=none' (got " .. tostring(T.tag(conn)) .. ")")

  T.check(T.mail(conn, "<a@defer.test>") == SMFIR_REPLYCODE, label .. ": defer.test refused at MAIL")
  T.check(T.last_log("refused at MAIL", {"rule=from:defer.test", "action=defer", "reply=450 4.7.10",
    "reason=\"Encryption needed\""}), label .. ": logged 450 4.7.10 Encryption needed")
  mt.abort(conn)

  T.check(T.mail(conn, "<a@REJECT.test.>") == SMFIR_REPLYCODE, label .. ": reject.test refused")
  T.check(T.last_log("refused at MAIL", {"rule=from:reject.test", "reply=550 5.7.10"}),
    label .. ": logged 550 5.7.10")
  mt.abort(conn)

  T.check(T.mail(conn, "<a@monitor.test>") == SMFIR_CONTINUE, label .. ": monitor accepts at MAIL")
  T.rcpt(conn, "<b@receiver.test>")
  T.check(T.message(conn) == SMFIR_CONTINUE, label .. ": monitor accepts the message")
  T.check(T.tag(conn) == "none; policy=fail; action=monitor; rule=\"from:monitor.test\"; authserv-id=mx.receiver.test",
    label .. ": monitor tag (got " .. tostring(T.tag(conn)) .. ")")
  T.check(T.last_log("tagged", {"rule=from:monitor.test", "result=fail", "action=monitor"}),
    label .. ": monitor decision logged")

  -- The null sender has no from: domain.
  T.check(T.mail(conn, "<>") == SMFIR_CONTINUE, label .. ": null sender not judged by from: rules")
  mt.abort(conn)
  mt.disconnect(conn)
end
end)
