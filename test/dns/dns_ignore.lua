-- dns_ignore.lua - OnDnsError ignore: SERVFAIL and a silent resolver let
-- the message through without the DNS policy, and the log says so.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
T.start(D.resolver .. D.zone .. "OnDnsError ignore\n", "")
local r, tag = D.mail({}, "<a@servfail.test>", "SERVFAIL ignored", SMFIR_CONTINUE)
T.check(D.has(tag, "policy=none"), "SERVFAIL ignored: no policy", tag)
T.check(D.logged("TXT servfail.test.policy.redsegura.test: SERVFAIL; OnDnsError ignore"), "SERVFAIL ignored: logged")
-- A per-message budget: PolicyZoneDepth 3 x 1 zone fits in the default 7.
r, tag = D.mail({}, "<a@a.b.c.d.nx.test>", "deep name", SMFIR_CONTINUE)
local l = D.last_counts()
T.check(l == 3, "walk limited to PolicyZoneDepth names (" .. tostring(l) .. ")")
-- A sender domain DNS cannot carry as it is (UTF-8): no lookup, no policy.
r, tag = D.mail({}, "<a@\195\177u.test>", "UTF-8 domain", SMFIR_CONTINUE)
T.check(D.has(tag, "policy=none") and D.last_counts() == nil, "UTF-8 domain: no lookup", tag)
end)
