-- dns_resolvers.lua - the resolvers themselves: a first DnsResolver that
-- never answers costs one timeout, not one per lookup (the resolver that
-- answered is asked first next time); a resolver that refuses (ICMP port
-- unreachable) is reported as such, not as a timeout; a resolver off this
-- host is warned about at start when its AD bit is relied on.
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

-- The AD bit only means something from a resolver on this host: warn at
-- start. (tlstrustctl check loads the configuration and sends nothing.)
out, code = D.ctl_run("check", "DnsResolver 127.0.0.1@" .. D.port .. "\nDnsResolver 192.0.2.53\n")
T.check(code == 0 and D.has(out, "resolver 192.0.2.53 is not a loopback address") and
  not D.has(out, "resolver 127.0.0.1"), "remote resolver: warned about at start", out)
out, code = D.ctl_run("check", "DnsResolver 127.0.0.1@" .. D.port .. "\nDnsResolver ::1\n")
T.check(code == 0 and not D.has(out, "not a loopback address"), "loopback resolvers: no warning", out)
out, code = D.ctl_run("check", "DnsResolver 192.0.2.53\nPolicyZoneRequireDNSSEC no\n")
T.check(code == 0 and not D.has(out, "not a loopback address"),
  "remote resolver, AD not relied on: no warning", out)
T.check(T.log():find("resolver 127.0.0.1@" .. D.port .. " is not", 1, true) == nil,
  "daemon on loopback resolvers: no warning")
end)
