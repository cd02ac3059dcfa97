-- dns_walk.lua - the policy zone walk is bounded from the top: the sender
-- chooses how deep its domain is, so a name six labels below a member
-- still meets the member's record, in PolicyZoneDepth lookups; among the
-- names asked the most specific record wins, and a record deeper than
-- PolicyZoneDepth labels is never read.
dofile(HERE .. "/../dns/dnscommon.lua")

local Q = ".policy.redsegura.test"

T.run(function()
T.start(D.resolver .. D.zone, "")

-- Six labels below parent.test: parent.test's record (encrypt, reject) applies.
local r, tag = D.mail({}, "<a@a.b.c.d.e.f.parent.test>", "deep sender", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=zone:redsegura:parent.test", "reply=550 5.7.10"}),
  "deep sender: the member's record applies")
local l = D.last_counts()
T.check(l == 3, "deep sender: PolicyZoneDepth (3) lookups (" .. tostring(l) .. ")")
T.check(D.queries("test" .. Q, "TXT") == 1 and D.queries("parent.test" .. Q, "TXT") == 1 and
  D.queries("f.parent.test" .. Q, "TXT") == 1, "deep sender: the top three names asked")
T.check(D.queries("a.b.c.d.e.f.parent.test" .. Q) == 0 and D.queries("c.d.e.f.parent.test" .. Q) == 0,
  "deep sender: its own deep names not asked")

-- Within the bound the most specific record wins: own.parent.test exempts itself.
r, tag = D.mail({}, "<a@x.y.own.parent.test>", "subdomain record", SMFIR_CONTINUE)
T.check(D.has(tag, "policy=none") and D.logged("zone redsegura record own.parent.test" .. Q .. " TXT"),
  "subdomain record: its own record (req=none) wins over parent.test's", tag)

-- deeper.own.parent.test has 4 labels: at PolicyZoneDepth 3 its record is not read.
r, tag = D.mail({}, "<a@deeper.own.parent.test>", "record deeper than the bound", SMFIR_CONTINUE)
T.check(D.has(tag, "policy=none") and D.logged("zone redsegura record own.parent.test" .. Q .. " TXT"),
  "record deeper than the bound: its parent's record applies", tag)
T.check(D.queries("deeper.own.parent.test" .. Q) == 0, "record deeper than the bound: not asked")

-- tlstrustctl walks the same way.
if D.ctl then
  local out, code = D.ctl_run("lookup from:a.b.c.d.e.f.parent.test")
  T.check(code == 0 and D.has(out, "rule: zone:redsegura:parent.test"), "tlstrustctl: deep sender", out)
end
end)
