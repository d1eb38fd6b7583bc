#!/usr/bin/env bash
# The status page in a real browser: headless Chromium (Debian's) in a client namespace loads
# host 1's page from the lab; the DOM the page's script built from /status.json shows the three
# members, their states, each member's announced rule health and each rule's owners. Rule web has
# a TCP check of a port nothing listens on, so every host's check fails and every host fails open
# (docs/operations.md, "Health checks"): the page shows "web: fail-open" for every member. Host 3 is killed: the page shows two members and
# the buckets split between hosts 1 and 2. Screenshots are kept under the build directory
# (status-page-*.png); the endpoints refuse every method but GET and HEAD.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
command -v chromium >/dev/null || { echo "SKIP: needs Debian's chromium package"; exit 77; }
ARTEFACTS=$BUILD/tests/integration/artefacts
mkdir -p "$ARTEFACTS"

lab_start 3
cat >"$STATE/rules.yaml" <<'YAML'
  port_rules:
    - { name: web, ports: 80, protocol: tcp, affinity: none,
        health: { type: tcp, port: 81, interval_ms: 300, timeout_ms: 200, rise: 2, fall: 2 } }
    - { name: ssh, ports: 22, protocol: tcp, mode: single }
YAML
for i in 1 2 3; do
  metrics_host_config "$i" --rules "$STATE/rules.yaml"
  start_agent "$i"
done
for i in 1 2 3; do wait_until 40 "host $i converged with 1,2,3" members_are "$i" "1,2,3"; done
note "3 hosts converged"
# every_member_fails_open: host 1's /status.json shows fail-open for web on all three members.
every_member_fails_open() {
  [ "$(scrape 1 /status.json | json "sorted(m['health'].get('web', '-') for m in r['members'])")" = \
    "['fail-open', 'fail-open', 'fail-open']" ]
}
wait_until 20 "every member announces web failing open" every_member_fails_open

# browse NAME: Chromium loads host 1's page, lets its script run (virtual time), and writes the
# DOM to $STATE/NAME.html and a screenshot to $ARTEFACTS/status-page-NAME.png. Bounded by timeout.
browse() {
  local profile
  profile=$(mktemp -d "$STATE/chromium.XXXXXX")
  local flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
               --disable-component-update --disable-sync --disable-dev-shm-usage
               --user-data-dir="$profile" --virtual-time-budget=5000 --window-size=1280,900)
  timeout 60 ip netns exec "nlb-$RUN-c1" chromium "${flags[@]}" --dump-dom \
    "http://198.18.1.1:$METRICS_PORT/" >"$STATE/$1.html" 2>"$STATE/logs/chromium-$1.log" ||
    fail "chromium could not dump the page (see its log: $(tail -3 "$STATE/logs/chromium-$1.log"))"
  timeout 60 ip netns exec "nlb-$RUN-c1" chromium "${flags[@]}" \
    --screenshot="$ARTEFACTS/status-page-$1.png" "http://198.18.1.1:$METRICS_PORT/" \
    >>"$STATE/logs/chromium-$1.log" 2>&1 || fail "chromium could not take a screenshot"
  [ -s "$ARTEFACTS/status-page-$1.png" ] || fail "no screenshot written"
}

# dom NAME PYTHON-EXPR: evaluates an expression over the dumped DOM with `members` (id -> state),
# `health` (id -> "rule:verdict,..."), `owners` (rule -> "host:buckets,..."), `single` (rule -> owner), `banner` (the status).
dom() {
  python3 - "$STATE/$1.html" "$2" <<'PY'
import html.parser, sys
members, health, owners, single, banner = {}, {}, {}, {}, {}
class P(html.parser.HTMLParser):
    rule = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-member" in a:
            members[int(a["data-member"])] = a.get("data-state")
            health[int(a["data-member"])] = a.get("data-health")
        if "data-rule" in a:
            P.rule = a["data-rule"]; owners[P.rule] = a.get("data-owners")
        if "data-single-owner" in a: single[P.rule] = int(a["data-single-owner"])
        if a.get("id") == "banner": banner["status"] = a.get("data-status")
P().feed(open(sys.argv[1]).read())
print(eval(sys.argv[2]))
PY
}

browse before
[ "$(dom before 'banner.get("status")')" = ok ] || fail "the page did not load /status.json: $(dom before banner)"
[ "$(dom before 'sorted(members.items())')" = "[(1, 'converged'), (2, 'converged'), (3, 'converged')]" ] ||
  fail "members before: $(dom before members)"
[ "$(dom before 'sorted(health.items())')" = \
  "[(1, 'web:fail-open'), (2, 'web:fail-open'), (3, 'web:fail-open')]" ] ||
  fail "member health before: $(dom before health)"
# 16384 buckets over three equal hosts: each 5461 or 5462.
[ "$(dom before '[o.split(":")[0] for o in owners["web"].split(",")]')" = "['1', '2', '3']" ] ||
  fail "web owners before: $(dom before owners)"
[ "$(dom before 'all(int(o.split(":")[1]) in (5461, 5462) for o in owners["web"].split(","))')" = True ] ||
  fail "web shares before: $(dom before owners)"
[ "$(dom before 'single["ssh"]')" = 1 ] || fail "ssh owner before: $(dom before single)"
note "page before: members $(dom before 'sorted(members.items())'), web owners $(dom before 'owners["web"]')"

kill_agent 3 KILL
for i in 1 2; do wait_until 40 "host $i converged without host 3" members_are "$i" "1,2"; done
browse after
[ "$(dom after 'sorted(members.items())')" = "[(1, 'converged'), (2, 'converged')]" ] ||
  fail "members after: $(dom after members)"
[ "$(dom after 'owners["web"]')" = "1:8192,2:8192" ] || fail "web owners after: $(dom after owners)"
note "page after host 3 was killed: members $(dom after 'sorted(members.items())'), web owners $(dom after 'owners["web"]')"

check_read_only 1
note "screenshots: $ARTEFACTS/status-page-before.png, $ARTEFACTS/status-page-after.png"
echo "PASS"
