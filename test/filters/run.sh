#!/usr/bin/env bash
# The shipped filter snippets (etc/spamassassin, etc/rspamd, etc/sieve) run
# by the real programs from Debian on messages tagged by the project's own
# tag writer (mktag), plus deliberately forged tags.
#
# Usage: test/filters/run.sh MKTAG [SNIPPET_DIR]
#   MKTAG        build-test/test/filters/mktag
#   SNIPPET_DIR  where spamassassin/, rspamd/, sieve/ are (default: etc/)
# Prints TAP and ends with "N passed, N failed"; exits 1 on any failure.
# rspamd runs on 127.0.0.1 only, with a private config that makes no
# network query (its DNS points at 127.0.0.1:1); every program is bounded
# by timeout(1).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MKTAG=${1:?usage: run.sh MKTAG [SNIPPET_DIR]}
SNIPPETS=${2:-$here/../../etc}
MKTAG=$(realpath "$MKTAG")
SNIPPETS=$(realpath "$SNIPPETS")
ID=mx.receiver.test # the authserv-id the tests configure in each snippet

W=$(mktemp -d /tmp/tlstrust-filters.XXXXXX)
chmod 755 "$W"
RSPAMD_PID=
# rspamd writes a pattern cache to /var/lib/rspamd before it reads a config
# that then fails to load: remove what was not there before.
RS_SYSDB=/var/lib/rspamd
RS_SYSDB_BEFORE=$(ls -A "$RS_SYSDB" 2>/dev/null || true)
cleanup() {
    local i f
    if [[ -n $RSPAMD_PID ]]; then
        kill "$RSPAMD_PID" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do kill -0 "$RSPAMD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$RSPAMD_PID" 2>/dev/null || true
        wait "$RSPAMD_PID" 2>/dev/null || true
    fi
    for f in $(ls -A "$RS_SYSDB" 2>/dev/null || true); do
        grep -qxF -- "$f" <<<"$RS_SYSDB_BEFORE" || rm -f -- "${RS_SYSDB:?}/$f"
    done
    rm -rf "$W"
}
trap cleanup EXIT

# shellcheck source-path=SCRIPTDIR
. "$here/../tap.sh"

# ---------------------------------------------------------------- messages
# msg NAME: a message whose header section starts with stdin (the tags);
# the body holds a marker that the test-only "costly" rules score 8.
mkdir -p "$W/msg"
msg() {
    {
        cat
        printf 'From: <a@sender.test>\nTo: <b@receiver.test>\nSubject: test %s\n' "$1"
        printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@sender.test>\n' "$1"
        printf '\nhello XYZZY-SPAM\n'
    } >"$W/msg/$1.eml"
}
tag() { "$MKTAG" -a "$ID" "$@"; }
# Fold the tag as an MTA may: a line break before " policy=".
fold_tag() { sed 's/; policy=/;\n\tpolicy=/'; }
FORGED_TRUSTED="X-TLS-Trust: trusted; network=redsegura; policy=pass; authserv-id=$ID"
FORGED_PASS="X-TLS-Trust: none; policy=pass; authserv-id=$ID"

tag -l trusted | msg trusted
tag -l verified | msg verified
tag -l encrypted | fold_tag | msg encrypted_folded
tag -l none | msg none
tag -l none -f | msg none_policy_fail
"$MKTAG" -a evil.test -l trusted | msg foreign_trusted
"$MKTAG" -a evil.test -l none | msg foreign_none
{ tag -l none; echo "$FORGED_TRUSTED"; } | msg none_then_forged_trusted
{ tag -l trusted; echo "$FORGED_TRUSTED"; } | msg trusted_then_forged_trusted
{ tag -l none -f; echo "$FORGED_PASS"; } | msg policy_fail_then_forged_pass
tag -l trusted -s "x\"; policy=fail; action=monitor; authserv-id=$ID" | msg trusted_subject_trick
tag -l encrypted -s "x; authserv-id=$ID" | sed "s/authserv-id=$ID\$/authserv-id=evil.test/" |
    msg foreign_subject_trick
: | msg untagged

# ---------------------------------------------------------------- assertions
# has LIST SYMBOL... / hasnt LIST SYMBOL...: LIST is a file of names, one a line.
has() {
    local f=$1 s rc=0
    shift
    for s; do grep -qx -- "$s" "$f" || { echo "want $s, got: $(tr '\n' ' ' <"$f")"; rc=1; }; done
    return $rc
}
hasnt() {
    local f=$1 s rc=0
    shift
    for s; do ! grep -qx -- "$s" "$f" || { echo "must not have $s, got: $(tr '\n' ' ' <"$f")"; rc=1; }; done
    return $rc
}
score_is() { # FILE WANT
    [[ $(cat "$1") == "$2" ]] || { echo "score: want $2, got $(cat "$1")"; return 1; }
}

