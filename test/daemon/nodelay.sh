#!/usr/bin/env bash
# nodelay.sh BIN - over an inet socket the daemon's listening socket and the
# sockets it accepts have TCP_NODELAY (no 40 ms Nagle / delayed-ACK stall per
# message, issue 14). Read from the running daemon with pidfd_getfd (root).
set -euo pipefail
bin=$1
dir=$(mktemp -d /tmp/tlstrust-nodelay-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
if [ "$(id -u)" -ne 0 ]; then
    echo "ok - nodelay # SKIP not root (pidfd_getfd needs ptrace rights)"
    exit 0
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/key.pem" \
    -out "$dir/ca.pem" -days 365 -subj "/CN=Red Segura CA" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
port=$((20000 + RANDOM % 20000))
printf 'Socket inet:%s@127.0.0.1\nTrustedNetwork redsegura %s/ca.pem\nSyslog no\n' "$port" "$dir" \
    >"$dir/t.conf"
"$bin" -f -c "$dir/t.conf" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do
    [ -n "$(ss -Hltn "sport = :$port")" ] && break
    sleep 0.05
done
# Prints "listen N" and "accepted N" (N = TCP_NODELAY of the daemon's socket).
python3 - "$pid" "$port" <<'PY'
import ctypes, os, socket, sys, time
pid, port = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
SYS_pidfd_getfd = 438
client = socket.create_connection(("127.0.0.1", port))
time.sleep(0.3)  # libmilter accepts in its own thread
pidfd = os.pidfd_open(pid)
seen = {}
for name in os.listdir(f"/proc/{pid}/fd"):
    if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
        continue
    fd = libc.syscall(SYS_pidfd_getfd, pidfd, int(name), 0)
    if fd < 0:
        sys.exit(f"pidfd_getfd: {os.strerror(ctypes.get_errno())}")
    s = socket.socket(fileno=fd)
    try:
        if s.family != socket.AF_INET or s.getsockname()[1] != port:
            continue
        kind = "listen" if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) else "accepted"
        seen[kind] = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        s.close()
for kind in ("listen", "accepted"):
    print(kind, seen.get(kind, "missing"))
PY
