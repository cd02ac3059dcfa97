-- dns_resolvers.lua - the resolvers themselves: a resolver that refuses
-- (ICMP port unreachable) is reported as such, not as a timeout.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
T.start(D.resolver .. D.zone, "")

-- Nothing listens at the resolver's port: "connection refused", at once.
local out, code = D.ctl_run("lookup from:ministerio.test",
  "DnsResolver 127.0.0.1@" .. assert(D.closed) .. "\n")
T.check(code == 2 and D.has(out, "DNS error: TXT ") and D.has(out, ": connection refused"),
  "refused resolver: tlstrustctl says connection refused, exit 2 (" .. tostring(code) .. ")", out)
T.check(D.has(out, "policy.redsegura.test: connection refused; OnDnsError tempfail"),
  "refused resolver: the log line says connection refused", out)
end)
