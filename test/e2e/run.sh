#!/usr/bin/env bash
# Real-MTA end-to-end suite (issue 3): tlstrust-milter behind a private Postfix
# and a private Sendmail, driven by swaks over real TLS with a test PKI.
#
# Usage: test/e2e/run.sh [--mta postfix|sendmail] [--lab-only] [--only N[,N...]] [MILTER]
#   MILTER       the tlstrust-milter binary (default: $TLSTRUST_MILTER, else build/milter/)
#   --lab-only   no milter: check only that the lab works (MTAs, TLS, client certs)
#   --only 1,7   run only these scenarios (0 = lab checks, base = untagged baseline;
#                15, the mail-state report, reads what the scenarios before it sent)
# Prints TAP ("ok N - name") and ends with "N passed, N failed"; exits 1 on any failure.
# Needs root, postfix, swaks, m4, openssl, libwrap0, liblockfile1 (scripts/install-deps).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"
# shellcheck source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/assert.sh"

MTAS=(postfix sendmail)
LAB_ONLY=0
ONLY=
while (($#)); do
    case $1 in
    --mta) MTAS=("$2"); shift 2 ;;
    --lab-only) LAB_ONLY=1; shift ;;
    --only) ONLY=",$2,"; shift 2 ;;
    -h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) LAB_MILTER_BIN=$1; shift ;;
    esac
done

BASE_TABLE=$LAB_TABLE
# tlstrustctl, built beside the milter: it reads the milters' StateDatabase (s15).
LAB_CTL=$(dirname "$LAB_MILTER_BIN")/tlstrustctl

# ---------------------------------------------------------------- TAP

# shellcheck source-path=SCRIPTDIR
. "$LAB_SRC/../tap.sh"

want_scenario() { [[ -z $ONLY || $ONLY == *",$1,"* ]]; }

finish() { tap_finish; }

# ---------------------------------------------------------------- assertions
# Each returns non-zero with an explanation on stdout, so each check can fail.

show_tx() { [[ -n ${LAB_TX:-} && -r $LAB_TX ]] && sed -n '/^ *[-~]> MAIL FROM/,$p' "$LAB_TX" | head -n 25 | sed 's/^/  | /'; return 0; }

# want_code "450 4.7.10": LAB_REPLY (first refusal, else end-of-DATA reply).
want_code() {
    local got
    got=$(lab_code "$LAB_REPLY")
    [[ $got == "$1" ]] && return 0
    echo "want $1, got \"$LAB_REPLY\""
    show_tx
    return 1
}

want_accepted() {
    [[ $LAB_REPLY == 250* ]] && return 0
    echo "want 250 (accepted), got \"$LAB_REPLY\""
    show_tx
    return 1
}

# want_rcpt_code ADDR "550 5.7.10"
want_rcpt_code() {
    local got
    got=$(lab_code "$(lab_rcpt_reply "$LAB_TX" "$1")")
    [[ $got == "$2" ]] && return 0
    echo "RCPT TO:<$1>: want $2, got \"$(lab_rcpt_reply "$LAB_TX" "$1")\""
    show_tx
    return 1
}

want_final_accepted() {
    local r
    r=$(lab_final_reply "$LAB_TX")
    [[ $r == 250* ]] && return 0
    echo "end of DATA: want 250, got \"$r\""
    show_tx
    return 1
}

# want_header MTA ID NAME COUNT [ERE]: COUNT headers NAME (matching ERE when given).
want_header() {
    local vals n
    if [[ -z $(lab_msg_file "$1" "$2" 15) ]]; then
        echo "no stored message for $1-$2"
        return 1
    fi
    vals=$(lab_header "$1" "$2" "$3" 0)
    [[ -n ${5:-} ]] && vals=$(grep -E -- "$5" <<<"$vals" || true)
    n=$(grep -c . <<<"$vals" || true)
    [[ $n == "$4" ]] && return 0
    echo "want $4 '$3' header(s)${5:+ matching /$5/}, got $n; headers:"
    lab_headers "$1" "$2" | sed 's/^/  | /'
    return 1
}

# want_rcpts MTA ID ADDR...: the stored message's envelope recipients, in any order.
want_rcpts() {
    local mta=$1 id=$2 got want
    shift 2
    got=$(lab_rcpts "$mta" "$id" 15 | sort | tr '\n' ' ')
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    [[ $got == "$want" ]] && return 0
    echo "recipients: want '$want', got '$got'"
    return 1
}

