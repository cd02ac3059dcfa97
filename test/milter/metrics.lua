-- metrics.lua - the Prometheus endpoint (MetricsSocket) of the real daemon:
-- messages driven through the milter protocol are counted exactly by
-- level, result and action; refusals by stage; forged tags removed; the
-- decision latency histogram counts each MAIL decision; reloads ok and
-- failed; the CA bundle's expiry is the certificate's notAfter. The output
-- passes `promtool check metrics`; other paths and methods get 404.
dofile(HERE .. "/common.lua")

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

-- A free loopback port (the kernel's choice, released just before the daemon binds it).
local port = tonumber(sh("python3 -c 'import socket; s = socket.socket(); " ..
  "s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'"))
local url = "http://127.0.0.1:" .. port
local extra = "MetricsSocket inet:" .. port .. "@127.0.0.1\n"

-- The daemon may still be starting (under valgrind or ASan): try for up to 30 s.
local function scrape()
  local body = ""
  for _ = 1, 300 do
    body = sh("curl -s --max-time 10 " .. url .. "/metrics")
    if body:find("tlstrust_build_info", 1, true) then break end
    mt.sleep(0.1)
  end
  return body
end

-- The value of one series (name with its labels, as the daemon writes them).
local function value(text, series)
  local s, e = text:find("\n" .. series .. " ", 1, true)
  if not s then return nil end
  return tonumber(text:sub(e + 1):match("^(%S+)"))
end

local function expect(text, series, want)
  local got = value(text, series)
  T.check(got == want, series .. " = " .. tostring(want), "got " .. tostring(got))
end

local function msg(level, result, action)
  return 'tlstrust_messages_total{level="' .. level .. '",result="' .. result ..
    '",action="' .. action .. '"}'
end

local pf_member = {"{cert_subject}", "mail.member.test", "{cert_issuer}", "Red Segura CA"}
local table_text = "defer.test trusted\n" .. "reject.test trusted reject\n" ..
  "monitor.test trusted monitor\n" .. "to:strict.test encrypt reject\n"

T.run(function()
T.start(extra, table_text)

-- Nothing counted yet, and the output is valid before any traffic.
local m = scrape()
expect(m, msg("none", "none", "accept"), 0)
local f = assert(io.open(DIR .. "/empty.prom", "w"))
f:write(m)
f:close()
T.check(os.execute("promtool check metrics < " .. DIR .. "/empty.prom") == true,
  "promtool check metrics passes before traffic")

local conn = T.session(T.postfix, "192.0.2.10")
T.helo(conn, {})
-- Three plaintext messages from an unlisted sender.
for i = 1, 3 do
  T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "plaintext message " .. i .. ": MAIL")
  T.rcpt(conn, "<b@receiver.test>")
  T.check(T.message(conn) == SMFIR_CONTINUE, "plaintext message " .. i .. ": accepted")
end
-- Refused at MAIL: defer, then reject.
T.check(T.mail(conn, "<a@defer.test>") == SMFIR_REPLYCODE, "defer.test refused at MAIL")
mt.abort(conn)
T.check(T.mail(conn, "<a@reject.test>") == SMFIR_REPLYCODE, "reject.test refused at MAIL")
mt.abort(conn)
-- Monitor: delivered with policy=fail.
T.check(T.mail(conn, "<a@monitor.test>") == SMFIR_CONTINUE, "monitor.test accepted at MAIL")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_CONTINUE, "monitor.test message delivered")
-- Refused at RCPT by a to: rule; the message goes on to the other recipient.
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "RCPT case: MAIL")
T.check(T.rcpt(conn, "<x@strict.test>") == SMFIR_REPLYCODE, "strict.test recipient refused")
T.rcpt(conn, "<b@receiver.test>")
-- ... and carries two forged tags, which are removed.
T.check(T.message(conn, {{"X-TLS-Trust", "trusted; forged"}, {"X-TLS-Trust", "trusted"}}) ==
  SMFIR_CONTINUE, "message with forged tags delivered")
