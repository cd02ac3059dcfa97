-- internal.lua - InternalHosts: tags from these hosts are kept and none is
-- added; every other host has its forged tags removed.
dofile(HERE .. "/common.lua")

T.run(function()
T.start("InternalHosts 192.0.2.0/24, ::1\n", "strict.test trusted reject\n")
local conn = T.session(T.postfix, "192.0.2.25", "filter.local")
T.helo(conn, {})
T.check(T.mail(conn, "<a@strict.test>") == SMFIR_CONTINUE, "internal host not judged by the table")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"X-TLS-Trust", "trusted; network=redsegura; authserv-id=mx.receiver.test"}})
T.check(not mt.eom_check(conn, MT_HDRDELETE), "internal host: tag kept")
T.check(not mt.eom_check(conn, MT_HDRINSERT), "internal host: no tag added")
mt.disconnect(conn)

conn = T.session(T.postfix, "198.51.100.1", "outside.example")
T.helo(conn, {})
T.mail(conn, "<a@x.test>")
T.rcpt(conn, "<b@receiver.test>")
T.message(conn, {{"X-TLS-Trust", "trusted; network=redsegura; authserv-id=mx.receiver.test"}})
T.check(mt.eom_check(conn, MT_HDRDELETE, "X-TLS-Trust"), "outside host: forged tag deleted")
T.check(mt.eom_check(conn, MT_HDRINSERT, "X-TLS-Trust"), "outside host: tag added")
mt.disconnect(conn)
end)