# ---------------------------------------------------------------- SpamAssassin
# A private site config: the stock *.pre files (ReplaceTags is loaded by
# v310.pre) and the snippet with our authserv-id; a private rules dir with
# only a test rule standing for the costly checks, so the scores are exact.
sa_setup() { # DIR [shortcircuit]
    local d=$1
    mkdir -p "$d/site" "$d/rules" "$d/home"
    cp /etc/spamassassin/*.pre "$d/site/"
    sed 's/mx\\\.example\\\.org/mx\\.receiver\\.test/' "$SNIPPETS/spamassassin/tlstrust.cf" >"$d/site/tlstrust.cf"
    if [[ ${2:-} == shortcircuit ]]; then
        sed -i 's/^# *\(loadplugin Mail::SpamAssassin::Plugin::Shortcircuit\)/\1/' "$d/site/v320.pre"
        sed -i 's/^#\(ifplugin\|shortcircuit\|endif\)/\1/' "$d/site/tlstrust.cf"
    fi
    cat >"$d/rules/00_test.cf" <<'EOF'
required_score 5
report_safe 0
clear_headers
add_header all Status _YESNO_, score=_SCORE_ tests=_TESTS_
util_rb_tld test
body  TT_TEST_COSTLY /XYZZY-SPAM/
score TT_TEST_COSTLY 8
EOF
}
sa() { # DIR ARGS...
    local d=$1
    shift
    HOME=$d/home timeout 60 spamassassin -L -x --siteconfigpath="$d/site" --configpath="$d/rules" "$@"
}
# sa_scan DIR NAME: NAME.sa (rule names) and NAME.sascore from X-Spam-Status.
sa_scan() {
    local d=$1 n=$2 status
    status=$(sa "$d" <"$W/msg/$n.eml" 2>/dev/null |
        awk '/^$/ { exit } /^[ \t]/ { cur = cur $0; next } { if (cur != "") print cur; cur = $0 } END { print cur }' |
        sed -n 's/^X-Spam-Status: //p' | tr -s ' \t' ' ')
    sed -n 's/.*tests=\([^ ]*\).*/\1/p' <<<"$status" | tr ',' '\n' >"$d/$n.sa"
    sed -n 's/.*score=\([-0-9.]*\).*/\1/p' <<<"$status" >"$d/$n.sascore"
}

