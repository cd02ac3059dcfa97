# Sieve script that reads the tag of tlstrust-milter (RFC 5228; tested with
# Pigeonhole 0.5, Dovecot 2.3).
#
# Files mail into the folder "No-TLS" unless it provably reached your MTA
# over TLS: a single tag, written by your milter (it ends with your
# authserv-id), at level encrypted, verified or trusted.  Mail with no tag,
# a tag of another server, or several tags (some did not come from the
# milter: sendmail(1)/pickup, an InternalHosts re-injection path) is not
# known to have come over TLS, so it goes there too.  Create the folder
# first, or add "mailbox" to the require line and write:
# fileinto :create "No-TLS";
#
# Set your authserv-id below: AuthservID in tlstrust.conf, else your MTA's
# host name.  It is matched with :matches, so it must hold no "*" or "?"
# (an authserv-id never does).
#
# The tag describes only the last hop, from the client into your MTA, and
# can be relied on only for mail that passed tlstrust-milter, which deletes
# incoming copies and inserts its own at the top: this script reads only
# the topmost copy (":index 1").  The level word always comes first, so
# match it at the start of the value ("encrypted;*"), never with a leading
# "*": later fields can hold text taken from the client certificate.
# authserv-id is always the last field: match it at the end.  If the
# header is renamed with TagHeader, rename it here too.

require ["fileinto", "variables", "index", "relational", "comparator-i;ascii-numeric"];

set "authserv_id" "mx.example.org";

# One tag, ours (":matches" ignores case, as RFC 8601 compares the id).
if allof (header :count "eq" :comparator "i;ascii-numeric" "X-TLS-Trust" "1",
          header :index 1 :matches "X-TLS-Trust" "*; authserv-id=${authserv_id}",
          header :index 1 :matches "X-TLS-Trust"
                 ["encrypted;*", "verified;*", "trusted;*"]) {
    # Sent over TLS: keep it.
    keep;
} else {
    fileinto "No-TLS";
    stop;
}

# To refuse mail without TLS instead, add "reject" to the require line
# above and write, in place of fileinto "No-TLS":
#     reject "This mailbox accepts only mail sent over TLS.";
# A Sieve reject happens after the MTA accepted the message, so it sends a
# bounce; to refuse mail during SMTP, use a domain-table entry
# (tlstrust-domains(5)) instead.