AUTHSERV=$(kv 'authserv-id=mx\.receiver\.test')

milter_of() { [[ $1 == postfix ]] && echo pf || echo sm; }

# ---------------------------------------------------------------- scenarios

# 0: the lab itself (also without the milter): relaying, TLS, client certificates.
s0() {
    local m=$1 c
    lab_send "$m" s0-plain plain - x@example.org b@receiver.test
    check "$m: 0 lab: plaintext message accepted" want_accepted
    check "$m: 0 lab: message stored and readable" want_header "$m" s0-plain X-Test-Id 1
    for c in root int nocn outside enc rogue; do
        lab_send "$m" "s0-$c" tls13 "$c" x@example.org b@receiver.test
        check "$m: 0 lab: TLS 1.3 with client-$c accepted" want_accepted
        if [[ $m == postfix ]]; then
            if [[ $c == rogue ]]; then
                check "$m: 0 lab: client-rogue not verified by Postfix" \
                    want_header "$m" "s0-$c" Received 1 '\(not verified\)'
            else
                check "$m: 0 lab: client-$c verified by Postfix" \
                    want_header "$m" "s0-$c" Received 1 '\(verified OK\)'
            fi
        else
            local v=OK
            [[ $c == rogue ]] && v=FAIL
            check "$m: 0 lab: client-$c verify=$v in Sendmail" \
                want_header "$m" "s0-$c" Received 1 "verify=$v\\)"
        fi
    done
    lab_send "$m" s0-tls12 tls12 - x@example.org b@receiver.test
    check "$m: 0 lab: TLS 1.2 negotiated" want_header "$m" s0-tls12 Received 1 'TLSv1\.2'
}

# Baseline: a message that no rule covers is tagged and accepted.
s_base() {
    local m=$1
    lab_send "$m" base plain - x@example.org b@receiver.test
    check "$m: base plaintext, no rule: accepted" want_accepted
    check "$m: base tag is 'none', policy=none, our authserv-id" \
        want_tag "$m" base "$(lvl none)" "$(kv policy=none)" "$AUTHSERV"
    check "$m: base Authentication-Results x-tls=none" \
        want_header "$m" base Authentication-Results 1 '^mx\.receiver\.test;.*x-tls=none'
}

s1() {
    local m=$1
    lab_send "$m" s1-defer plain - x@ministerio.test b@receiver.test
    check "$m: 1 plaintext from trusted/defer domain: 450 4.7.10" want_code "450 4.7.10"
    check "$m: 1 deferred message not delivered" want_no_msg "$m" s1-defer
    check "$m: 1 decision logged with rule, result and action" \
        want_log "$(lab_milter_log "$(milter_of "$m")")" \
        '<x@ministerio\.test>.*rule="?from:ministerio\.test"? .*result=fail .*action=defer'
    lab_send "$m" s1-reject plain - x@sub.ministerio.test b@receiver.test
    check "$m: 1 plaintext from trusted/reject domain: 550 5.7.10" want_code "550 5.7.10"
    check "$m: 1 rejected message not delivered" want_no_msg "$m" s1-reject
    lab_send "$m" s1-monitor plain - x@monitor.test b@receiver.test
    check "$m: 1 plaintext from trusted/monitor domain: accepted" want_accepted
    check "$m: 1 monitor tag: none, policy=fail, action=monitor" \
        want_tag "$m" s1-monitor "$(lvl none)" "$(kv policy=fail)" "$(kv action=monitor)" "$AUTHSERV"
}

s2() {
    local m=$1
    lab_send "$m" s2-verify tls - x@verify.test b@receiver.test
    check "$m: 2 TLS without certificate to a verify rule: 550 5.7.1" want_code "550 5.7.1"
    lab_send "$m" s2-encrypt tls13 - x@encrypt.test b@receiver.test
    check "$m: 2 TLS without certificate to an encrypt rule: accepted" want_accepted
    check "$m: 2 tagged encrypted, policy=pass, version/cipher/bits" \
        want_tag "$m" s2-encrypt "$(lvl encrypted)" "$(kv policy=pass)" "$(kv 'version=TLSv1\.3')" \
        "$(kv 'cipher=TLS_[A-Z0-9_]+')" "$(kv 'bits=(128|256)')" "!network=" "$AUTHSERV"
    check "$m: 2 Authentication-Results x-tls=pass with smtp.version" \
        want_header "$m" s2-encrypt Authentication-Results 1 '^mx\.receiver\.test;.*x-tls=pass.*smtp\.version=TLSv1\.3'
}