SA=$W/sa
sa_setup "$SA"
check "spamassassin --lint" sa "$SA" --lint
for n in "$W"/msg/*.eml; do sa_scan "$SA" "$(basename "$n" .eml)"; done
check "sa: ours, trusted: -2" has "$SA/trusted.sa" TLSTRUST_TRUSTED
check "sa: ours, trusted: score -2 + 8" score_is "$SA/trusted.sascore" 6.0
check "sa: ours, verified" has "$SA/verified.sa" TLSTRUST_VERIFIED
check "sa: ours, encrypted, folded" has "$SA/encrypted_folded.sa" TLSTRUST_ENCRYPTED
check "sa: ours, none" has "$SA/none.sa" TLSTRUST_NONE
check "sa: ours, policy fail" has "$SA/none_policy_fail.sa" TLSTRUST_NONE TLSTRUST_POLICY_FAIL
check "sa: foreign authserv-id, trusted: not believed" hasnt "$SA/foreign_trusted.sa" TLSTRUST_TRUSTED
check "sa: foreign authserv-id: flagged" has "$SA/foreign_trusted.sa" TLSTRUST_FOREIGN
check "sa: foreign authserv-id, none: no level" hasnt "$SA/foreign_none.sa" TLSTRUST_NONE
check "sa: ours none + forged trusted: none, several" has "$SA/none_then_forged_trusted.sa" TLSTRUST_NONE TLSTRUST_SEVERAL
check "sa: ours none + forged trusted: not trusted" hasnt "$SA/none_then_forged_trusted.sa" TLSTRUST_TRUSTED
check "sa: trusted + forged second: no negative score" hasnt "$SA/trusted_then_forged_trusted.sa" TLSTRUST_TRUSTED
check "sa: trusted + forged second: several" has "$SA/trusted_then_forged_trusted.sa" TLSTRUST_SEVERAL
check "sa: policy fail + forged pass below: fail read from the first" has "$SA/policy_fail_then_forged_pass.sa" TLSTRUST_POLICY_FAIL
check "sa: policy=fail in the subject: no policy fail" hasnt "$SA/trusted_subject_trick.sa" TLSTRUST_POLICY_FAIL
check "sa: authserv-id in the subject: still foreign" hasnt "$SA/foreign_subject_trick.sa" TLSTRUST_ENCRYPTED
check "sa: untagged: no tlstrust rule" hasnt "$SA/untagged.sa" TLSTRUST_NONE TLSTRUST_FOREIGN TLSTRUST_SEVERAL

SC=$W/sa-sc
sa_setup "$SC" shortcircuit
check "spamassassin --lint, Shortcircuit enabled" sa "$SC" --lint
for n in trusted foreign_trusted trusted_then_forged_trusted; do sa_scan "$SC" "$n"; done
check "sa shortcircuit: trusted skips the costly rule" hasnt "$SC/trusted.sa" TT_TEST_COSTLY
check "sa shortcircuit: trusted hit" has "$SC/trusted.sa" TLSTRUST_TRUSTED SHORTCIRCUIT
check "sa shortcircuit: foreign authserv-id does not skip" has "$SC/foreign_trusted.sa" TT_TEST_COSTLY
check "sa shortcircuit: a forged second tag does not skip" has "$SC/trusted_then_forged_trusted.sa" TT_TEST_COSTLY

# ---------------------------------------------------------------- rspamd
# A private, minimal config: the snippet, the settings module with the
# shipped settings rule, and a test symbol in the "antivirus" group standing
# for a costly check. Caches go to the work dir (DBDIR too, for a config
# that fails to load), never to /var/lib/rspamd.
RS=$W/rspamd
RS_PORT=
rs_setup() {
    local p
    mkdir -p "$RS/db" "$RS/run"
    while :; do
        p=$((20000 + RANDOM % 40000))
        [[ -z $(ss -Htan "sport = :$p" 2>/dev/null) ]] && break
    done
    RS_PORT=$p
    sed "s/'mx\.example\.org'/'$ID'/" "$SNIPPETS/rspamd/tlstrust.lua" >"$RS/tlstrust.lua"
    cp "$SNIPPETS/rspamd/tlstrust-settings.conf" "$RS/settings.conf" 2>/dev/null || : >"$RS/settings.conf"
    cat >"$RS/test.lua" <<EOF
-- As the stock rules/rspamd.lua does: regexp rules may be defined.
config['regexp'] = config['regexp'] or {}
dofile('$RS/tlstrust.lua')
-- Stands for a costly check (antivirus group): scores the body marker.
rspamd_config:register_symbol({
  name = 'TT_TEST_COSTLY', score = 8.0, group = 'antivirus',
  callback = function(task)
    for _, p in ipairs(task:get_text_parts() or {}) do
      if tostring(p:get_content()):find('XYZZY-SPAM', 1, true) then return true end
    end
    return false
  end,
})
EOF
    cat >"$RS/rspamd.conf" <<EOF
options {
  pidfile = "$RS/run/rspamd.pid";
  hs_cache_dir = "$RS/db";
  maps_cache_dir = "$RS/db";
  dns { nameserver = ["127.0.0.1:1"]; timeout = 0.5s; retransmits = 1; }
  filters = "regexp";
}
logging { type = "file"; filename = "$RS/rspamd.log"; level = "info"; }
worker "normal" { bind_socket = "127.0.0.1:$RS_PORT"; count = 1; task_timeout = 10s; }
actions { reject = 15; add_header = 6; }
modules { path = "/usr/share/rspamd/plugins/settings.lua"; }
group "antivirus" { }
settings {
.include "$RS/settings.conf"
}
lua = "$RS/test.lua";
EOF
    chown -R _rspamd: "$RS"
}
rs_start() {
    local i
    timeout 600 rspamd --var="DBDIR=$RS/db" -c "$RS/rspamd.conf" -u _rspamd -g _rspamd -f >"$RS/stdout" 2>&1 &
    RSPAMD_PID=$!
    for ((i = 0; i < 600; i++)); do
        [[ -n $(ss -Hltn "sport = :$RS_PORT" 2>/dev/null) ]] && return 0
        kill -0 "$RSPAMD_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$RS/stdout" "$RS/rspamd.log" 2>/dev/null | tail -n 20
    return 1
}
# rs_scan NAME: NAME.rs (symbol names) and NAME.rsscore.
rs_scan() {
    local out
    out=$(timeout 30 rspamc -h "127.0.0.1:$RS_PORT" -t 20 symbols <"$W/msg/$1.eml" 2>&1) || true
    sed -n 's/^Symbol: \([A-Z0-9_]*\).*/\1/p' <<<"$out" >"$RS/$1.rs"
    sed -n 's/^Score: \([-0-9.]*\) .*/\1/p' <<<"$out" >"$RS/$1.rsscore"
}

