-- dns_resolvers.lua - the resolvers themselves: a first DnsResolver that
-- never answers costs one timeout, not one per lookup (the resolver that
-- answered is asked first next time); a resolver that refuses (ICMP port
-- unreachable) is reported as such, not as a timeout.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
T.start("DnsResolver 127.0.0.1@" .. assert(D.blackhole) .. "\n" .. D.resolver ..
  "DnsTimeout 1\nDnsRetries 1\n" .. D.zone, "")

-- The first message finds the silent resolver: one timeout, then ldns-testns.
local r, tag = D.mail({}, "<a@ministerio.test>", "silent first resolver", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=zone:redsegura:ministerio.test"}),
  "silent first resolver: the zone record still applies")
local before = D.last_total_sent()
-- The next message's lookups go straight to the resolver that answered:
-- one packet per lookup that the cache did not answer.
r, tag = D.mail({}, "<a@sub.parent.test>", "answering resolver remembered", SMFIR_REPLYCODE)
local _, s = D.last_counts()
local after = D.last_total_sent()
T.check(before and after and s and s >= 1 and after - before == s,
  "answering resolver remembered: one packet per lookup, none to the silent one",
  "packets " .. tostring(after and before and after - before) .. ", lookups sent " .. tostring(s))

-- Nothing listens at the resolver's port: "connection refused", at once.
local out, code = D.ctl_run("lookup from:ministerio.test",
  "DnsResolver 127.0.0.1@" .. assert(D.closed) .. "\n")
T.check(code == 2 and D.has(out, "DNS error: TXT ") and D.has(out, ": connection refused"),
  "refused resolver: tlstrustctl says connection refused, exit 2 (" .. tostring(code) .. ")", out)
T.check(D.has(out, "policy.redsegura.test: connection refused; OnDnsError tempfail"),
  "refused resolver: the log line says connection refused", out)
end)
