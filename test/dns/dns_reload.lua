-- dns_reload.lua - the resolver and its cache are a service of the running
-- daemon, not part of the configuration (issue 10, item 3): a reload that
-- leaves the DNS settings as they were keeps the cache; one that changes
-- them starts a new resolver with an empty cache.
dofile(HERE .. "/../dns/dnscommon.lua")

-- The daemon's DNS configuration with extra lines, reloaded.
local function reload(extra)
  return T.reload("AuthservID mx.receiver.test\n" .. D.resolver .. D.zone .. extra)
end

T.run(function()
T.start(D.resolver .. D.zone, "")
local r, tag = D.mail(D.member("mail.ministerio.test"), "<a@ministerio.test>",
  "first message", SMFIR_CONTINUE)
local l, s = D.last_counts()
T.check(l == 2 and s == 2, "first message: 2 lookups, both sent", tostring(l) .. "/" .. tostring(s))

T.check(reload(""), "SIGHUP with the same DNS settings: reloaded")
T.check(T.last_log("resolver and its cache are kept", {}), "reload logs that the cache is kept")
r, tag = D.mail(D.member("mail.ministerio.test"), "<b@ministerio.test>",
  "after the reload", SMFIR_CONTINUE)
l, s = D.last_counts()
T.check(l == 2 and s == 0, "after the reload: 2 lookups, none sent (the cache survived)",
  tostring(l) .. "/" .. tostring(s))
T.check(D.queries("ministerio.test.policy.redsegura.test", "TXT") == 1,
  "the server saw the zone query once")

T.check(reload("DnsTimeout 3s\n"), "SIGHUP with another DnsTimeout: reloaded")
r, tag = D.mail(D.member("mail.ministerio.test"), "<c@ministerio.test>",
  "after a DNS change", SMFIR_CONTINUE)
l, s = D.last_counts()
T.check(l == 2 and s == 2, "after a DNS change: a new resolver, its empty cache asks again",
  tostring(l) .. "/" .. tostring(s))
T.check(D.queries("ministerio.test.policy.redsegura.test", "TXT") == 2,
  "the server saw the zone query again")
end)
