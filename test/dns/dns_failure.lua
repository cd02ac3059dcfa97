-- dns_failure.lua - a resolver that never answers: the session gets its
-- answer within DnsTimeout x (DnsRetries + 1), OnDnsError tempfail says
-- which lookup failed; the start-up warning when the bounds could outlast
-- the MTA's 30 s milter timeout.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
T.start("DnsResolver 127.0.0.1@" .. assert(D.blackhole) .. "\nDnsTimeout 1\nDnsRetries 1\n" ..
  "DnsQueryBudget 20\n" .. D.zone, "")
local r, tag, elapsed = D.mail({}, "<a@ministerio.test>", "never answers", SMFIR_REPLYCODE)
T.check(elapsed <= 3, "never answers: MAIL answered within the bound (" .. elapsed .. " s)")
-- The walk asks from the top: test.policy.redsegura.test is the first lookup.
T.check(D.logged("DNS lookup failed: TXT test.policy.redsegura.test: timeout; OnDnsError tempfail"),
  "never answers: the failed lookup is logged")
T.check(T.log():find("DnsQueryBudget = 40000 ms", 1, true) ~= nil, "start-up warning: bounds exceed 30 s")
end)
