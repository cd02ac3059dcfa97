-- dns_zone.lua - the network policy zone: a record present (with AD),
-- absent (NXDOMAIN), malformed, of an unknown version, without AD; the
-- parent walk; the local table overriding the zone; SERVFAIL under
-- OnDnsError tempfail; cache hits that send no query; TTL expiry.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
T.start(D.resolver .. D.zone, "local.test encrypt reject\n")

-- Present, validated: the member certificate passes, the tag names the zone.
local r, tag = D.mail(D.member("mail.ministerio.test"), "<a@ministerio.test>",
  "zone record, member", SMFIR_CONTINUE)
T.check(D.has(tag, 'policy=pass; rule="zone:redsegura:ministerio.test"'), "zone record: tag names the zone", tag)
T.check(D.queries("ministerio.test.policy.redsegura.test", "TXT") == 1, "zone record: one query sent")
-- The walk asks from the top: test, then ministerio.test.
local l, s = D.last_counts()
T.check(l == 2 and s == 2, "zone record: 2 lookups, 2 from the network", tostring(l) .. "/" .. tostring(s))

-- The same again: the cache answers, no packet (server's log and daemon counter agree).
r = D.mail(D.tls, "<b@ministerio.test>", "cached zone record, no certificate", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=zone:redsegura:ministerio.test", "reply=450 4.7.1"}),
  "cached: defer from the zone record")
l, s = D.last_counts()
T.check(l == 2 and s == 0, "cached: 2 lookups, 0 sent", tostring(l) .. "/" .. tostring(s))
T.check(D.queries("ministerio.test.policy.redsegura.test", "TXT") == 1, "cached: server saw no second query")

-- Parent walk: sub.parent.test has no record, parent.test has.
r = D.mail({}, "<a@sub.parent.test>", "parent walk, plaintext", SMFIR_REPLYCODE)
T.check(T.last_log("refused at MAIL", {"rule=zone:redsegura:parent.test", "reply=550 5.7.10"}),
  "parent walk: record of parent.test applies")
T.check(D.queries("sub.parent.test.policy.redsegura.test", "TXT") == 1 and
  D.queries("parent.test.policy.redsegura.test", "TXT") == 1, "parent walk: both names asked")

-- Absent (NXDOMAIN all the way up): nothing applies.
r, tag = D.mail({}, "<a@nx.test>", "absent", SMFIR_CONTINUE)
T.check(D.has(tag, "none; policy=none"), "absent: policy none", tag)
T.check(D.queries("nx.test.policy.redsegura.test", "TXT") == 1 and
  D.queries("test.policy.redsegura.test", "TXT") == 1, "absent: walked to the top label")
-- NXDOMAIN is cached too (RFC 2308, SOA minimum 60 s).
r = D.mail({}, "<b@nx.test>", "absent again", SMFIR_CONTINUE)
l, s = D.last_counts()
T.check(s == 0 and D.queries("nx.test.policy.redsegura.test", "TXT") == 1, "NXDOMAIN cached: no query")

-- Malformed, unknown version, no AD: logged and ignored.
r, tag = D.mail({}, "<a@broken.test>", "malformed record", SMFIR_CONTINUE)
T.check(D.logged("broken record at broken.test.policy.redsegura.test ignored: unknown requirement 'bogus'"),
  "malformed: logged")
T.check(D.has(tag, "policy=none"), "malformed: ignored", tag)
r, tag = D.mail({}, "<a@v2.test>", "unknown version", SMFIR_CONTINUE)
T.check(D.logged("unknown version 'v=TLSTRUST2'"), "unknown version: logged")
r, tag = D.mail({}, "<a@noad.test>", "no AD", SMFIR_CONTINUE)
T.check(D.logged("record at noad.test.policy.redsegura.test ignored: answer not DNSSEC-validated"),
  "no AD: logged")
T.check(D.has(tag, "policy=none"), "no AD: ignored", tag)

-- The local table wins over the zone (the zone says trusted/reject).
r, tag = D.mail(D.tls, "<a@local.test>", "local override", SMFIR_CONTINUE)
T.check(D.has(tag, 'policy=pass; rule="from:local.test"'), "local override: table rule", tag)
T.check(D.queries("local.test.policy.redsegura.test") == 0, "local override: zone not asked")

-- SERVFAIL: OnDnsError tempfail (the default).
r = D.mail({}, "<a@servfail.test>", "SERVFAIL", SMFIR_REPLYCODE)
T.check(D.logged("DNS lookup failed: TXT servfail.test.policy.redsegura.test: SERVFAIL; OnDnsError tempfail"),
  "SERVFAIL: logged with the lookup")

-- TTL expiry: 2 s record.
r = D.mail({}, "<a@ttl.test>", "ttl first", SMFIR_REPLYCODE)
r = D.mail({}, "<b@ttl.test>", "ttl cached", SMFIR_REPLYCODE)
T.check(D.queries("ttl.test.policy.redsegura.test", "TXT") == 1, "ttl: second message from the cache")
os.execute("sleep 3")
r = D.mail({}, "<c@ttl.test>", "ttl expired", SMFIR_REPLYCODE)
l, s = D.last_counts()
T.check(s == 1 and D.queries("ttl.test.policy.redsegura.test", "TXT") == 2, "ttl: expired entry asked again")

-- tlstrustctl lookup shows the record and its AD state.
if D.ctl then
  local p = io.popen(D.ctl .. " -c " .. T.conf .. " lookup from:ministerio.test 2>&1")
  local out = p:read("*a")
  p:close()
  T.check(D.has(out, "trusted:redsegura defer min_version=TLSv1.2 subject=*.ministerio.test") and
    D.has(out, "AD set") and D.has(out, "rule: zone:redsegura:ministerio.test"), "tlstrustctl lookup: zone record", out)
  p = io.popen(D.ctl .. " -c " .. T.conf .. " lookup local.test 2>&1")
  out = p:read("*a")
  p:close()
  T.check(D.has(out, "encrypt reject") and D.has(out, "source: table " .. DIR .. "/domains:1"), "tlstrustctl lookup: table line", out)
  -- The exit codes tlstrustctl(8) documents: 0 policy, 1 none, 2 DNS failure.
  local code
  out, code = D.ctl_run("lookup from:ministerio.test")
  T.check(code == 0, "tlstrustctl lookup: zone record exits 0 (" .. tostring(code) .. ")", out)
  out, code = D.ctl_run("lookup local.test")
  T.check(code == 0, "tlstrustctl lookup: table line exits 0 (" .. tostring(code) .. ")", out)
  out, code = D.ctl_run("lookup from:nx.test")
  T.check(code == 1 and D.has(out, "no policy for from:nx.test"), "tlstrustctl lookup: no policy exits 1 (" .. tostring(code) .. ")", out)
  out, code = D.ctl_run("lookup from:servfail.test")
  T.check(code == 2 and D.has(out, "DNS error: TXT servfail.test.policy.redsegura.test: SERVFAIL"),
    "tlstrustctl lookup: failed lookup exits 2 (" .. tostring(code) .. ")", out)
  out, code = D.ctl_run("lookup from:")
  T.check(code == 64, "tlstrustctl lookup: empty key exits 64 (" .. tostring(code) .. ")", out)
end
end)
