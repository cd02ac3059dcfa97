-- dns_ignore.lua - OnDnsError ignore: SERVFAIL and a silent resolver let
-- the message through without what the failed lookup would have said, the
-- log names every failed lookup, and the search goes on: a zone whose
-- server fails keeps neither the other zones nor the rest of its own walk
-- from being asked.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
-- The broken zone comes first: every name below it is SERVFAIL.
T.start(D.resolver .. "PolicyZone broken policy.broken.test\n" .. D.zone .. "OnDnsError ignore\n", "")
local r, tag = D.mail({}, "<a@servfail.test>", "SERVFAIL ignored", SMFIR_CONTINUE)
T.check(D.has(tag, "policy=none"), "SERVFAIL ignored: no policy", tag)
T.check(D.logged("TXT servfail.test.policy.redsegura.test: SERVFAIL; OnDnsError ignore (continuing without it)"),
  "SERVFAIL ignored: logged")

-- The broken zone fails at every name; redsegura's record still applies.
r, tag = D.mail({}, "<a@ministerio.test>", "other zone after a failed one", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=zone:redsegura:ministerio.test", "reply=450 4.7.1"}),
  "other zone after a failed one: its record applies")
T.check(D.logged("TXT test.policy.broken.test: SERVFAIL; OnDnsError ignore") and
  D.logged("TXT ministerio.test.policy.broken.test: SERVFAIL; OnDnsError ignore"),
  "other zone after a failed one: each failed lookup logged")

-- servfail.test fails in redsegura's zone; the walk goes on to
-- rec.servfail.test, whose record applies.
r, tag = D.mail({}, "<a@rec.servfail.test>", "walk goes on after a failed name", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=zone:redsegura:rec.servfail.test", "reply=550 5.7.10"}),
  "walk goes on after a failed name: the deeper record applies")

-- A per-message budget: PolicyZoneDepth 3 x 2 zones fits in the default 7.
r, tag = D.mail({}, "<a@a.b.c.d.nx.test>", "deep name", SMFIR_CONTINUE)
local l = D.last_counts()
T.check(l == 6, "walk limited to PolicyZoneDepth names per zone (" .. tostring(l) .. ")")
-- A UTF-8 sender domain is walked as its A-label (security review, item 1).
r, tag = D.mail({}, "<a@\195\177u.test>", "UTF-8 domain", SMFIR_CONTINUE)
T.check(D.has(tag, "policy=none") and (D.last_counts() or 0) > 0, "UTF-8 domain: looked up", tag)
T.check(T.log():sub(D.mark + 1):find("xn--u-qga.test.policy.", 1, true) ~= nil,
  "UTF-8 domain: the zone walk asks for its A-label")
end)
