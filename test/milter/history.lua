-- history.lua - the `observed` table of StateDatabase after real sessions:
-- one row per peer (member identity and client address) and UTC day, with
-- the counts of what was sent; written at a clean stop, and added to by
-- the next run of the daemon (a restart keeps the history).
dofile(HERE .. "/common.lua")

local db = DIR .. "/state.db"
local conf = "StateDatabase " .. db .. "\n"
local table_text = "reject.test trusted reject\n" .. "monitor.test trusted monitor\n"
local pf_member = {"{cert_subject}", "mail.member.test", "{cert_issuer}", "Red Segura CA"}

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

local function query(sql)
  return (sh("sqlite3 -separator '|' " .. db .. " \"" .. sql .. "\" 2>&1"):gsub("\n$", ""))
end

local function plaintext(conn, n)
  for i = 1, n do
    T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "plaintext " .. i .. ": MAIL")
    T.rcpt(conn, "<b@receiver.test>")
    T.check(T.message(conn) == SMFIR_CONTINUE, "plaintext " .. i .. ": delivered")
  end
end

-- SIGTERM, then wait for the last write (the daemon logs it at debug level).
local function stop()
  T.mark()
  mt.signal(15)
  for _ = 1, 1200 do -- up to 60 s: the daemon may run under valgrind
    if T.log():sub(T.mark_pos + 1):find("peer row(s) written", 1, true) then
      mt.sleep(0.5) -- let it close the database and exit
      return true
    end
    mt.sleep(0.05)
  end
  return false
end

local cols = "n_none, n_encrypted, n_verified, n_trusted, r_pass, r_fail, r_none, " ..
  "a_accept, a_monitor, a_defer, a_reject, v_tls10, v_tls11, v_tls12, v_tls13, network"
local function row(peer, client)
  return query("SELECT " .. cols .. " FROM observed WHERE peer = '" .. peer ..
    "' AND client = '" .. client .. "'")
end

T.run(function()
local today = os.date("!%Y-%m-%d")

-- Run 1.
T.start(conf, table_text)
local conn = T.session(T.postfix, "192.0.2.10")
T.helo(conn, {})
plaintext(conn, 3)
T.check(T.mail(conn, "<a@reject.test>") == SMFIR_REPLYCODE, "reject.test refused at MAIL")
mt.abort(conn)
T.check(T.mail(conn, "<a@monitor.test>") == SMFIR_CONTINUE, "monitor.test: MAIL")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_CONTINUE, "monitor.test: delivered")
mt.disconnect(conn)
conn = T.session(T.postfix, "192.0.2.20")
T.helo(conn, T.concat(T.postfix.tls, pf_member))
T.check(T.mail(conn, "<a@unlisted.test>") == SMFIR_CONTINUE, "member session: MAIL")
T.rcpt(conn, "<b@receiver.test>")
T.check(T.message(conn) == SMFIR_CONTINUE, "member session: delivered")
mt.disconnect(conn)
T.check(stop(), "run 1: counts written at stop")

T.check(query("SELECT count(*) FROM observed") == "4", "run 1: four peer rows",
  query("SELECT * FROM observed"))
-- Unknown member (no rule, no certificate): peer "" with its address.
T.check(row("", "192.0.2.10") == "3|0|0|0|0|0|3|3|0|0|0|0|0|0|0|", "run 1: plaintext row",
  row("", "192.0.2.10"))
T.check(row("from:reject.test", "192.0.2.10") == "1|0|0|0|0|1|0|0|0|0|1|0|0|0|0|",
  "run 1: refusal counted with its rule and action", row("from:reject.test", "192.0.2.10"))
T.check(row("from:monitor.test", "192.0.2.10") == "1|0|0|0|0|1|0|0|1|0|0|0|0|0|0|",
  "run 1: monitor row", row("from:monitor.test", "192.0.2.10"))
-- No rule applies: the verified certificate's subject names the member.
T.check(row("mail.member.test", "192.0.2.20") == "0|0|0|1|0|0|1|1|0|0|0|0|0|0|1|redsegura",
  "run 1: member row (trusted, TLSv1.3, network)", row("mail.member.test", "192.0.2.20"))
T.check(query("SELECT count(*) FROM observed WHERE day = '" .. today .. "'") == "4",
  "run 1: today's UTC bucket")
T.check(query("SELECT count(*) FROM observed WHERE cert_not_after IS NULL") == "4",
  "run 1: no certificate expiry (the MTAs send none)")
local first = query("SELECT first_seen FROM observed WHERE peer = '' AND client = '192.0.2.10'")
T.check(math.abs((tonumber(first) or 0) - os.time()) < 300, "run 1: first_seen is now", first)

-- Run 2: the same daemon started again adds to the rows.
mt.sleep(1.1)
T.start(conf, table_text)
conn = T.session(T.postfix, "192.0.2.10")
T.helo(conn, {})
plaintext(conn, 2)
mt.disconnect(conn)
T.check(stop(), "run 2: counts written at stop")
T.check(query("SELECT count(*) FROM observed") == "4", "run 2: still four peer rows")
T.check(row("", "192.0.2.10") == "5|0|0|0|0|0|5|5|0|0|0|0|0|0|0|", "run 2: counts added up",
  row("", "192.0.2.10"))
local seen = query("SELECT first_seen, last_seen FROM observed WHERE peer = '' AND client = '192.0.2.10'")
local f, l = seen:match("^(%d+)|(%d+)$")
T.check(f == first and tonumber(l) > tonumber(f), "run 2: first_seen kept, last_seen moved", seen)
end)
