-- dns_identity.lua - identity=dns: the certificate's subject host must
-- resolve (A) to the client's address, on a zone record and on a table rule.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
T.start(D.resolver .. D.zone, "idtable.test trusted reject identity=dns\n" ..
  "client:192.0.2.77 trusted reject identity=dns\n")

-- Zone record idok.test: trusted, reject, identity=dns. Client 192.0.2.10.
local r, tag = D.mail(D.member("mail.idok.test"), "<a@idok.test>", "zone identity pass", SMFIR_CONTINUE)
T.check(D.has(tag, 'policy=pass; rule="zone:redsegura:idok.test"'), "zone identity: pass", tag)
T.check(D.logged("identity=dns: mail.idok.test A has 2 address(es) (AD): client address among them"), "zone identity: logged")
D.mail(D.member("mail.idbad.test"), "<a@idok.test>", "zone identity fail", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=zone:redsegura:idok.test", "does not resolve to the client address", "reply=550 5.7.1"}),
  "zone identity: refused, reason says so")
D.mail(D.member("mail.idok.test"), "<a@idok.test>", "zone identity, other client", SMFIR_REPLYCODE, "192.0.2.50")
T.check(T.last_log("refused at MAIL", {"does not resolve to the client address"}), "zone identity: other client address refused")

-- Table rule with identity=dns.
r, tag = D.mail(D.member("mail.idok.test"), "<a@idtable.test>", "table identity pass", SMFIR_CONTINUE)
T.check(D.has(tag, 'policy=pass; rule="from:idtable.test"'), "table identity: pass", tag)
D.mail(D.member("mail.idbad.test"), "<a@idtable.test>", "table identity fail", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=from:idtable.test", "does not resolve to the client address"}), "table identity: refused")
-- A name that does not exist fails too (NXDOMAIN), it is not a DNS error.
D.mail(D.member("mail.nx.test"), "<a@idtable.test>", "table identity, NXDOMAIN host", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"does not resolve to the client address"}), "table identity: unknown host refused")
-- client: rule with identity=dns, any sender.
D.mail(D.member("mail.idok.test"), "<a@nx.test>", "client rule identity", SMFIR_REPLYCODE, "192.0.2.77")
T.check(T.last_log("refused at MAIL", {"rule=client:192.0.2.77", "does not resolve to the client address"}), "client rule identity: refused")
end)