s3() {
    local m=$1 c
    for c in root int nocn; do
        lab_send "$m" "s3-$c" tls "$c" x@ministerio.test b@receiver.test
        check "$m: 3 member certificate ($c) to a trusted rule: accepted" want_accepted
        check "$m: 3 member certificate ($c) tagged trusted, network=redsegura" \
            want_tag "$m" "s3-$c" "$(lvl trusted)" "$(kv network=redsegura)" "$(kv policy=pass)" "$AUTHSERV"
    done
    lab_send "$m" s3-named tls root x@red.test b@receiver.test
    check "$m: 3 member certificate to a trusted:redsegura rule: accepted" want_accepted
    # A second network (aliada): trusted, but with its own name.
    lab_send "$m" s3-aliada tls aliada x@ministerio.test b@receiver.test
    check "$m: 3 other network's certificate to a trusted rule: accepted" want_accepted
    check "$m: 3 other network's certificate tagged trusted, network=aliada" \
        want_tag "$m" s3-aliada "$(lvl trusted)" "$(kv network=aliada)" '!redsegura'
    lab_send "$m" s3-aliada-named tls aliada x@red.test b@receiver.test
    check "$m: 3 other network's certificate to a trusted:redsegura rule: 550 5.7.1" want_code "550 5.7.1"
    check "$m: 3 tag names subject and issuer of the root member" \
        want_tag "$m" s3-root "$(qv subject 'mail\.ministerio\.test')" "$(qv issuer 'Red Segura CA')"
    check "$m: 3 tag names the no-CN issuer by its O" \
        want_tag "$m" s3-nocn "$(qv issuer 'Red Segura Sin CN')"
}

s4() {
    local m=$1
    lab_send "$m" s4-tag tls rogue x@example.org b@receiver.test
    check "$m: 4 rogue-CA certificate, no rule: accepted" want_accepted
    if [[ $m == sendmail ]]; then
        check "$m: 4 rogue-CA certificate tagged encrypted with verify=FAIL, never trusted" \
            want_tag "$m" s4-tag "$(lvl encrypted)" "$(kv verify=FAIL)" '!trusted' '!network='
    else
        check "$m: 4 rogue-CA certificate tagged encrypted, never trusted" \
            want_tag "$m" s4-tag "$(lvl encrypted)" '!trusted' '!network='
    fi
    lab_send "$m" s4-rule tls rogue x@ministerio.test b@receiver.test
    check "$m: 4 rogue-CA certificate to a trusted/defer rule: 450 4.7.1" want_code "450 4.7.1"
}

s5() {
    local m=$1
    lab_send "$m" s5-tag tls outside x@example.org b@receiver.test
    check "$m: 5 outside-CA certificate, no rule: accepted" want_accepted
    check "$m: 5 outside-CA certificate tagged verified, no network" \
        want_tag "$m" s5-tag "$(lvl verified)" '!network=' "$(qv subject 'mail\.outside\.test')"
    lab_send "$m" s5-rule tls outside x@ministerio.test b@receiver.test
    check "$m: 5 outside-CA certificate to a trusted/defer rule: 450 4.7.1" want_code "450 4.7.1"
}

s6() {
    local m=$1
    lab_send "$m" s6-bad tls root x@subj.test b@receiver.test
    check "$m: 6 member certificate not matching subject=*.subj.test: 550 5.7.1" want_code "550 5.7.1"
    check "$m: 6 refusal names the subject mismatch" \
        want_true "reply was: $LAB_REPLY" grep -qi 'subject' <<<"$LAB_REPLY"
    lab_send "$m" s6-good tls subj x@subj.test b@receiver.test
    check "$m: 6 member certificate matching subject=*.subj.test: accepted" want_accepted
}

