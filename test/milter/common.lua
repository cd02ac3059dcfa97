-- common.lua - helpers shared by the milter-protocol tests. run.sh defines
-- BIN (the daemon), DIR (a private directory), CA (network CA bundle),
-- OUTSIDE_CA, LOG (the daemon's stderr) and NAME (the test's name).

local unpack = table.unpack or unpack

T = {}
T.failures = 0
T.checks = 0

-- Macros exactly as each MTA sends them (doc/mta-facts.md), read from the
-- one fixture file every harness shares: T.fixture[NAME] is a flat
-- name/value list, in the file's order.
T.fixture = {}
for line in io.lines(HERE .. "/../fixtures/macros.tsv") do
  local fixture, name, value = line:match("^([a-z.]+)\t([^\t]+)\t([^\t]*)$")
  if fixture then
    T.fixture[fixture] = T.fixture[fixture] or {}
    table.insert(T.fixture[fixture], name)
    table.insert(T.fixture[fixture], value)
  end
end
T.postfix = {connect = T.fixture["postfix.connect"], tls = T.fixture["tls"]}
T.sendmail = {connect = T.fixture["sendmail.connect"], tls = T.fixture["tls"]}
-- The network CA's DN as Sendmail writes it ({cert_issuer} of a member).
T.NETWORK_DN_XTEXT = T.fixture["sendmail.member"][4]
assert(T.fixture["sendmail.member"][3] == "{cert_issuer}")

-- Record one check; detail is printed only when it fails.
function T.check(cond, what, detail)
  T.checks = T.checks + 1
  if cond then
    print("ok - " .. NAME .. ": " .. what)
  else
    T.failures = T.failures + 1
    print("not ok - " .. NAME .. ": " .. what)
    if detail then print("#   " .. detail) end
  end
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- Start the daemon with extra configuration lines and a domain table.
-- Write the configuration: socket, network, table and logging, then lines.
function T.write_conf(lines)
  T.sock = "unix:" .. DIR .. "/milter.sock"
  T.conf = DIR .. "/tlstrust.conf"
  write(T.conf, "Socket " .. T.sock .. "\n" ..
    "TrustedNetwork redsegura " .. CA .. "\n" ..
    "DomainTable " .. DIR .. "/domains\n" ..
    "Syslog no\nLogLevel debug\n" .. lines)
end

function T.start(conf, table_text)
  write(DIR .. "/domains", table_text or "")
  T.write_conf("AuthservID mx.receiver.test\n" .. (conf or ""))
  mt.set_timeout(10)
  mt.startfilter(BIN, "-f", "-c", T.conf)
end

-- Rewrite the configuration with these lines and SIGHUP; true once the
-- daemon logged that it reloaded (up to 5 s). Log checks start after it.
function T.reload(lines)
  T.write_conf(lines)
  T.mark()
  mt.signal(1)
  for _ = 1, 100 do
    if T.log():sub(T.mark_pos + 1):find("reloaded", 1, true) then return true end
    mt.sleep(0.05)
  end
  return false
end

-- A new SMTP session from ip with the given MTA's connect macros.
function T.session(mta, ip, host)
  -- Up to 30 s: the daemon may be starting under valgrind.
  local conn = mt.connect(T.sock, 600, 0.05)
  assert(conn, "cannot connect to the milter")
  assert(mt.macro(conn, SMFIC_CONNECT, unpack(mta.connect)) == nil)
  assert(mt.conninfo(conn, host or "client.example", ip or "192.0.2.10") == nil)
  return conn
end

-- HELO with extra macros (a flat name/value list), e.g. TLS and certificate
-- names. The milter skips HELO (SMFIP_NOHELO) and asks for these macros at
-- MAIL instead, so an MTA sends them with every MAIL: T.helo records the
-- session's TLS state (the last HELO wins, as after STARTTLS), T.mail sends it.
T.session_macros = {}
function T.helo(conn, macros)
  T.session_macros[conn] = macros or {}
  return SMFIR_CONTINUE
end

-- Merge two flat name/value macro lists; b's values override a's.
function T.concat(a, b)
  local r, pos = {}, {}
  for _, list in ipairs({a, b or {}}) do
    for i = 1, #list, 2 do
      local name, value = list[i], list[i + 1]
      if pos[name] then
        r[pos[name] + 1] = value
      else
        pos[name] = #r + 1
        r[#r + 1] = name
        r[#r + 1] = value
      end
    end
  end
  return r
end

-- Log lines checked by T.last_log() are those written after the last mark.
T.mark_pos = 0
function T.mark()
  T.mark_pos = #T.log()
end

-- MAIL with the session's macros (T.helo) and extra MAIL macros.
function T.mail(conn, from, extra)
  T.mark()
  local macros = T.concat(T.session_macros[conn] or {}, extra)
  if #macros > 0 then
    assert(mt.macro(conn, SMFIC_MAIL, unpack(macros)) == nil)
  end
  assert(mt.mailfrom(conn, from) == nil)
  return mt.getreply(conn)
end

function T.rcpt(conn, to)
  T.mark()
  assert(mt.rcptto(conn, to) == nil)
  return mt.getreply(conn)
end

-- Send headers (list of {name, value}), end of headers and end of message.
function T.message(conn, headers)
  for _, h in ipairs(headers or {}) do
    assert(mt.header(conn, h[1], h[2]) == nil)
  end
  assert(mt.header(conn, "Subject", "test") == nil)
  -- No end of headers, no body: we negotiate SMFIP_NOEOH and SMFIP_NOBODY,
  -- and miltertest then refuses to send them.
  assert(mt.eom(conn) == nil)
  return mt.getreply(conn)
end

function T.tag(conn)
  return mt.getheader(conn, "X-TLS-Trust", 0)
end

-- The daemon's log since the test started.
function T.log()
  local f = io.open(LOG, "r")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

-- True when the last line containing marker also contains every fragment.
function T.last_log(marker, fragments)
  local last = nil
  for line in T.log():sub(T.mark_pos + 1):gmatch("[^\n]+") do
    if line:find(marker, 1, true) then last = line end
  end
  if not last then return false end
  for _, f in ipairs(fragments) do
    if not last:find(f, 1, true) then return false end
  end
  return true
end

-- Run the test body; miltertest does not print Lua errors, so we do.
function T.run(body)
  local ok, err = pcall(body)
  if not ok then
    print("not ok - " .. NAME .. ": aborted: " .. tostring(err))
    T.failures = T.failures + 1
  end
  T.finish()
end

function T.finish()
  print(string.format("# %s: %d checks, %d failed", NAME, T.checks, T.failures))
  if T.failures > 0 then
    error(NAME .. ": " .. T.failures .. " check(s) failed")
  end
end
