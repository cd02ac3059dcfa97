-- dns_signals_defer.lua - DnsSenderRequirement and DnsSenderAction change
-- what a signal demands: here verify/defer, so an MTA-STS sender without a
-- verified certificate is deferred.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
T.start(D.resolver .. "DnsSenderSignals yes\nDnsSenderRequirement verify\nDnsSenderAction defer\n", "")
D.mail(D.tls, "<a@sts.test>", "MTA-STS, verify/defer, no certificate", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=dns:mta-sts:sts.test", "reply=450 4.7.1"}), "signal with DnsSenderAction defer")
local r, tag = D.mail(D.member("mail.sts.test"), "<b@sts.test>", "MTA-STS, verify, certificate", SMFIR_CONTINUE)
T.check(D.has(tag, 'policy=pass; rule="dns:mta-sts:sts.test"'), "verified certificate passes", tag)
end)
