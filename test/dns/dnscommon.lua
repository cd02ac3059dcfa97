-- dnscommon.lua - helpers for the DNS tests, on top of test/milter/common.lua.
-- run.sh exports the test servers' ports and the query log of ldns-testns.
dofile(HERE .. "/common.lua")

D = {}
D.port = assert(os.getenv("TT_DNS_PORT"), "TT_DNS_PORT not set: run through test/dns/run.sh")
D.blackhole = os.getenv("TT_DNS_BLACKHOLE")
D.closed = os.getenv("TT_DNS_CLOSED")
D.querylog = os.getenv("TT_DNS_QUERYLOG")
D.ctl = os.getenv("TT_DNS_CTL")
D.zone = "PolicyZone redsegura policy.redsegura.test\n"
D.resolver = "DnsResolver 127.0.0.1@" .. D.port .. "\n"

-- How many queries for name (and type) the server has received so far.
function D.queries(name, qtype)
  local f = io.open(D.querylog, "r")
  if not f then return -1 end
  local n = 0
  for line in f:lines() do
    local q = line:match("^query %d+: id %d+: UDP %d+ bytes: (.*)$")
    if q and q:find(name .. ".\tIN\t" .. (qtype or ""), 1, true) == 1 then n = n + 1 end
  end
  f:close()
  return n
end

D.mark = 0

-- The "dns:" debug line of the last message: lookups and network queries.
function D.last_counts()
  local lookups, sent
  for line in T.log():sub(D.mark + 1):gmatch("[^\n]+") do
    local l, s = line:match("dns: (%d+) lookup%(s%), (%d+) sent, for this message")
    if l then lookups, sent = tonumber(l), tonumber(s) end
  end
  return lookups, sent
end

-- Query packets the resolver has sent in all, as of the last message's "dns:" line.
function D.last_total_sent()
  local sent
  for line in T.log():sub(D.mark + 1):gmatch("[^\n]+") do
    local s = line:match("resolver totals: lookups=%d+ sent=(%d+)")
    if s then sent = tonumber(s) end
  end
  return sent
end

-- True when a line written since the last D.mail's MAIL contains text.
function D.logged(text)
  return T.log():sub(D.mark + 1):find(text, 1, true) ~= nil
end

-- Postfix TLS without a client certificate, and with a member certificate for host.
D.tls = T.postfix.tls
function D.member(host)
  return T.concat(T.postfix.tls, {"{cert_subject}", host, "{cert_issuer}", "Red Segura CA"})
end

-- One transaction: MAIL (reply checked), then RCPT and the message when accepted.
-- Returns the MAIL reply and the tag (nil when refused).
function D.mail(helo_macros, from, label, want, ip)
  local conn = T.session(T.postfix, ip)
  T.helo(conn, helo_macros)
  local t0 = os.time()
  D.mark = #T.log()
  local r = T.mail(conn, from)
  local elapsed = os.time() - t0
  if want then T.check(r == want, label .. ": MAIL reply " .. tostring(r)) end
  local tag = nil
  if r == SMFIR_CONTINUE then
    T.rcpt(conn, "<b@receiver.test>")
    T.check(T.message(conn) == SMFIR_CONTINUE, label .. ": message accepted")
    tag = T.tag(conn)
  end
  mt.disconnect(conn)
  return r, tag, elapsed
end

-- Run tlstrustctl with the daemon's configuration, its DnsResolver lines
-- replaced by resolvers (when given). Returns the output and the exit code.
function D.ctl_run(args, resolvers)
  local path = T.conf
  if resolvers then
    local f = assert(io.open(T.conf, "r"))
    local text = f:read("*a"):gsub("DnsResolver [^\n]*\n", "")
    f:close()
    path = DIR .. "/ctl.conf"
    f = assert(io.open(path, "w"))
    f:write(text .. resolvers)
    f:close()
  end
  local p = io.popen(D.ctl .. " -c " .. path .. " " .. args .. " 2>&1")
  local out = p:read("*a")
  local _, _, code = p:close()
  return out, code
end

function D.has(s, frag)
  return s ~= nil and s:find(frag, 1, true) ~= nil
end
