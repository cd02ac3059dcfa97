-- rspamd rules that read the tag of tlstrust-milter.
--
-- Install: copy to /etc/rspamd/tlstrust.lua and load it from
-- /etc/rspamd/rspamd.local.lua with
--     dofile('/etc/rspamd/tlstrust.lua')
-- (or use this file as rspamd.local.lua), then run "rspamadm configtest".
-- Adjust the scores to your site.
--
-- The tag describes only the last hop, from the client into your MTA, and
-- can be relied on only for mail that passed tlstrust-milter: the milter
-- deletes incoming copies, so the one left is its own.  If rspamd runs as a
-- milter in the same MTA, list it after tlstrust-milter.  If the header is
-- renamed with TagHeader, rename it here too.
--
-- The level word always comes first, and network= right after it, before
-- any value taken from the client certificate: match them anchored at the
-- start.  Fields after the certificate names (policy=, action=, rule=,
-- authserv-id=) must be matched anchored at the end: a certificate subject
-- may contain "; policy=pass;".

local reconf = config['regexp']

reconf['TLSTRUST_TRUSTED'] = {
  re = [[X-TLS-Trust=/^trusted;/H]],
  score = -2.0,
  description = 'Sent over TLS with a certificate from a trusted network',
  group = 'tlstrust',
}

reconf['TLSTRUST_VERIFIED'] = {
  re = [[X-TLS-Trust=/^verified;/H]],
  score = -0.5,
  description = 'Sent over TLS with a verified client certificate',
  group = 'tlstrust',
}

reconf['TLSTRUST_ENCRYPTED'] = {
  re = [[X-TLS-Trust=/^encrypted;/H]],
  score = 0.0,
  description = 'Sent over TLS without a verified client certificate',
  group = 'tlstrust',
}

reconf['TLSTRUST_NONE'] = {
  re = [[X-TLS-Trust=/^none;/H]],
  score = 0.5,
  description = 'Sent without TLS',
  group = 'tlstrust',
}

-- A domain-table entry in monitor mode failed (policy=fail; action=monitor).
reconf['TLSTRUST_POLICY_FAIL'] = {
  re = [[X-TLS-Trust=/; policy=fail; action=monitor;(?: rule="(?:[^"\\]|\\.)*";)? authserv-id=[^\s;"]+\s*$/H]],
  score = 1.0,
  description = 'Fails the TLS policy of tlstrust (monitor mode)',
  group = 'tlstrust',
}

-- Example: mail from a member of one trusted network only.  Replace
-- "redsegura" with a TrustedNetwork name of your tlstrust.conf.
-- reconf['TLSTRUST_NET_REDSEGURA'] = {
--   re = [[X-TLS-Trust=/^trusted; network=redsegura;/H]],
--   score = -1.0,
--   description = 'Certificate from the redsegura network',
--   group = 'tlstrust',
-- }