-- Refused for a header (bare CR).
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "header case: MAIL")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn, {{"X-Bad", "a\rb"}}) == SMFIR_REPLYCODE, "bare CR refused")
mt.disconnect(conn)

-- One trusted session (Postfix member certificate, TLSv1.3).
conn = T.session(T.postfix, "192.0.2.20")
T.helo(conn, T.concat(T.postfix.tls, pf_member))
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "trusted session: MAIL")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_CONTINUE, "trusted session: delivered")
mt.disconnect(conn)

m = scrape()
-- Delivered plaintext without a failed rule: the 3 messages and the RCPT case's.
expect(m, msg("none", "none", "accept"), 4)
expect(m, msg("none", "fail", "defer"), 1)
-- reject.test at MAIL and strict.test at RCPT; the bare CR refusal has no failed rule.
expect(m, msg("none", "fail", "reject"), 2)
expect(m, msg("none", "none", "reject"), 1)
expect(m, msg("none", "fail", "monitor"), 1)
expect(m, msg("trusted", "none", "accept"), 1)
expect(m, msg("encrypted", "none", "accept"), 0)
expect(m, 'tlstrust_refusals_total{stage="mail"}', 2)
expect(m, 'tlstrust_refusals_total{stage="rcpt"}', 1)
expect(m, 'tlstrust_refusals_total{stage="header"}', 1)
expect(m, "tlstrust_forged_tags_removed_total", 2)
-- Every MAIL was judged against the table: 9 decisions timed.
expect(m, "tlstrust_decision_duration_seconds_count", 9)
expect(m, 'tlstrust_decision_duration_seconds_bucket{le="+Inf"}', 9)
T.check((value(m, "tlstrust_decision_duration_seconds_sum") or -1) >= 0, "latency sum present")
expect(m, 'tlstrust_reloads_total{result="ok"}', 0)
-- No DNS configured: no lookups.
expect(m, "tlstrust_dns_queries_total", 0)

-- The CA bundle's expiry is the certificate's notAfter.
local not_after = tonumber(sh("date -u -d \"$(openssl x509 -enddate -noout -in " .. CA ..
  " | cut -d= -f2)\" +%s"))
expect(m, 'tlstrust_ca_bundle_expiry_timestamp_seconds{network="redsegura"}', not_after)
local loaded = value(m, "tlstrust_config_loaded_timestamp_seconds") or 0
T.check(math.abs(loaded - os.time()) < 120, "configuration load time is now",
  "got " .. tostring(loaded))

f = assert(io.open(DIR .. "/after.prom", "w"))
f:write(m)
f:close()
T.check(os.execute("promtool check metrics < " .. DIR .. "/after.prom") == true,
  "promtool check metrics passes after traffic")

-- Only GET (or HEAD) /metrics.
T.check(sh("curl -s -o /dev/null -w '%{http_code}' " .. url .. "/") == "404", "GET / is 404")
T.check(sh("curl -s -o /dev/null -w '%{http_code}' " .. url .. "/metrics/x") == "404",
  "GET /metrics/x is 404")
T.check(sh("curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 " .. url .. "/metrics") == "404",
  "POST /metrics is 404")

-- Reloads: one good, one broken (the old configuration stays in force).
T.check(T.reload("AuthservID mx.receiver.test\n" .. extra), "reloaded")
T.write_conf("AuthservID mx.receiver.test\n" .. extra .. "NoSuchKey yes\n")
T.mark()
mt.signal(1)
local failed = false
for _ = 1, 100 do
  if T.log():sub(T.mark_pos + 1):find("reload failed", 1, true) then failed = true break end
  mt.sleep(0.05)
end
T.check(failed, "broken reload logged")
m = scrape()
expect(m, 'tlstrust_reloads_total{result="ok"}', 1)
expect(m, 'tlstrust_reloads_total{result="failed"}', 1)
T.check((value(m, "tlstrust_config_age_seconds") or -1) >= 0, "configuration age reported")
-- Counts survive reloads.
expect(m, msg("none", "none", "accept"), 4)
end)