s7() {
    local m=$1
    lab_send "$m" s7 tls root x@example.org b@receiver.test \
        --add-header 'X-TLS-Trust: trusted; network=redsegura; policy=pass; forged=1' \
        --add-header 'x-tls-trust: trusted; forged=2' \
        --add-header 'X-Tls-TRUST: trusted; forged=3' \
        --add-header 'Authentication-Results: mx.receiver.test; x-tls=pass forged=4' \
        --add-header 'Authentication-Results: other.example; spf=pass smtp.mailfrom=example.org'
    check "$m: 7 message with forged headers accepted" want_accepted
    check "$m: 7 exactly one X-TLS-Trust survives, ours" \
        want_tag "$m" s7 "$(lvl trusted)" "$AUTHSERV" '!forged'
    check "$m: 7 forged Authentication-Results with our authserv-id removed" \
        want_header "$m" s7 Authentication-Results 0 'forged'
    check "$m: 7 our Authentication-Results present once" \
        want_header "$m" s7 Authentication-Results 1 '^mx\.receiver\.test; *x-tls=pass smtp\.version=TLSv1\.[23]'
    check "$m: 7 foreign Authentication-Results kept" \
        want_header "$m" s7 Authentication-Results 1 '^other\.example;'
}

s8() {
    local m=$1
    lab_send "$m" s8 plain - x@example.org a@receiver.test,c@protected.receiver.test,b@receiver.test
    check "$m: 8 protected recipient over plaintext: 550 5.7.10" \
        want_rcpt_code c@protected.receiver.test "550 5.7.10"
    check "$m: 8 other recipients accepted at RCPT" want_rcpt_code a@receiver.test "250 2.1.5"
    check "$m: 8 message accepted for the others" want_final_accepted
    check "$m: 8 delivered to exactly the two others" want_rcpts "$m" s8 a@receiver.test b@receiver.test
}

s9() {
    local m=$1
    lab_send "$m" s9-12 tls12 - x@min13.test b@receiver.test
    check "$m: 9 min_version=TLSv1.3, TLS 1.2 client: 550 5.7.1" want_code "550 5.7.1"
    lab_send "$m" s9-13 tls13 - x@min13.test b@receiver.test
    check "$m: 9 min_version=TLSv1.3, TLS 1.3 client: accepted" want_accepted
    check "$m: 9 tag shows version=TLSv1.3" want_tag "$m" s9-13 "$(kv 'version=TLSv1\.3')" "$(kv policy=pass)"
}

s10() {
    local m=$1 cn
    lab_send "$m" s10-enc tls enc x@example.org b@receiver.test
    check "$m: 10 certificate with special characters: accepted" want_accepted
    # In the header the CN's '"' must appear backslash-escaped, UTF-8 kept.
    cn=$(re_escape 'José \"mx\" + (uno) / ministerio.test')
    check "$m: 10 subject readable (UTF-8, + ( / kept) and '\"' escaped" \
        want_tag "$m" s10-enc "$(lvl trusted)" "$(qv subject "$cn")" "$(qv issuer 'Red Segura Intermedia CA')" \
        '!\+20' '!\+2B' '!\+C3'
    lab_send "$m" s10-inject tls inject x@example.org b@receiver.test
    check "$m: 10 certificate with CR LF in its CN: accepted" want_accepted
    check "$m: 10 no header injected through the certificate name" \
        want_header "$m" s10-inject X-Injected 0
    check "$m: 10 CR LF CN: exactly one tag" want_tag "$m" s10-inject "$(lvl trusted)" "$AUTHSERV"
    if [[ $m == sendmail ]]; then
        # Postfix drops a CN with control characters ({cert_subject} is empty);
        # Sendmail passes it xtext-encoded, so the milter must escape it.
        check "$m: 10 CR LF in the CN shown as \\\\xHH" \
            want_tag "$m" s10-inject "$(qv subject 'evil\.test\\\\x0[dD]\\\\x0[aA]X-Injected')"
    fi
}

