#!/usr/bin/env bash
# report.sh - tlstrustctl report on rows this test writes into a fresh
# StateDatabase (python3's sqlite3, into the schema tlstrustctl created):
# peers with hostile names (markup, a formula, a quote, a newline, bytes
# that are not UTF-8), the overflow bucket, a row older than --days and
# one probe. The JSON is checked with python3's json module against the
# fields doc/state-map.md documents and against the sums of the rows; the
# CSV with python3's csv module; the HTML page is rendered by headless
# Chromium (--dump-dom: every peer appears as text, no element came from a
# name) and a screenshot is kept in ARTEFACTS.
#
# Usage: test/map/report.sh TLSTRUSTCTL ARTEFACTS-DIR
set -euo pipefail
ctl=${1:?usage: report.sh TLSTRUSTCTL ARTEFACTS-DIR}
art=${2:?usage: report.sh TLSTRUSTCTL ARTEFACTS-DIR}
here=$(cd "$(dirname "$0")" && pwd)
doc=$here/../../doc/state-map.md
mkdir -p "$art"
art=$(cd "$art" && pwd)
w=$(mktemp -d /tmp/tlstrust-report-XXXXXX)
trap 'rm -rf "$w"' EXIT

failures=0
ok() { echo "ok: $*"; }
bad() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

printf 'StateDatabase %s/state.db\n' "$w" >"$w/tlstrust.conf"
report() { "$ctl" -c "$w/tlstrust.conf" report "$@"; }

# Usage errors, and the schema made by the first open.
rc=0
report --format xml >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 64 ] && ok "--format xml: exit 64" || bad "--format xml: exit $rc"
rc=0
report --format json --days 0 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 64 ] && ok "--days 0: exit 64" || bad "--days 0: exit $rc"
printf 'LogLevel info\n' >"$w/nodb.conf"
rc=0
"$ctl" -c "$w/nodb.conf" report --format json >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 78 ] && ok "no StateDatabase: exit 78" || bad "no StateDatabase: exit $rc"
report --format json >"$w/empty.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["peers"]==[] and r["probes"]==[], r' \
    "$w/empty.json" && ok "empty database: valid JSON, no rows" || bad "empty database JSON"

