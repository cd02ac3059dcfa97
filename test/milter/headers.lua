-- headers.lua - a bare CR in a header is refused: a downstream reader that
-- takes it for a line break would see a header the MTA and the milter do
-- not (security review, item 10). Folded headers, with CR LF or LF, pass.
dofile(HERE .. "/common.lua")

T.run(function()
T.start("", "")
local conn = T.session(T.sendmail)
T.helo(conn, {})
T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn, {{"X-Folded", "a\r\n\tb"}, {"X-Folded-LF", "a\n\tb"}}) == SMFIR_CONTINUE,
  "folded headers accepted")
T.check(mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "and tagged")

T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
T.mark()
assert(mt.header(conn, "X-Smuggle", "a\rX-TLS-Trust: trusted; network=redsegura") == nil)
-- Headers get no reply (SMFIP_NR_HDR): the refusal comes at end of message.
assert(mt.eom(conn) == nil)
T.check(mt.getreply(conn) == SMFIR_REPLYCODE, "bare CR in a value: refused")
T.check(T.last_log("bare CR", {"refused"}), "refusal logged")
mt.disconnect(conn)

conn = T.session(T.postfix)
T.helo(conn, {})
T.mail(conn, "<a@sender.test>")
T.rcpt(conn, "<b@receiver.test>")
assert(mt.header(conn, "X-Trailing", "value\r") == nil)
assert(mt.eom(conn) == nil)
T.check(mt.getreply(conn) == SMFIR_REPLYCODE, "CR at the end of a value: refused")
mt.disconnect(conn)
end)
