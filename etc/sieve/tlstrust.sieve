# Sieve script that reads the tag of tlstrust-milter (RFC 5228).
#
# Files mail that reached your MTA without TLS (tag level "none") into the
# folder "No-TLS".  Create the folder first, or add "mailbox" to the require
# line and write: fileinto :create "No-TLS";
#
# The tag describes only the last hop, from the client into your MTA, and
# can be relied on only for mail that passed tlstrust-milter, which deletes
# incoming copies.  The level word always comes first, so match it at the
# start of the value ("none;*"), never with a leading "*": later fields can
# hold text taken from the client certificate.  If the header is renamed
# with TagHeader, rename it here too.

require ["fileinto"];

if header :matches "X-TLS-Trust" "none;*" {
    fileinto "No-TLS";
    stop;
}

# To refuse such mail instead, add "reject" to the require line above
# (require ["fileinto", "reject"];) and use this block in place of the one
# above.  A Sieve reject happens after the MTA accepted the message, so it
# sends a bounce; to refuse mail during SMTP, use a domain-table entry
# (tlstrust-domains(5)) instead.
#
# if header :matches "X-TLS-Trust" "none;*" {
#     reject "This mailbox accepts only mail sent over TLS.";
#     stop;
# }
