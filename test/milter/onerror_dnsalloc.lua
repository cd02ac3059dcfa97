-- onerror_dnsalloc.lua - the DNS policy state is allocated at MAIL only
-- when DNS policy is configured; when that allocation fails, OnError
-- tempfail (the default) refuses MAIL with 451 4.3.0 before any lookup.
-- env: TLSTRUST_TEST_FAULT=dns-alloc
dofile(HERE .. "/common.lua")

T.run(function()
T.start("DnsResolver 127.0.0.1@9\nDnsSenderSignals yes\n", "")
local conn = T.session(T.postfix)
T.helo(conn, {})
T.check(T.mail(conn, "<a@x.test>") == SMFIR_REPLYCODE, "no DNS state at MAIL: refused")
T.check(T.last_log("internal error", {"cannot allocate DNS policy state", "OnError tempfail"}),
  "failure logged with the policy")
mt.disconnect(conn)
end)
