#!/usr/bin/env bash
# The Debian package: build it with dpkg-buildpackage from a copy of the
# tree (so ../*.deb lands in a temp dir, not beside the checkout), check it
# with lintian (no errors), install it, start the daemon as its systemd unit
# does, run core end-to-end scenarios through a private Postfix (lab.sh),
# then remove and purge it and check what stays and what goes.
#
# Usage: test/package/run.sh      (root; Debian 12; scripts/install-deps test)
# Prints TAP and ends with "N passed, N failed"; exits 1 on any failure.
# Leaves the machine as it found it: the package purged, the daemon
# stopped, and the user tlstrust and /run/tlstrust removed unless they
# existed before.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
PKG=tlstrust-milter
UNIT=/lib/systemd/system/tlstrust-milter.service
CONF=/etc/tlstrust/tlstrust.conf

[[ $(id -u) == 0 ]] || { echo "package test: needs root" >&2; exit 1; }
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q "installed"; then
    echo "package test: $PKG is already installed here; not touching it" >&2
    exit 1
fi

# shellcheck source-path=SCRIPTDIR
. "$here/../tap.sh"
want_true() { # MESSAGE COMMAND...
    local msg=$1
    shift
    "$@" && return 0
    echo "$msg"
    return 1
}

had_user=no had_group=no had_rundir=no
getent passwd tlstrust >/dev/null && had_user=yes
getent group tlstrust >/dev/null && had_group=yes
[[ -e /run/tlstrust ]] && had_rundir=yes
P=$(mktemp -d /tmp/tlstrust-pkg.XXXXXX)
DAEMON_PID= SYSTEMD_STARTED=no

pkg_cleanup() {
    set +e
    if [[ -n $DAEMON_PID ]]; then
        kill "$DAEMON_PID" 2>/dev/null
        for ((i = 0; i < 150; i++)); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
    fi
    if [[ -d /run/systemd/system ]]; then systemctl stop "$PKG" >/dev/null 2>&1; fi
    if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv "not-installed"; then
        dpkg -P "$PKG" >/dev/null 2>&1
    fi
    [[ $had_user == no ]] && getent passwd tlstrust >/dev/null && userdel tlstrust
    [[ $had_group == no ]] && getent group tlstrust >/dev/null && groupdel tlstrust
    [[ $had_rundir == no ]] && rm -rf /run/tlstrust
    rm -rf "$P"
}
trap pkg_cleanup EXIT