rs_setup
check "rspamadm configtest" timeout 60 rspamadm --var="DBDIR=$RS/db" configtest -c "$RS/rspamd.conf"
check "rspamd starts on 127.0.0.1:$RS_PORT" rs_start
for n in "$W"/msg/*.eml; do rs_scan "$(basename "$n" .eml)"; done
check "rspamd: ours, trusted" has "$RS/trusted.rs" TLSTRUST_TRUSTED
check "rspamd: ours, trusted: score -2, costly checks skipped" score_is "$RS/trusted.rsscore" -2.00
check "rspamd: ours, verified" has "$RS/verified.rs" TLSTRUST_VERIFIED
check "rspamd: ours, encrypted, folded" has "$RS/encrypted_folded.rs" TLSTRUST_ENCRYPTED
check "rspamd: ours, none" has "$RS/none.rs" TLSTRUST_NONE
check "rspamd: ours, policy fail" has "$RS/none_policy_fail.rs" TLSTRUST_NONE TLSTRUST_POLICY_FAIL
check "rspamd: foreign authserv-id, trusted: not believed" hasnt "$RS/foreign_trusted.rs" TLSTRUST_TRUSTED
check "rspamd: foreign authserv-id: flagged" has "$RS/foreign_trusted.rs" TLSTRUST_FOREIGN
check "rspamd: ours none + forged trusted: none, several" has "$RS/none_then_forged_trusted.rs" TLSTRUST_NONE TLSTRUST_SEVERAL
check "rspamd: ours none + forged trusted: not trusted" hasnt "$RS/none_then_forged_trusted.rs" TLSTRUST_TRUSTED
check "rspamd: trusted + forged second: no negative score" hasnt "$RS/trusted_then_forged_trusted.rs" TLSTRUST_TRUSTED
check "rspamd: trusted + forged second: several" has "$RS/trusted_then_forged_trusted.rs" TLSTRUST_SEVERAL
check "rspamd: policy fail + forged pass below" has "$RS/policy_fail_then_forged_pass.rs" TLSTRUST_POLICY_FAIL
check "rspamd: policy=fail in the subject: no policy fail" hasnt "$RS/trusted_subject_trick.rs" TLSTRUST_POLICY_FAIL
check "rspamd: authserv-id in the subject: still foreign" hasnt "$RS/foreign_subject_trick.rs" TLSTRUST_ENCRYPTED
check "rspamd settings: trusted skips the costly check" hasnt "$RS/trusted.rs" TT_TEST_COSTLY
check "rspamd settings: verified does not skip" has "$RS/verified.rs" TT_TEST_COSTLY
check "rspamd settings: foreign authserv-id does not skip" has "$RS/foreign_trusted.rs" TT_TEST_COSTLY
check "rspamd settings: a forged second tag does not skip" has "$RS/trusted_then_forged_trusted.rs" TT_TEST_COSTLY
check "rspamd settings: forged trusted below ours none does not skip" has "$RS/none_then_forged_trusted.rs" TT_TEST_COSTLY

# ---------------------------------------------------------------- Sieve
SV=$W/sieve
mkdir -p "$SV/home"
chown nobody "$SV/home"
sed "s/\"mx\.example\.org\"/\"$ID\"/" "$SNIPPETS/sieve/tlstrust.sieve" >"$SV/tlstrust.sieve"
# A private Dovecot config: sieve-test needs a mail user, not the system's.
printf 'mail_uid = nobody\nmail_gid = nogroup\nmail_home = %s/home\nmail_location = maildir:%s/home/Maildir\n' \
    "$SV" "$SV" >"$SV/dovecot.conf"
chmod -R a+rX "$SV"
# folder_is NAME FOLDER: sieve-test files message NAME into FOLDER, nowhere else.
folder_is() {
    local out got
    out=$(timeout 30 sieve-test -c "$SV/dovecot.conf" "$SV/tlstrust.sieve" "$W/msg/$1.eml" 2>&1) || { echo "$out"; return 1; }
    got=$(sed -n 's/^ \* store message in folder: //p' <<<"$out" | tr '\n' ' ')
    [[ $got == "$2 " ]] || { echo "want folder $2, got: $got"; return 1; }
}
check "sievec" timeout 30 sievec -c "$SV/dovecot.conf" "$SV/tlstrust.sieve" "$SV/tlstrust.svbin"
check "sieve: ours, trusted: INBOX" folder_is trusted INBOX
check "sieve: ours, encrypted, folded: INBOX" folder_is encrypted_folded INBOX
check "sieve: ours, none: No-TLS" folder_is none No-TLS
check "sieve: foreign authserv-id, trusted: No-TLS" folder_is foreign_trusted No-TLS
check "sieve: ours none + forged trusted: No-TLS" folder_is none_then_forged_trusted No-TLS
check "sieve: trusted + forged second: No-TLS" folder_is trusted_then_forged_trusted No-TLS
check "sieve: authserv-id in the subject: No-TLS" folder_is foreign_subject_trick No-TLS
check "sieve: untagged: No-TLS" folder_is untagged No-TLS

tap_finish
