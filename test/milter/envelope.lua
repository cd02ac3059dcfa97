-- envelope.lua - an envelope address is judged as the MTA parsed it
-- ({mail_addr}, {rcpt_addr}) and as the client spelled it, under the
-- strictest rule either matches; what cannot be judged is refused
-- (security review, item 1). The same spellings go through the real
-- Postfix and Sendmail in test/e2e (scenario 14).
dofile(HERE .. "/common.lua")

local unpack = table.unpack or unpack

-- RCPT with the MTA's parsed address, as both MTAs send it when asked.
local function rcpt(conn, raw, parsed)
  T.mark()
  if parsed then
    assert(mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", parsed) == nil)
  end
  assert(mt.rcptto(conn, raw) == nil)
  return mt.getreply(conn)
end

local function mail(conn, raw, parsed)
  return T.mail(conn, raw, parsed and {"{mail_addr}", parsed})
end

T.run(function()
T.start("", "to:secure.test encrypt reject\n" ..
  "from:ministerio.test encrypt reject\n" ..
  "to:xn--scure-bsa.test encrypt reject\n" ..
  "to:caf\xc3\xa9.test encrypt reject\n")

-- Without the MTA's macros: the raw argument alone, read as the MTAs read it.
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(mail(conn, "<a@sender.test>") == SMFIR_CONTINUE, "plain sender accepted")
for _, raw in ipairs({"<a@secure.test >", "< a@secure.test>", "<<a@secure.test>>",
    "<a@secure.test (comment)>", "<a@SECURE.Test>", "<a@secure.test..>",
    "<@relay.test:a@secure.test>", "<\"a b\"@secure.test>", "<secure.test!a>",
    "<a%secure.test@receiver.test>", "<a@s\xc3\xa9" .. "cure.test>", "<a@xn--caf-dma.test>"}) do
  T.check(rcpt(conn, raw) == SMFIR_REPLYCODE, "raw " .. raw .. ": refused by its to: rule")
end
T.check(T.last_log("refused at RCPT", {"rule=to:xn--caf-dma.test"}),
  "a UTF-8 table key meets the A-label spelling")
T.check(rcpt(conn, "<a@\"secure.test\">") == SMFIR_REPLYCODE, "quoted domain: refused")
T.check(T.last_log("malformed recipient", {}), "unjudgeable recipient logged")
T.check(rcpt(conn, "<b@receiver.test>") == SMFIR_CONTINUE, "plain recipient accepted")
mt.disconnect(conn)

-- With the MTA's parsed form, as Postfix and Sendmail send it.
conn = T.session(T.postfix)
T.helo(conn, {})
T.check(mail(conn, "<a@ministerio.test >", "a@ministerio.test") == SMFIR_REPLYCODE,
  "MAIL <a@ministerio.test >: refused by its from: rule")
T.check(T.last_log("refused at MAIL", {"rule=from:ministerio.test"}), "from: refusal logged")
T.check(mail(conn, "<a@sender.test>", "a@sender.test") == SMFIR_CONTINUE, "plain sender accepted")
T.check(rcpt(conn, "<bob@alias.test>", "a@secure.test") == SMFIR_REPLYCODE,
  "the MTA's parsed recipient decides: refused")
T.check(rcpt(conn, "<a@secure.test>", "bob@elsewhere.test") == SMFIR_REPLYCODE,
  "rewritten by the MTA: the client's domain still judged")
T.check(rcpt(conn, "<a@receiver.test>", "a@\"secure.test\"") == SMFIR_REPLYCODE,
  "unjudgeable parsed form: refused")
T.check(rcpt(conn, "<b@receiver.test>", "b@receiver.test") == SMFIR_CONTINUE,
  "plain recipient accepted")
mt.disconnect(conn)

-- TLS satisfies the same rules whatever the spelling.
conn = T.session(T.sendmail)
T.helo(conn, T.sendmail.tls)
T.check(mail(conn, "<<a@ministerio.test>>", "a@ministerio.test") == SMFIR_CONTINUE,
  "encrypted: from: rule passes")
T.check(rcpt(conn, "<a@SECURE.test. >", "a@SECURE.test") == SMFIR_CONTINUE,
  "encrypted: to: rule passes")
T.check(T.message(conn) == SMFIR_CONTINUE, "message accepted")
local tag = T.tag(conn) or ""
T.check(tag:find("rule=\"from:ministerio.test\"", 1, true) ~= nil or
  tag:find("rule=from:ministerio.test", 1, true) ~= nil, "tag names the from: rule", tag)
mt.disconnect(conn)
end)