# The rows. Names as a hostile client could make its certificate subject.
python3 - "$w/state.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
ver = db.execute("PRAGMA user_version").fetchone()[0]
assert ver == 1, ver
now = int(time.time())
day = lambda d: time.strftime("%Y-%m-%d", time.gmtime(now - d * 86400))
rows = [
    # day, peer, client, none, enc, ver, trusted, v12, v13, network, first, last, not_after
    (day(0), "from:ministerio.test", "127.0.0.1", 0, 0, 0, 7, 2, 5, "redsegura", now - 3600, now - 60, now + 200 * 86400),
    (day(3), "from:ministerio.test", "127.0.0.2", 0, 0, 0, 3, 0, 3, "redsegura", now - 3 * 86400, now - 3 * 86400 + 60, None),
    (day(0), "from:universidad.test", "127.0.0.3", 2, 4, 0, 0, 4, 0, "", now - 7200, now - 120, now + 10 * 86400),
    (day(1), 'CN=<img src=x onerror=alert(1)>,O="Evil & Co"', "127.0.0.4", 0, 5, 0, 0, 5, 0, "", now - 86400, now - 86000, None),
    (day(0), '=HYPERLINK("http://attacker.test","x")', "127.0.0.5", 1, 0, 0, 0, 0, 0, "", now - 500, now - 400, None),
    (day(0), "CN=line\nbreak,O=x\x01y", "127.0.0.6", 0, 0, 2, 0, 2, 0, "", now - 500, now - 300, None),
    (day(0), "*other*", "", 3, 3, 3, 3, 6, 6, "", now - 9000, now - 30, None),
    (day(45), "from:old.test", "127.0.0.7", 9, 0, 0, 0, 0, 0, "", now - 45 * 86400, now - 45 * 86400, None),
]
for r in rows:
    db.execute("INSERT INTO observed (day, peer, client, n_none, n_encrypted, n_verified, n_trusted,"
               " v_tls12, v_tls13, network, first_seen, last_seen, cert_not_after)"
               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", r)
# Bytes that are not UTF-8, as a blob cast to text.
db.execute("INSERT INTO observed (day, peer, client, n_encrypted, first_seen, last_seen)"
           " VALUES (?, CAST(X'434e3dff66656523' AS TEXT), '127.0.0.8', 1, ?, ?)", (day(0), now - 100, now - 90))
db.execute("INSERT INTO probe (run, time, domain, mx, port, address, result, reason, level, starttls,"
           " tls12, tls13, subject, issuer, network, system_verify, name_match, not_after, days_left,"
           " tlsa_count, tlsa_ad, dane, mta_sts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
           (now - 600, now - 600, "ministerio.test", "mx.ministerio.test", 25, "127.0.0.1", "ok", "",
            "trusted", 1, 1, 1, "CN=mx.ministerio.test", "CN=Red Segura Issuing CA", "redsegura",
            0, 1, now + 20 * 86400, 20, 1, 1, 1, "v=STSv1; id=1"))
db.commit()
PY

# ---- JSON: the documented fields, and the sums of exactly those rows
report --format json --days 30 >"$w/report.json"
python3 - "$w/report.json" "$doc" <<'PY' && ok "JSON: documented fields, sums of the rows" || bad "JSON"
import json, re, sys
r = json.load(open(sys.argv[1]))
doc = open(sys.argv[2]).read()
section = doc[doc.index("4. The JSON schema"):doc.index("5. The database")]
fields = {}
for m in re.finditer(r"^\| `([a-z_\[\].]+)`\s*\| ([^|]+)\|", section, re.M):
    fields[m.group(1)] = m.group(2).strip()
assert len(fields) > 40, fields
def walk(obj, path, seen):
    for k, v in obj.items():
        p = path + k
        assert p in fields, "undocumented field " + p
        seen.add(p)
        if isinstance(v, dict) and fields[p] not in ("levels", "object"):
            walk(v, p + ".", seen)
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for x in v:
                walk(x, p + "[].", seen)
        t = fields[p]
        ok = {"string": str, "integer": int, "array": list, "object": dict, "levels": dict,
              "light": str, "boolean or null": (bool, type(None)), "string or null": (str, type(None)),
              "integer or null": (int, type(None))}[t]
        assert isinstance(v, ok) and not (t == "integer" and isinstance(v, bool)), (p, t, v)
        if t == "light":
            assert v in ("green", "amber", "red", "grey"), (p, v)
        if t == "levels":
            assert sorted(v) == sorted(["none", "encrypted", "verified", "trusted"]), (p, v)
seen = set()
walk(r, "", seen)
missing = set(fields) - seen
assert not missing, "documented, not in the output: %s" % sorted(missing)
assert r["schema"] == "tlstrust-state-map/1"
peers = {p["peer"]: p for p in r["peers"]}
assert "from:old.test" not in peers, "a row older than --days counted"
m = peers["from:ministerio.test"]
assert m["messages"] == 10 and m["levels"]["trusted"] == 10 and m["clients"] == 2, m
assert m["tls_versions"] == {"TLSv1": 0, "TLSv1.1": 0, "TLSv1.2": 2, "TLSv1.3": 8}, m
assert m["member"] == "ministerio.test" and m["inbound"] == "green" and m["capability"] == "amber", m
assert m["network"] == "redsegura" and m["cert_days_left"] in (199, 200), m
u = peers["from:universidad.test"]
assert u["inbound"] == "red" and u["capability"] == "grey" and u["levels"]["none"] == 2, u
evil = peers['CN=<img src=x onerror=alert(1)>,O="Evil & Co"']
assert evil["member"] is None and evil["inbound"] == "amber", evil
assert "CN=line\\x0Abreak,O=x\\x01y" in peers, sorted(peers)
assert "CN=\\xFFfee#" in peers, sorted(peers)
assert peers["*other*"]["messages"] == 12 and peers["*other*"]["clients"] == 1
assert r["totals"] == {"none": 6, "encrypted": 13, "verified": 5, "trusted": 13}, r["totals"]
assert [d["day"] for d in r["daily"]] == sorted(d["day"] for d in r["daily"]) and len(r["daily"]) == 3
assert len(r["probes"]) == 1 and r["probes"][0]["capability"] == "amber", r["probes"]
exp = sorted((e["source"], e["name"]) for e in r["expiring"])
assert exp == [("observed", "from:universidad.test"), ("probe", "mx.ministerio.test")], exp
PY

# ---- CSV
report --format csv >"$w/report.csv"
python3 - "$w/report.csv" <<'PY' && ok "CSV: RFC 4180, formula cell defused, the rows" || bad "CSV"
import csv, sys
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\r\n") == raw.count(b"\n"), "a line not ended by CRLF"
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
head = open(sys.argv[1], newline="").readline().strip().split(",")
assert all(len(r) == len(head) and None not in r for r in rows)
names = {r["name"]: r for r in rows if r["kind"] == "observed"}
assert len(names) == 7, sorted(names)
assert "'=HYPERLINK(\"http://attacker.test\",\"x\")" in names, sorted(names)
assert not any(n[:1] in "=+-@" for n in names), "a formula cell left"
assert names['CN=<img src=x onerror=alert(1)>,O="Evil & Co"']["encrypted"] == "5"
assert names["from:ministerio.test"]["trusted"] == "10" and names["from:ministerio.test"]["light"] == "green"
p = [r for r in rows if r["kind"] == "probe"]
assert len(p) == 1 and p[0]["mx"] == "mx.ministerio.test" and p[0]["tls_versions"] == "TLSv1.2 TLSv1.3", p
assert p[0]["dane_match"] == "yes" and p[0]["days_left"] == "20", p
PY

# ---- HTML in a real browser
report --format html >"$art/report.html"
if grep -qiE '<(script|img|link|iframe)|https?://[^" ]*\.(css|js)' "$art/report.html"; then
    bad "the page holds an element or an external asset it should not"
else
    ok "no script, image, link or external asset in the page"
fi
if ! command -v chromium >/dev/null; then
    bad "chromium not installed (scripts/install-deps)"
else
    bd=$(mktemp -d)
    flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
        --disable-background-networking --disable-component-update --disable-sync
        --user-data-dir="$bd")
    timeout 120 chromium "${flags[@]}" --dump-dom "file://$art/report.html" >"$w/dom.html" 2>"$w/chromium.log" || true
    python3 - "$w/dom.html" <<'PY' && ok "Chromium: every peer as text in the members table, no injected element" || { bad "Chromium DOM"; tail -5 "$w/chromium.log"; }
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.tables = {}; self.tab = None; self.cell = None; self.tags = set()
    def handle_starttag(self, tag, a):
        self.tags.add(tag)
        a = dict(a)
        if tag == "table": self.tab = a.get("id"); self.tables[self.tab] = []
        if tag == "td": self.cell = ""
    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.tables[self.tab].append(self.cell); self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