s11() {
    local m=$1 mi loop stop line i n bad
    mi=$(milter_of "$m")
    lab_send "$m" s11-before plain - x@newrule.test b@receiver.test
    check "$m: 11 before reload: no rule for newrule.test, accepted" want_accepted

    loop=$LAB_DIR/$m-s11-loop.txt
    stop=$LAB_DIR/$m-s11-stop
    : >"$loop"
    # Sessions in a loop while the table is changed and SIGHUP sent ten times.
    (
        i=0
        while [[ ! -e $stop ]] || ((i < 10)); do
            i=$((i + 1))
            lab_send "$m" "s11-loop-$i" tls root x@ministerio.test b@receiver.test
            echo "$i $LAB_REPLY" >>"$loop"
        done
    ) &
    local pid=$!
    LAB_PIDS+=("$pid")
    sleep 0.5
    LAB_TABLE="${BASE_TABLE}from:newrule.test encrypt reject
"
    lab_milter_write "$mi"
    for ((i = 0; i < 10; i++)); do
        lab_milter_hup "$mi" || true
        sleep 0.2
    done
    touch "$stop"
    wait "$pid" || true
    check "$m: 11 milter still running after 10 SIGHUPs" lab_milter_alive "$mi"
    lab_milter_alive "$mi" || lab_milter_spawn "$mi"
    n=$(wc -l <"$loop")
    bad=$(grep -v ' 250 ' "$loop" || true)
    check "$m: 11 no session failed across 10 reloads ($n sessions)" \
        want_true "failed sessions: $bad" test -z "$bad" -a "$n" -ge 10
    check "$m: 11 sessions during reload tagged trusted" want_tag "$m" s11-loop-5 "$(lvl trusted)"

    lab_send "$m" s11-after plain - x@newrule.test b@receiver.test
    check "$m: 11 new rule applies to the next message: 550 5.7.10" want_code "550 5.7.10"

    # A broken table: the reload fails, names file:line, the old policy stays.
    line=$(($(printf '%s' "$LAB_TABLE" | wc -l) + 1))
    printf '%sfrom:broken.test  no-such-requirement reject\n' "$LAB_TABLE" >"${LAB_MILTER_DIR[$mi]}/domains.table"
    lab_milter_hup "$mi" || true
    check "$m: 11 broken table: 'reload failed: FILE:$line:' logged" \
        want_log "$(lab_milter_log "$mi")" "reload failed: .*domains\\.table:$line:"
    lab_send "$m" s11-broken plain - x@newrule.test b@receiver.test
    check "$m: 11 after a failed reload the old policy stays (550 5.7.10)" want_code "550 5.7.10"
    lab_send "$m" s11-broken2 plain - x@ministerio.test b@receiver.test
    check "$m: 11 after a failed reload the old rules still hold (450 4.7.10)" want_code "450 4.7.10"

    # Back to the base table for what follows.
    LAB_TABLE=$BASE_TABLE
    lab_milter_write "$mi"
    if lab_milter_alive "$mi"; then lab_milter_hup "$mi"; else lab_milter_spawn "$mi"; fi
    sleep 0.5
}

s12() {
    local m=$1 mi dir stop k pids=() r id bad lost n4 n2
    mi=$(milter_of "$m")
    dir=$LAB_DIR/$m-s12
    stop=$dir/stop
    mkdir -p "$dir"
    # Three concurrent client loops (two TLS with a member certificate, one
    # plaintext); the milter is killed with SIGKILL while they run, stays down
    # for 3 s and is restarted. The loops are timed, not counted, so a slow
    # machine still has sessions before, during and after the outage.
    for k in 1 2 3; do
        (
            i=0
            mode=tls cert=root
            ((k == 3)) && mode=plain cert=-
            while [[ ! -e $stop ]]; do
                i=$((i + 1))
                lab_send "$m" "s12-$k-$i" "$mode" "$cert" x@example.org b@receiver.test
                echo "s12-$k-$i $(lab_code "$LAB_REPLY")" >>"$dir/replies"
            done
        ) &
        pids+=("$!")
        LAB_PIDS+=("$!")
    done
    sleep 1
    lab_milter_kill9 "$mi"
    sleep 3
    lab_milter_spawn "$mi"
    sleep 1.5
    touch "$stop"
    wait "${pids[@]}" || true

    n2=$(grep -c ' 250' "$dir/replies" || true)
    n4=$(grep -c ' 4[0-9][0-9]' "$dir/replies" || true)
    bad=$(grep -Ev ' (250|4[0-9][0-9])( |$)' "$dir/replies" || true)
    echo "# $m: $(wc -l <"$dir/replies") sessions, $n2 accepted, $n4 temporarily refused"
    check "$m: 12 milter killed: every session got 250 or 4xx (none 5xx or dropped)" \
        want_true "bad replies: $bad" test -z "$bad"
    check "$m: 12 sessions while the milter was down got 4xx (tempfail)" \
        want_true "no 4xx seen: the kill did not hit traffic" test "$n4" -gt 0
    lost=
    while read -r id r; do
        [[ $r == 250* ]] || continue
        [[ -n $(lab_msg_file "$m" "$id" 30) ]] || lost+=" $id"
    done <"$dir/replies"
    check "$m: 12 every accepted message was delivered or queued (none lost)" \
        want_true "accepted but not stored:$lost" test -z "$lost"
    lab_send "$m" s12-after tls root x@ministerio.test b@receiver.test
    check "$m: 12 after the restart mail is accepted and tagged again" \
        want_tag "$m" s12-after "$(lvl trusted)" "$(kv policy=pass)" "$AUTHSERV"
}

