#!/usr/bin/env bash
# promtool.sh - the Prometheus configuration and alert rules shown in
# doc/metrics.md, as written there: the scrape config passes `promtool
# check config`, the rules `promtool check rules`, and `promtool test
# rules` shows that the plaintext, CA expiry and reload alerts fire on
# series shaped like the daemon's (and stay quiet otherwise).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
doc=$here/../../doc/metrics.md
dir=$(mktemp -d /tmp/tlstrust-promtool-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$here/../tap.sh"

# The n-th ```yaml block of the document.
block() {
    awk -v n="$1" '/^```yaml$/ { i++; inside = (i == n); next } /^```$/ { inside = 0 } inside' "$doc"
}
block 1 >"$dir/prometheus.yml"
block 2 >"$dir/tlstrust.rules.yml"

cat >"$dir/tests.yml" <<'YAML'
rule_files:
  - tlstrust.rules.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'tlstrust_ca_bundle_expiry_timestamp_seconds{instance="mx1:9465",network="redsegura"}'
        values: '864000x30'
      - series: 'tlstrust_ca_bundle_expiry_timestamp_seconds{instance="mx1:9465",network="far"}'
        values: '8640000x30'
      - series: 'tlstrust_reloads_total{instance="mx1:9465",result="failed"}'
        values: '0x10 1x20'
    alert_rule_test:
      - eval_time: 5m
        alertname: TlstrustCABundleExpiring
        exp_alerts:
          - exp_labels: {severity: warning, instance: "mx1:9465", network: redsegura}
            exp_annotations:
              summary: "mx1:9465: a CA of network redsegura expires within 30 days"
      - eval_time: 5m
        alertname: TlstrustReloadFailing
        exp_alerts: []
      - eval_time: 15m
        alertname: TlstrustReloadFailing
        exp_alerts:
          - exp_labels: {severity: critical, instance: "mx1:9465", result: failed}
            exp_annotations:
              summary: "mx1:9465: a reload failed; the previous configuration is still in force"
  # Members' plaintext: 6 an hour for a day, then 60 an hour.
  - interval: 10m
    input_series:
      - series: 'tlstrust_messages_total{member="ministerio",level="none",result="fail",action="reject"}'
        values: '0+1x150 150+10x30'
      - series: 'tlstrust_messages_total{member="ministerio",level="none",result="none",action="accept"}'
        values: '0+100x180'
    alert_rule_test:
      - eval_time: 20h
        alertname: TlstrustPlaintextFromMembersRising
        exp_alerts: []
      - eval_time: 28h
        alertname: TlstrustPlaintextFromMembersRising
        exp_alerts:
          - exp_labels: {severity: warning, member: ministerio}
            exp_annotations:
              summary: "ministerio: plaintext mail from members doubled since yesterday"
YAML

check "doc/metrics.md has a scrape config and rules" test -s "$dir/prometheus.yml" -a -s "$dir/tlstrust.rules.yml"
check "promtool check config" promtool check config "$dir/prometheus.yml"
check "promtool check rules" promtool check rules "$dir/tlstrust.rules.yml"
check "six alert rules" test "$(grep -c '^      - alert:' "$dir/tlstrust.rules.yml")" -eq 6
check "promtool test rules: plaintext, CA expiry and reload alerts" \
    bash -c "cd '$dir' && promtool test rules tests.yml"
tap_finish