p = P(); p.feed(open(sys.argv[1]).read())
cells = p.tables.get("members", [])
for name in ["from:ministerio.test", "from:universidad.test", 'CN=<img src=x onerror=alert(1)>,O="Evil & Co"',
             '=HYPERLINK("http://attacker.test","x")', "CN=line\\x0Abreak,O=x\\x01y", "*other*", "CN=\\xFFfee#"]:
    assert name in cells, (name, cells[:40])
assert "from:old.test" not in cells
assert not ({"img", "script", "iframe"} & p.tags), p.tags
assert "svg" in p.tags and "rect" in p.tags
# The traffic lights: ministerio green inbound, universidad red.
i = cells.index("from:ministerio.test"); assert cells[i + 2] == "green" and cells[i + 3] == "amber", cells[i:i + 4]
i = cells.index("from:universidad.test"); assert cells[i + 2] == "red", cells[i:i + 4]
assert "mx.ministerio.test" in p.tables["expiring"] and "from:universidad.test" in p.tables["expiring"]
PY
    timeout 120 chromium "${flags[@]}" --window-size=1400,1600 --screenshot="$art/report.png" \
        "file://$art/report.html" >/dev/null 2>&1 || true
    [ -s "$art/report.png" ] && ok "screenshot kept: $art/report.png" || bad "no screenshot"
    rm -rf "$bd"
fi

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