# 13: the DNS policy zone (issue 6) through the real MTA: ldns-testns plays a
# validating resolver (canned answers, AD set per entry), the milter asks it.
s13() {
    local m=$1 mi log
    mi=$(milter_of "$m")
    log=$(lab_milter_log "$mi")
    [[ -n $LAB_DNS_PORT ]] || lab_dns_start "$LAB_SRC/dns-answers.data"
    LAB_MILTER_EXTRA[$mi]="DnsResolver     127.0.0.1@$LAB_DNS_PORT
PolicyZone      redsegura policy.redsegura.test
"
    check "$m: 13 milter reloaded with DnsResolver and PolicyZone" lab_milter_reload "$mi"

    lab_send "$m" s13-plain plain - x@zonal.test b@receiver.test
    check "$m: 13 plaintext from a zone domain (req=trusted, reject): 550 5.7.10" want_code "550 5.7.10"
    check "$m: 13 refusal logged with rule zone:redsegura:zonal.test" \
        want_log "$log" 'refused at MAIL .*<x@zonal\.test>.* rule="?zone:redsegura:zonal\.test"? .*reply=550 5\.7\.10'
    check "$m: 13 the policy came from DNS (ldns-testns saw the TXT query)" \
        want_log "$LAB_DNS_LOG" 'zonal\.test\.policy\.redsegura\.test\.[[:space:]]+IN[[:space:]]+TXT'

    lab_send "$m" s13-member tls root x@zonal.test b@receiver.test
    check "$m: 13 member certificate from a zone domain: accepted" want_accepted
    check "$m: 13 tag: trusted, policy=pass, rule=\"zone:redsegura:zonal.test\"" \
        want_tag "$m" s13-member "$(lvl trusted)" "$(kv network=redsegura)" "$(kv policy=pass)" \
        "$(qv rule 'zone:redsegura:zonal\.test')" "$AUTHSERV"

    # A record without the AD bit must not be enforced (PolicyZoneRequireDNSSEC).
    lab_send "$m" s13-noad plain - x@sinad.test b@receiver.test
    check "$m: 13 zone record without AD, plaintext: accepted (record ignored)" want_accepted
    check "$m: 13 no-AD record: tag policy=none" want_tag "$m" s13-noad "$(lvl none)" "$(kv policy=none)"
    check "$m: 13 no-AD record: log says it was ignored for lacking DNSSEC" \
        want_log "$log" 'record at sinad\.test\.policy\.redsegura\.test ignored: answer not DNSSEC-validated'

    # Back to the config without DNS for what follows.
    unset "LAB_MILTER_EXTRA[$mi]"
    lab_milter_reload "$mi" || lab_die "milter $mi: reload without DNS failed"
}

# 14: envelope spellings (security review, item 1). Both MTAs accept these
# and route them to a@protected.receiver.test (doc/mta-facts.md); each must
# meet the to: rule (encrypt, reject), never slip past it. Likewise for a
# from: rule. What the MTA refuses itself (5xx) is refused too.
S14_RCPTS=(
    "a@protected.receiver.test "          # blank inside the brackets
    "<a@protected.receiver.test>"         # doubled brackets
    "a@protected.receiver.test (comment)" # a comment
    "a@PROTECTED.Receiver.TEST"           # upper case
    "a@protected.receiver.test."          # a trailing dot
    "a@protected.receiver.test.."         # two
    "@relay.test:a@protected.receiver.test" # a source route
    '"a b"@protected.receiver.test'       # a quoted local part
    "protected.receiver.test!a"           # a bang path
    "a%protected.receiver.test@receiver.test" # a percent hack
    "a@xn--protg-esab.receiver.test"      # the A-label of a UTF-8 table key
)
S14_FROMS=("x@encrypt.test " "<x@encrypt.test>" "x@encrypt.test (c)" "x@ENCRYPT.Test"
    "x@encrypt.test." "@relay.test:x@encrypt.test" '"x y"@encrypt.test')

# want_refused_rcpt ADDR: RCPT TO:<ADDR> got a 5xx (ours 550 5.7.10, or the MTA's own).
want_refused_rcpt() {
    local r
    r=$(lab_rcpt_reply "$LAB_TX" "$1")
    [[ $r == 5* ]] && return 0
    echo "RCPT TO:<$1>: want 5xx, got \"$r\""
    return 1
}

