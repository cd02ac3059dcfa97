-- rspamd rules that read the tag of tlstrust-milter (rspamd 3.x).
--
-- Install: copy to /etc/rspamd/tlstrust.lua, set your authserv-id below,
-- and load it from /etc/rspamd/rspamd.local.lua with
--     dofile('/etc/rspamd/tlstrust.lua')
-- (or use this file as rspamd.local.lua), then run "rspamadm configtest".
-- Adjust the scores to your site.  To skip the costly checks for trusted
-- mail, see tlstrust-settings.conf next to this file.
--
-- The tag describes only the last hop, from the client into your MTA, and
-- can be relied on only for mail that passed tlstrust-milter: the milter
-- deletes incoming copies and inserts its own at the top.  So these rules
-- read only the topmost tag, believe it only when it ends with your
-- authserv-id, and flag a message with several tags (mail that did not
-- pass the milter: sendmail(1)/pickup, an InternalHosts re-injection
-- path); such a message gets no negative score.  If rspamd runs as a
-- milter in the same MTA, list it after tlstrust-milter.  If the header is
-- renamed with TagHeader, rename it here too.
--
-- The level word always comes first, and network= right after it, before
-- any value taken from the client certificate: match them anchored at the
-- start.  Fields after the certificate names (policy=, action=, rule=,
-- authserv-id=) must be matched anchored at the end: a certificate subject
-- may contain "; policy=pass;".

local tlstrust = {
  -- AuthservID in tlstrust.conf, else your MTA's host name.
  authserv_id = 'mx.example.org',
  header = 'X-TLS-Trust',
}

local lua_selectors = require "lua_selectors"
local rspamd_regexp = require "rspamd_regexp"

-- A failed domain-table rule in monitor mode, anchored at the end.
local policy_fail_re = rspamd_regexp.create_cached(
    [[/; policy=fail; action=monitor;(?: rule="(?:[^"\\]|\\.)*";)? authserv-id=[^\s;"]+\s*$/]])

-- The topmost tag's value (unfolded), and how many tags there are.
local function first_tag(task)
  local hdrs = task:get_header_full(tlstrust.header)
  if not hdrs or #hdrs == 0 then
    return nil, 0
  end
  local value = hdrs[1].value or ''
  return (value:gsub('\r?\n[ \t]', ' ')), #hdrs
end

local function is_ours(value)
  -- authserv-id is always the last field, and a token: anchored at the end.
  local id = value:match('; authserv%-id=([^%s;"]+)%s*$')
  return id ~= nil and id:lower() == tlstrust.authserv_id:lower()
end

-- The topmost tag when it is ours, parsed, and why not ("none",
-- "foreign") or what else is wrong ("several": some copies did not come
-- from the milter, so the tag must not lower the score).
local function read_tag(task)
  local value, count = first_tag(task)
  if not value then
    return nil, 'none'
  end
  if not is_ours(value) then
    return nil, count > 1 and 'several' or 'foreign'
  end
  local tag = {
    level = value:match('^(%l+);'),
    network = value:match('^trusted; network=([^;%s"]+);'),
    policy_fail = policy_fail_re:match(value),
  }
  return tag, count > 1 and 'several' or nil
end

local symbols = {
  TLSTRUST_TRUSTED = {-2.0, 'Sent over TLS with a certificate from a trusted network'},
  TLSTRUST_VERIFIED = {-0.5, 'Sent over TLS with a verified client certificate'},
  TLSTRUST_ENCRYPTED = {0.0, 'Sent over TLS without a verified client certificate'},
  TLSTRUST_NONE = {0.5, 'Sent without TLS'},
  TLSTRUST_POLICY_FAIL = {1.0, 'Fails the TLS policy of tlstrust (monitor mode)'},
  TLSTRUST_SEVERAL = {1.0, 'Several tlstrust tags: some did not come from the milter'},
  TLSTRUST_FOREIGN = {0.5, 'The topmost tlstrust tag names another authserv-id'},
}

local function tlstrust_check(task)
  local tag, why = read_tag(task)
  if why == 'several' then
    task:insert_result('TLSTRUST_SEVERAL', 1.0)
  elseif why == 'foreign' then
    task:insert_result('TLSTRUST_FOREIGN', 1.0)
  end
  if not tag or not tag.level then
    return
  end
  -- Levels that lower the score count only for a single tag of ours.
  local lowers = tag.level == 'trusted' or tag.level == 'verified'
  local sym = 'TLSTRUST_' .. tag.level:upper()
  if symbols[sym] and not (lowers and why == 'several') then
    if tag.network then
      task:insert_result(sym, 1.0, tag.network)
    else
      task:insert_result(sym, 1.0)
    end
  end
  if tag.policy_fail then
    task:insert_result('TLSTRUST_POLICY_FAIL', 1.0)
  end
end

local parent = rspamd_config:register_symbol({
  name = 'TLSTRUST_CHECK',
  type = 'callback',
  callback = tlstrust_check,
  group = 'tlstrust',
})
for name, def in pairs(symbols) do
  rspamd_config:register_symbol({
    name = name,
    type = 'virtual',
    parent = parent,
    score = def[1],
    description = def[2],
    group = 'tlstrust',
  })
end

-- Selector for the settings module (tlstrust-settings.conf): a value only
-- for a single tag of ours at level trusted, with the network name.
lua_selectors.register_extractor(rspamd_config, 'tlstrust_trusted', {
  get_value = function(task)
    local tag, why = read_tag(task)
    if tag and not why and tag.level == 'trusted' and tag.network then
      return tag.network, 'string'
    end
    return nil
  end,
  description = 'Network name when the single tlstrust tag is ours and trusted',
})
