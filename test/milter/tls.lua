-- tls.lua - TLS sessions as each MTA reports them: no certificate, a
-- member certificate (Postfix CN form and Sendmail xtext DN form), the
-- rogue CA with a copied DN ({verify}=FAIL), a verified outside CA, a
-- subject mismatch, and version/bits requirements.
dofile(HERE .. "/common.lua")

T.run(function()
T.start("", "enc.test encrypt reject\n" ..
  "ver.test verify defer\n" ..
  "tru.test trusted reject\n" ..
  "net.test trusted:redsegura reject\n" ..
  "subj.test trusted reject subject=*.subj.test\n" ..
  "v13.test encrypt reject min_version=TLSv1.3\n" ..
  "bits.test encrypt reject min_bits=384\n")

local function case(mta, helo_macros, from, want_reply, label)
  local conn = T.session(mta)
  T.helo(conn, T.concat(mta.tls, helo_macros))
  local r = T.mail(conn, from)
  T.check(r == want_reply, label .. ": MAIL reply " .. tostring(r))
  return conn, r
end

local function tagged(conn, want, label)
  T.rcpt(conn, "<b@receiver.test>")
  T.check(T.message(conn) == SMFIR_CONTINUE, label .. ": message accepted")
  local tag = T.tag(conn)
  T.check(tag == want, label .. ": tag", "got  " .. tostring(tag) .. "\n#   want " .. want)
  mt.disconnect(conn)
end

-- TLS without a client certificate.
local conn = case(T.postfix, {}, "<a@enc.test>", SMFIR_CONTINUE, "postfix no cert, encrypt")
tagged(conn, "encrypted; version=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; policy=pass; rule=\"from:enc.test\"; authserv-id=mx.receiver.test", "postfix no cert")
conn = case(T.postfix, {}, "<a@ver.test>", SMFIR_REPLYCODE, "postfix no cert, verify rule")
T.check(T.last_log("refused at MAIL", {"reply=450 4.7.1", "verified TLS client certificate required"}), "verify rule: 450 4.7.1 logged")
mt.disconnect(conn)
conn = case(T.sendmail, {"{verify}", "NO"}, "<a@ver.test>", SMFIR_REPLYCODE, "sendmail no cert, verify rule")
mt.disconnect(conn)

-- Member certificate, Postfix form: issuer CN only, present only when verified.
local pf_member = {"{cert_subject}", "mail.subj.test", "{cert_issuer}", "Red Segura CA"}
conn = case(T.postfix, pf_member, "<a@net.test>", SMFIR_CONTINUE, "postfix member, trusted:redsegura")
tagged(conn, "trusted; network=redsegura; version=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; subject=\"mail.subj.test\"; issuer=\"Red Segura CA\"; policy=pass; rule=\"from:net.test\"; authserv-id=mx.receiver.test", "postfix member")
conn = case(T.postfix, pf_member, "<a@subj.test>", SMFIR_CONTINUE, "postfix member, subject matches")
mt.disconnect(conn)

-- Member certificate, Sendmail form: xtext DN, {verify}=OK.
local sm_member = {"{cert_subject}", "/C=ES/O=Red+20Segura/CN=mail.subj.test",
  "{cert_issuer}", T.NETWORK_DN_XTEXT, "{cn_subject}", "mail.subj.test",
  "{cn_issuer}", "Red+20Segura+20CA", "{verify}", "OK"}
conn = case(T.sendmail, sm_member, "<a@tru.test>", SMFIR_CONTINUE, "sendmail member, trusted")
tagged(conn, "trusted; network=redsegura; version=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; subject=\"mail.subj.test\"; issuer=\"Red Segura CA\"; verify=OK; policy=pass; rule=\"from:tru.test\"; authserv-id=mx.receiver.test", "sendmail member")

-- Rogue CA with a byte-identical DN: Sendmail still reports the names, with {verify}=FAIL.
local sm_rogue = {"{cert_subject}", "/C=ES/O=Red+20Segura/CN=mail.subj.test",
  "{cert_issuer}", T.NETWORK_DN_XTEXT, "{cn_subject}", "mail.subj.test",
  "{cn_issuer}", "Red+20Segura+20CA", "{verify}", "FAIL"}
conn = case(T.sendmail, sm_rogue, "<a@tru.test>", SMFIR_REPLYCODE, "sendmail rogue CA refused by trusted rule")
T.check(T.last_log("refused at MAIL", {"level=encrypted", "reply=550 5.7.1"}), "sendmail rogue: encrypted, 550 5.7.1")
mt.disconnect(conn)
conn = case(T.sendmail, sm_rogue, "<a@unlisted.test>", SMFIR_CONTINUE, "sendmail rogue, no rule")
tagged(conn, "encrypted; version=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; verify=FAIL; policy=none; authserv-id=mx.receiver.test", "sendmail rogue")
-- Postfix sends no certificate macros at all for the rogue certificate.
conn = case(T.postfix, {}, "<a@tru.test>", SMFIR_REPLYCODE, "postfix rogue (no cert macros) refused")
mt.disconnect(conn)

-- Outside CA, verified by the MTA but in no trusted network.
conn = case(T.postfix, {"{cert_subject}", "mx.outside.test", "{cert_issuer}", "Outside CA"}, "<a@tru.test>", SMFIR_REPLYCODE, "postfix outside CA refused by trusted rule")
T.check(T.last_log("refused at MAIL", {"level=verified", "trusted network required"}), "outside CA: verified, reason logged")
mt.disconnect(conn)
conn = case(T.sendmail, {"{cert_subject}", "/CN=mx.outside.test", "{cert_issuer}", "/C=US/O=Outside/CN=Outside+20CA", "{verify}", "OK"}, "<a@ver.test>", SMFIR_CONTINUE, "sendmail outside CA passes verify rule")
tagged(conn, "verified; version=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; subject=\"mx.outside.test\"; issuer=\"Outside CA\"; verify=OK; policy=pass; rule=\"from:ver.test\"; authserv-id=mx.receiver.test", "sendmail outside CA")

-- Subject mismatch: a member certificate of another member.
conn = case(T.postfix, {"{cert_subject}", "mail.other.test", "{cert_issuer}", "Red Segura CA"}, "<a@subj.test>", SMFIR_REPLYCODE, "postfix subject mismatch refused")
T.check(T.last_log("refused at MAIL", {"reply=550 5.7.1", "subject does not match"}), "subject mismatch logged")
mt.disconnect(conn)
conn = case(T.sendmail, {"{cert_subject}", "/CN=mail.other.test", "{cert_issuer}", T.NETWORK_DN_XTEXT, "{cn_subject}", "mail.other.test", "{verify}", "OK"}, "<a@subj.test>", SMFIR_REPLYCODE, "sendmail subject mismatch refused")
mt.disconnect(conn)

-- Version and key size.
conn = case(T.postfix, {"{tls_version}", "TLSv1.2"}, "<a@v13.test>", SMFIR_REPLYCODE, "TLSv1.2 refused by min_version=TLSv1.3")
T.check(T.last_log("refused at MAIL", {"TLSv1.3 or later required"}), "min_version reason logged")
mt.disconnect(conn)
conn = case(T.postfix, {}, "<a@v13.test>", SMFIR_CONTINUE, "TLSv1.3 accepted by min_version=TLSv1.3")
mt.disconnect(conn)
conn = case(T.postfix, {}, "<a@bits.test>", SMFIR_REPLYCODE, "256 bits refused by min_bits=384")
mt.disconnect(conn)
end)