s14() {
    local m=$1 r f i=0 port out
    lab_send "$m" s14-rcpt plain - x@example.org "$(IFS=,; echo "${S14_RCPTS[*]}"),b@receiver.test"
    for r in "${S14_RCPTS[@]}"; do
        check "$m: 14 plaintext RCPT TO:<$r>: refused" want_refused_rcpt "$r"
    done
    check "$m: 14 refusals are the to: rule's 550 5.7.10" \
        want_rcpt_code "a@protected.receiver.test " "550 5.7.10"
    check "$m: 14 message delivered to the plain recipient only" \
        want_rcpts "$m" s14-rcpt b@receiver.test
    lab_send "$m" s14-tls tls13 - x@example.org "a@protected.receiver.test ,<a@PROTECTED.receiver.test.>"
    check "$m: 14 the same spellings over TLS: accepted" want_accepted
    # Sendmail's queue file keeps each recipient as the client spelled it.
    check "$m: 14 ... and stored for both spellings of a@protected.receiver.test" \
        want_true "recipients: $(lab_rcpts "$m" s14-tls 15 | tr '\n' '|')" \
        test "$(lab_rcpts "$m" s14-tls 15 | tr -d ' <>' | tr A-Z a-z | sed 's/\.*$//' | sort -u)" \
        = a@protected.receiver.test
    for f in "${S14_FROMS[@]}"; do
        i=$((i + 1))
        lab_send "$m" "s14-from$i" plain - "$f" b@receiver.test
        check "$m: 14 plaintext MAIL FROM:<$f>: 550 5.7.10" want_code "550 5.7.10"
    done
    check "$m: 14 from: refusals logged with the rule" \
        want_log "$(lab_milter_log "$(milter_of "$m")")" 'refused at MAIL .*rule="?from:encrypt\.test"? '
    # A quoted domain cannot be judged: refused (the milter's 553 5.1.3 or the MTA's own 5xx).
    lab_send "$m" s14-quoted plain - x@example.org 'a@"protected.receiver.test",b@receiver.test'
    check "$m: 14 RCPT TO:<a@\"protected.receiver.test\">: refused" \
        want_refused_rcpt 'a@"protected.receiver.test"'
    # A bare CR in a header could make a downstream reader see a forged tag.
    # Neither MTA lets one through (doc/mta-facts.md); the milter refuses it
    # as well (test/milter/headers.lua), for MTAs that would.
    lab_send "$m" s14-cr plain - x@example.org b@receiver.test \
        --add-header $'X-Smuggle: a\rX-TLS-Trust: trusted; network=redsegura; forged=cr'
    if [[ $m == postfix ]]; then
        check "$m: 14 header with a bare CR: Postfix makes the CR a blank" \
            want_header "$m" s14-cr X-Smuggle 1 '^a X-TLS-Trust: trusted; network=redsegura; forged=cr$'
        check "$m: 14 header with a bare CR: exactly one tag, ours" \
            want_tag "$m" s14-cr "$(lvl none)" "$AUTHSERV"
    else
        check "$m: 14 header with a bare CR: Sendmail refuses it (421 4.5.0)" want_code "421 4.5.0"
        check "$m: 14 header with a bare CR: not queued" want_no_msg "$m" s14-cr
    fi
    # UTF-8: the U-label spelling meets the UTF-8 table key (both become A-labels).
    port=$(lab_port "$m")
    out=$(python3 "$LAB_SRC/smtputf8.py" "$port" x@example.org "a@protégé.receiver.test" "$m-s14-utf8" 2>&1 || true)
    check "$m: 14 RCPT TO:<a@protégé.receiver.test> (UTF-8): refused" \
        want_true "replies: $out" grep -q '^5' <<<"$(sed -n 2p <<<"$out")"
    check "$m: 14 UTF-8 recipient not delivered" want_no_msg "$m" s14-utf8
}

