-- dns_signals.lua - TLS-capable-sender signals (DnsSenderSignals yes):
-- MTA-STS published, TLSA with AD (counts), TLSA without AD (ignored), a
-- domain with neither; in monitor mode by default, the rule names the signal.
dofile(HERE .. "/../dns/dnscommon.lua")

T.run(function()
T.start(D.resolver .. D.zone .. "DnsSenderSignals yes\n", "")

local r, tag = D.mail({}, "<a@sts.test>", "MTA-STS, plaintext", SMFIR_CONTINUE)
T.check(D.has(tag, 'policy=fail; action=monitor; rule="dns:mta-sts:sts.test"'), "MTA-STS: monitor failure tagged", tag)
r, tag = D.mail(D.tls, "<b@sts.test>", "MTA-STS, TLS", SMFIR_CONTINUE)
T.check(D.has(tag, 'policy=pass; rule="dns:mta-sts:sts.test"'), "MTA-STS: TLS passes", tag)

r, tag = D.mail({}, "<a@dane.test>", "DANE with AD, plaintext", SMFIR_CONTINUE)
T.check(D.has(tag, 'policy=fail; action=monitor; rule="dns:dane:dane.test"'), "TLSA with AD counts", tag)
T.check(D.queries("_25._tcp.mx.dane.test", "TLSA") == 1, "DANE: TLSA asked once")

r, tag = D.mail({}, "<a@daneno.test>", "DANE without AD", SMFIR_CONTINUE)
T.check(D.has(tag, "policy=none"), "TLSA without AD ignored", tag)
T.check(D.logged("TLSA at _25._tcp.mx.daneno.test ignored: answer not DNSSEC-validated"), "TLSA without AD: logged")

r, tag = D.mail({}, "<a@plain.test>", "no signal", SMFIR_CONTINUE)
T.check(D.has(tag, "policy=none"), "no signal: policy none", tag)

-- A zone record comes first: no signal lookups for ministerio.test.
r = D.mail(D.tls, "<a@ministerio.test>", "zone before signals", SMFIR_REPLYCODE)
T.check(D.queries("_mta-sts.ministerio.test") == 0, "zone record: signals not asked")
end)
