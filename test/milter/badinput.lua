-- badinput.lua - the bad-input catalogue at the protocol level: hostile
-- macro values, envelopes and headers. Each case has a safe, asserted
-- outcome, and the daemon keeps serving afterwards.
dofile(HERE .. "/common.lua")

local function no_crlf(s) return s ~= nil and not s:find("[\r\n%z]") end

T.run(function()
T.start("AuthResults yes\n", "tru.test trusted reject\n.ministerio.test encrypt reject\n")

local function tls_session(mta, extra, from)
  local conn = T.session(mta)
  T.helo(conn, T.concat(mta.tls, extra))
  local r = T.mail(conn, from or "<a@unlisted.test>")
  return conn, r
end

local function deliver(conn, headers)
  T.rcpt(conn, "<b@receiver.test>")
  local r = T.message(conn, headers)
  return r, T.tag(conn)
end

-- Long names (miltertest caps a macro packet near 1 KiB, and both go in the
-- MAIL packet with the other TLS macros; test/catalogue sends the 64 KiB
-- ones with its own protocol client).
local big = string.rep("A", 350)
local conn = T.session(T.postfix)
T.helo(conn, T.concat(T.postfix.tls, {"{cert_issuer}", "Red Segura CA" .. big}))
T.check(T.mail(conn, "<a@tru.test>", {"{cert_subject}", big}) == SMFIR_REPLYCODE, "long issuer starting with the CA name: not trusted")
T.check(T.last_log("refused at MAIL", {"level=verified"}), "long issuer: verified only")
mt.abort(conn)
T.mail(conn, "<a@unlisted.test>", {"{cert_subject}", big})
local r, tag = deliver(conn)
T.check(r == SMFIR_CONTINUE and no_crlf(tag) and #tag < 998, "long names: tag bounded", tag and #tag)
T.check(tag and tag:find('subject="AAAA', 1, true) and tag:find('...";', 1, true), "long subject cut with ...", tag)
mt.disconnect(conn)

-- CR/LF in certificate names: a header injection attempt.
conn = tls_session(T.postfix, {"{cert_subject}", "mx.evil.test\r\nX-TLS-Trust: trusted", "{cert_issuer}", "Evil\"; policy=pass\r\n\tX: y"})
r, tag = deliver(conn)
T.check(r == SMFIR_CONTINUE and no_crlf(tag), "CR/LF in names: no CR or LF in the tag", tag)
T.check(tag and tag:find('subject="mx.evil.test\\\\x0D\\\\x0AX-TLS-Trust: trusted"', 1, true), "CR/LF shown as \\x0D\\x0A", tag)
T.check(tag and tag:find('issuer="Evil\\"; policy=pass\\\\x0D\\\\x0A\\\\x09X: y"', 1, true), "quote escaped, policy not forgeable", tag)
T.check(tag and tag:find("^verified; "), "injected names stay verified, not trusted", tag)
mt.disconnect(conn)

-- Invalid xtext in Sendmail form, invalid UTF-8, odd bits and verify words.
for _, bad in ipairs({"/CN=Red+20Segura+20CA+G1", "/CN=Red+20Segura+20CA+", "/CN=Red+00Segura"}) do
  conn = tls_session(T.sendmail, {"{cert_issuer}", bad, "{verify}", "OK"}, "<a@tru.test>")
  T.check(mt.getreply(conn) == SMFIR_REPLYCODE, "invalid xtext " .. bad .. ": not trusted")
  mt.disconnect(conn)
end
conn = tls_session(T.postfix, {"{cert_subject}", "caf\xe9\xff\xc3", "{cert_issuer}", "Outside CA", "{cipher_bits}", "-12"})
r, tag = deliver(conn)
T.check(tag and tag:find('subject="caf\\\\xE9\\\\xFF\\\\xC3"', 1, true), "invalid UTF-8 escaped", tag)
T.check(tag and not tag:find("bits="), "negative bits not reported", tag)
mt.disconnect(conn)
conn = tls_session(T.postfix, {"{cipher_bits}", "lots"}, "<a@x.ministerio.test>")
r, tag = deliver(conn)
T.check(r == SMFIR_CONTINUE and tag and not tag:find("bits="), "non-numeric bits: ignored, encrypt rule passes", tag)
mt.disconnect(conn)
conn = tls_session(T.sendmail, {"{cert_issuer}", T.NETWORK_DN_XTEXT, "{verify}", "MAYBE"}, "<a@tru.test>")
T.check(mt.getreply(conn) == SMFIR_REPLYCODE, "unknown {verify} word: not trusted")
mt.disconnect(conn)
-- {cert_issuer} in Sendmail form without {verify} (an MTA that did not send it).
conn = T.session({connect = {"j", "mx.receiver.test"}})
T.helo(conn, T.concat(T.sendmail.tls, {"{cert_issuer}", T.NETWORK_DN_XTEXT}))
T.check(T.mail(conn, "<a@tru.test>") == SMFIR_REPLYCODE, "DN without {verify}: not trusted")
T.check(T.log():find("without {verify}", 1, true) ~= nil, "DN without {verify}: logged")
mt.disconnect(conn)

-- Envelope: a 1,000-character address, 300 labels, no domain, bad syntax.
conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<" .. string.rep("a", 990) .. "@x.ministerio.test>") == SMFIR_REPLYCODE, "1,000-character address: domain still judged")
mt.abort(conn)
T.check(T.mail(conn, "<a@" .. string.rep("l.", 300) .. "ministerio.test>") == SMFIR_REPLYCODE, "300 labels: parent rule still applies")
mt.abort(conn)
T.check(T.mail(conn, "<postmaster>") == SMFIR_CONTINUE, "no domain: accepted, no from: rule")
mt.abort(conn)
T.check(T.mail(conn, "<\"unbalanced@x.test>") == SMFIR_REPLYCODE, "malformed address: refused")
T.check(T.last_log("malformed sender", {}), "malformed address logged")
mt.abort(conn)
mt.disconnect(conn)

-- Headers: 10,000 headers and 100 forged tags (the 1 MiB header is in test/catalogue).
conn = T.session(T.postfix)
T.helo(conn, {})
T.mail(conn, "<a@x.test>")
T.rcpt(conn, "<b@receiver.test>")
for i = 1, 10000 do assert(mt.header(conn, "X-Filler-" .. i, "v") == nil) end
for i = 1, 32 do assert(mt.header(conn, (i % 2 == 0) and "X-TLS-Trust" or "x-tls-TRUST", "trusted") == nil) end
T.mark()
T.check(T.message(conn) == SMFIR_CONTINUE, "10,000 headers: accepted")
T.check(T.last_log("removed", {"removed 32 forged"}), "32 forged tags removed")
mt.disconnect(conn)

-- Still serving.
conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "daemon still serving")
mt.disconnect(conn)
end)