# ---------------------------------------------------------------- build
# Tracked and new (not ignored) files only: no build directories.
mkdir "$P/src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$P/src"
build() { (cd "$P/src" && timeout 900 dpkg-buildpackage -us -uc -b >"$P/build.log" 2>&1) || { tail -n 30 "$P/build.log"; return 1; }; }
check "dpkg-buildpackage -us -uc -b" build
DEB=$(ls "$P"/${PKG}_*.deb 2>/dev/null | head -n1 || true)
check "the .deb is built outside the tree" want_true "no $PKG .deb in $P" test -f "$DEB"
[[ -f $DEB ]] || { tap_finish; exit 1; }
lint() {
    timeout 600 lintian --fail-on error "$P"/*.changes >"$P/lintian.log" 2>&1
    local rc=$?
    grep -E '^[EW]:' "$P/lintian.log" | sed 's/^/lintian: /'
    return $rc
}
check "lintian: no errors" lint
grep -E '^W:' "$P/lintian.log" | sed 's/^/# lintian warning: /' || true

contents=$(dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|')
has_file() { grep -qx -- "$1" <<<"$contents" || { echo "not in the package: $1"; return 1; }; }
for f in /usr/sbin/tlstrust-milter /usr/sbin/tlstrustctl /usr/share/man/man8/tlstrust-milter.8.gz \
    /usr/share/man/man8/tlstrustctl.8.gz /usr/share/man/man5/tlstrust.conf.5.gz \
    /usr/share/man/man5/tlstrust-domains.5.gz "$UNIT" /usr/lib/sysusers.d/tlstrust.conf "$CONF"; do
    check "package holds $f" has_file "$f"
done
conffiles=$(dpkg-deb -I "$DEB" conffiles 2>/dev/null || true)
check "/etc/tlstrust files are conffiles" \
    want_true "conffiles: $conffiles" grep -qx "$CONF" <<<"$conffiles"
check "no file touches an MTA's configuration" \
    want_true "$(grep -E '^/etc/(postfix|mail)/' <<<"$contents")" \
    test -z "$(grep -E '^/etc/(postfix|mail)/' <<<"$contents")"

# ---------------------------------------------------------------- install
install_deb() {
    timeout 300 dpkg -i "$DEB" >"$P/dpkg.log" 2>&1 && return 0
    # Missing dependencies: let apt complete the installation.
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -f install -y -qq >>"$P/dpkg.log" 2>&1 ||
        { cat "$P/dpkg.log"; return 1; }
}
check "dpkg -i" install_deb
check "system user tlstrust, no login" \
    want_true "$(getent passwd tlstrust)" bash -c 'getent passwd tlstrust | grep -q ":/usr/sbin/nologin$"'
check "unit enabled for multi-user.target" \
    test -L /etc/systemd/system/multi-user.target.wants/tlstrust-milter.service

# ---------------------------------------------------------------- daemon
# The e2e lab (PKI, private Postfix on 127.0.0.1) from test/e2e/lab.sh.
# shellcheck source-path=SCRIPTDIR/../e2e
. "$top/test/e2e/lab.sh"
lab_init
# lab_init set its own trap: run ours first, then the lab's (with the status).
trap 'rc=$?; pkg_cleanup; (exit $rc); lab_cleanup' EXIT

# Configure the installed daemon as an administrator would: edit the
# conffiles (Socket on a free port, the lab's network CA, the lab's table).
MPORT=$(lab_free_port)
sed -i -e "s|^Socket .*|Socket          inet:$MPORT@127.0.0.1|" \
    -e "s|^TrustedNetwork .*|TrustedNetwork  redsegura $LAB_PKI/network.pem|" "$CONF"
printf 'AuthservID      mx.receiver.test\n' >>"$CONF"
printf '%s' "$LAB_TABLE" >/etc/tlstrust/domains

start_daemon() {
    local i cmd
    if [[ -d /run/systemd/system ]]; then
        systemctl start "$PKG" || return 1
        DAEMON_PID=$(systemctl show -p MainPID --value "$PKG")
        SYSTEMD_STARTED=yes
    else
        # No systemd as PID 1: run the unit's ExecStart as the unit would
        # (as root, RuntimeDirectory=tlstrust created first).
        cmd=$(sed -n 's/^ExecStart=//p' "$UNIT")
        [[ -n $cmd ]] || { echo "no ExecStart in $UNIT"; return 1; }
        mkdir -p /run/tlstrust
        # shellcheck disable=SC2086  # the unit's command line, word-split as systemd does
        $cmd >"$P/daemon.log" 2>&1 &
        DAEMON_PID=$!
    fi
    for ((i = 0; i < 100; i++)); do
        lab_wait_port "$MPORT" 0 && return 0
        sleep 0.1
    done
    cat "$P/daemon.log" 2>/dev/null
    return 1
}
# Not inside check: its subshell would lose DAEMON_PID.
started=no
start_daemon >"$P/start.out" 2>&1 && started=yes
check "daemon started as the unit starts it ($([[ -d /run/systemd/system ]] && echo systemctl || echo ExecStart))" \
    want_true "$(cat "$P/start.out")" test $started = yes
daemon_user() { ps -o user= -p "$DAEMON_PID" | tr -d ' \n'; }
check "daemon runs as user tlstrust" want_true "running as: '$(daemon_user)'" test "$(daemon_user)" = tlstrust

# ---------------------------------------------------------------- e2e
# Postfix spells an inet milter socket inet:HOST:PORT.
LAB_MILTER_SOCK[pkg]=inet:127.0.0.1:$MPORT
lab_postfix_start pkg
one_tag() { # ID ERE: exactly one X-TLS-Trust header, matching ERE
    local tags
    tags=$(lab_header postfix "$1" X-TLS-Trust 15)
    [[ $(grep -c . <<<"$tags") == 1 ]] && grep -Eq -- "$2" <<<"$tags" && return 0
    echo "want one tag matching /$2/, got: $tags"
    return 1
}
want_reply() { [[ $(lab_code "$LAB_REPLY") == "$1" ]] || { echo "want $1, got '$LAB_REPLY'"; return 1; }; }

lab_send postfix plain plain - x@example.org b@receiver.test
check "plaintext: accepted" want_reply "250 2.0.0"
check "plaintext: tagged none by the installed daemon" \
    one_tag plain '^none; policy=none; authserv-id=mx\.receiver\.test$'
lab_send postfix member tls13 root x@example.org b@receiver.test \
    --add-header 'X-TLS-Trust: trusted; network=redsegura; forged=1'
check "member certificate: accepted" want_reply "250 2.0.0"
check "member certificate: trusted, network=redsegura; the forged tag is gone" \
    one_tag member '^trusted; network=redsegura; .*authserv-id=mx\.receiver\.test$'
lab_send postfix policy plain - x@sub.ministerio.test b@receiver.test
check "domain table: plaintext from a trusted/reject domain: 550 5.7.10" want_reply "550 5.7.10"
lab_send postfix monitor plain - x@monitor.test b@receiver.test
check "domain table, monitor: accepted, policy=fail; action=monitor" \
    one_tag monitor '^none; policy=fail; action=monitor; .*authserv-id=mx\.receiver\.test$'
lab_postfix_stop

# ---------------------------------------------------------------- remove, purge
stop_daemon() {
    local i
    if [[ $SYSTEMD_STARTED == yes ]]; then
        systemctl stop "$PKG"
    else
        kill "$DAEMON_PID"
        for ((i = 0; i < 150; i++)); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        ! kill -0 "$DAEMON_PID" 2>/dev/null
    fi
}
stopped=no
stop_daemon >"$P/stop.out" 2>&1 && stopped=yes && DAEMON_PID=
check "daemon stops within 15 s" want_true "$(cat "$P/stop.out")" test $stopped = yes
check "dpkg -r" timeout 300 dpkg -r "$PKG"
check "after remove: binaries gone" want_true "still there" test ! -e /usr/sbin/tlstrust-milter
check "after remove: edited conffiles kept" test -f "$CONF"
check "dpkg -P" timeout 300 dpkg -P "$PKG"
check "after purge: /etc/tlstrust gone" want_true "$(ls -R /etc/tlstrust 2>&1)" test ! -e /etc/tlstrust
check "after purge: unit symlink gone" test ! -e /etc/systemd/system/multi-user.target.wants/tlstrust-milter.service
check "after purge: package unknown to dpkg" \
    want_true "$(dpkg -l "$PKG" 2>&1 | tail -n1)" \
    bash -c "! dpkg-query -W -f='\${Status}' $PKG 2>/dev/null | grep -qE ' (installed|config-files|half-installed|half-configured)\$'"

tap_finish