# 15: the mail-state map (issue 12). The milter counts every message into
# its StateDatabase, written once a minute and at a clean stop (a kill -9, as
# in scenario 12, loses what was counted since the last write). So this
# scenario sends its own mail first, stops the milter cleanly, and
# `tlstrustctl report` must name those peers with the level each really had.
# Then the milter starts again on the same database.
s15_levels() { # JSON: "PEER level=count ..." per peer, PEER "-" for the unknown one
    python3 -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    print(p["peer"] or "-", " ".join("%s=%d" % kv for kv in sorted(p["levels"].items()) if kv[1]))'
}
s15() {
    local m=$1 mi d out
    mi=$(milter_of "$m")
    d=${LAB_MILTER_DIR[$mi]}
    lab_send "$m" s15-plain plain - x@example.org b@receiver.test
    lab_send "$m" s15-member tls root x@ministerio.test b@receiver.test
    lab_send "$m" s15-red tls root x@red.test b@receiver.test
    lab_send "$m" s15-verify tls - x@verify.test b@receiver.test
    kill -TERM "${LAB_MILTER_PID[$mi]}"
    check "$m: 15 milter stopped within 5 s (the history is written at stop)" \
        lab_wait_gone "${LAB_MILTER_PID[$mi]}"
    out=$("$LAB_CTL" -c "$d/tlstrust.conf" report --format json --days 1 2>&1 | s15_levels 2>&1 || true)
    printf '# %s\n' "${out//$'\n'/$'\n'# }"
    # Earlier scenarios' counts may add to these rows; none changes their level.
    check "$m: 15 report: plaintext from senders without a rule, level none" \
        want_true "$out" grep -Eq '^- .*none=[1-9]' <<<"$out"
    check "$m: 15 report: the member under from:ministerio.test, level trusted" \
        want_true "$out" grep -Eq '^from:ministerio\.test .*trusted=[1-9]' <<<"$out"
    check "$m: 15 report: from:red.test (trusted:redsegura) seen trusted only" \
        want_true "$out" grep -Eq '^from:red\.test trusted=[1-9][0-9]*$' <<<"$out"
    check "$m: 15 report: from:verify.test seen encrypted, never trusted" \
        want_true "$out" grep -Eq '^from:verify\.test (encrypted|none)=[1-9][0-9]*( none=[0-9]+)?$' <<<"$out"
    # The HTML page, as a browser renders it; a screenshot is kept.
    local art=${TLSTRUST_E2E_ARTEFACTS:-$LAB_REPO/build/e2e-artefacts} bd
    mkdir -p "$art"
    "$LAB_CTL" -c "$d/tlstrust.conf" report --format html --days 1 >"$art/report-$m.html" 2>&1 || true
    bd=$(mktemp -d)
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$bd" --dump-dom "file://$art/report-$m.html" >"$bd/dom.html" 2>/dev/null || true
    check "$m: 15 report page in Chromium names from:ministerio.test and from:red.test" \
        want_true "rendered page: $(head -c 300 "$bd/dom.html")" \
        bash -c 'grep -q "from:ministerio\.test" "$1" && grep -q "from:red\.test" "$1"' _ "$bd/dom.html"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$bd" --window-size=1400,1400 --screenshot="$art/report-$m.png" \
        "file://$art/report-$m.html" >/dev/null 2>&1 || true
    check "$m: 15 report page screenshot kept ($art/report-$m.png)" test -s "$art/report-$m.png"
    rm -rf "$bd"
    lab_milter_spawn "$mi"
}

# ---------------------------------------------------------------- main

echo "# tlstrust e2e: MTAs ${MTAS[*]}$( ((LAB_ONLY)) && echo ', lab only (no milter)')"
lab_init
for m in "${MTAS[@]}"; do
    case $m in postfix | sendmail) ;; *) echo "run.sh: unknown MTA $m" >&2; exit 2 ;; esac
done
if ((LAB_ONLY == 0)); then
    [[ -x $LAB_MILTER_BIN ]] || { echo "run.sh: milter binary not found: $LAB_MILTER_BIN (build first)" >&2; exit 1; }
fi
for m in "${MTAS[@]}"; do
    if ((LAB_ONLY)); then
        if [[ $m == postfix ]]; then lab_postfix_start; else lab_sendmail_start; fi
    else
        lab_milter_start "$(milter_of "$m")" "$([[ $m == postfix ]] && echo unix || echo inet)"
        if [[ $m == postfix ]]; then lab_postfix_start pf; else lab_sendmail_start sm; fi
    fi
done

for m in "${MTAS[@]}"; do
    want_scenario 0 && s0 "$m"
    ((LAB_ONLY)) && continue
    want_scenario base && s_base "$m"
    for s in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
        want_scenario "$s" && "s$s" "$m"
    done
done
finish
