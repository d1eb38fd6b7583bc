#!/usr/bin/env bash
# The cluster-wide views end to end on 3 real hosts: --cluster query/report print one merged
# table (and --json one array), watch refreshes until SIGINT and exits 0, rules are taken by
# name with a "did you mean", and `nlbctl owner` agrees with the hosts' real decisions for 1000
# TCP flows from random client ports: one client process opens them (16 at a time), the page each
# flow got names the host whose data path accepted it, and one `nlbctl owner --flows` run asks
# the agent about all of them (one nlbctl process per flow cost up to a second on a busy machine).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

lab_start 3
# A slower heartbeat than the other nlbctl tests: this one asks every host many times, and on a
# busy machine a flapping member would change the tables under it.
start_web_cluster 3 --period-ms 300 --tolerance 10
wait_until 10 "a request through the VIP" curl_ok
all_converged() {
  [ "$(control "$1" query | json "','.join('%d:%s' % (m['id'], m['state']) for m in r['members'])")" = "1:converged,2:converged,3:converged" ]
}
for i in 1 2 3; do wait_until 20 "host $i: every host converged" all_converged "$i"; done
# view ARGS...: a cluster view from host 1 once every host is converged, again if it was not.
view() {
  local try
  for try in 1 2 3; do
    for i in 1 2 3; do wait_until 20 "host $i: every host converged" all_converged "$i"; done
    ctl 1 --timeout-ms 10000 --cluster --interval-ms 300 "$@"
    [ "$RC" -eq 0 ] && ! grep -q converging <<<"$OUT" && return
  done
}

ctl 1 --version
expect_rc 0 "--version"
grep -qE '^nlbctl [0-9]+\.[0-9]+\.[0-9]+$' <<<"$OUT" || fail "--version printed: $OUT"

# --cluster query: one row per host, the buckets of rule web add up to the whole map.
view query
expect_rc 0 "--cluster query"
head -n 1 <<<"$OUT" | grep -qE '^HOST +ADDRESS +STATE +BUCKETS web +CONNS +PKTS/S +HEALTH$' ||
  fail "--cluster query's heading: $OUT"
[ "$(grep -cE '^[123] +198\.18\.1\.[123] +converged' <<<"$OUT")" -eq 3 ] || fail "rows: $OUT"
# Counted from the end: a state may be several words ("converged as default host").
[ "$(awk 'NR > 1 { s += $(NF - 3) } END { print s }' <<<"$OUT")" -eq 16384 ] || fail "buckets: $OUT"
note "--cluster query: 3 rows, buckets of web add up to 16384"

view --json report
expect_rc 0 "--cluster --json report"
check_json "[h['id'] for h in r] == ['1', '2', '3'] and sum(h['report']['rules'][0]['buckets_owned'] for h in r) == 16384" "merged reports"
check_json "all(h['query']['state'].startswith('converged') and h['accepted_per_second'] is not None for h in r)" "states and rates"
view report
expect_rc 0 "--cluster report"
head -n 1 <<<"$OUT" | grep -q 'ACCEPTED  DROPPED  ERRORS$' || fail "report's heading: $OUT"

# The plain query lists each member's buckets per rule.
ctl 2 --json query
check_json "sum(m['buckets']['web'] for m in r['members']) == 16384" "query's buckets per member"

# watch: refreshes until SIGINT, exit 0, no screen clearing into a pipe.
RC=0
OUT=$(in_host 1 timeout --preserve-status -s INT 3 "$NLBCTL" --config "$STATE/h1.yaml" --timeout-ms 1000 watch \
  --cluster --interval-ms 300 query 2>"$STATE/ctl.err") || RC=$?
expect_rc 0 "watch ended by SIGINT"
[ "$(grep -c '^HOST  ADDRESS' <<<"$OUT")" -ge 2 ] || fail "watch refreshed fewer than twice: $OUT"
! grep -q $'\x1b' <<<"$OUT" || fail "watch wrote escape codes into a pipe"
note "watch: $(grep -c '^HOST  ADDRESS' <<<"$OUT") refreshes in 3 s, exit 0 on SIGINT"

# Rules by name.
ctl 1 drain wbe
expect_rc 3 "drain of a misspelt rule"
expect_err "did you mean 'web'" "drain wbe"
ctl 1 --timeout-ms 10000 --cluster drain web
expect_rc 0 "--cluster drain web"
ctl 1 --timeout-ms 10000 --cluster enable web
expect_rc 0 "--cluster enable web"
for i in 1 2 3; do wait_until 20 "host $i: every host converged" all_converged "$i"; done
wait_until 10 "served again after enable web" curl_ok
note "rules by name: drain wbe -> exit 3 with a suggestion; drain/enable web on every host"

# owner against the data path: 1000 flows from unique random client ports (so that no flow meets
# a TIME_WAIT of an earlier one), opened by one client process; each page names the host that
# accepted the flow. Each phase is bounded in time.
flows=1000
timeout 60 ip netns exec "nlb-$RUN-c1" python3 - "$flows" >"$STATE/served" <<'PY' || true
import concurrent.futures, random, socket, sys
count = int(sys.argv[1])
ports = random.sample(range(20000, 60000), count)
def fetch(port):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("198.18.2.1", port))
            s.connect(("198.18.0.100", 80))
            s.sendall(b"GET / HTTP/1.0\r\nHost: nlb\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        body = reply.split(b"\r\n\r\n", 1)[1].decode().strip()
        return f"{port} {body}"
    except Exception:
        return f"{port} FAILED"
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    for line in pool.map(fetch, ports):
        print(line, flush=True)
PY
[ "$(wc -l <"$STATE/served")" -eq "$flows" ] || fail "not $flows flows: $(head "$STATE/served")"
[ "$(grep -c FAILED "$STATE/served")" -le 10 ] || fail "flows failed: $(grep FAILED "$STATE/served" | head)"
awk '$2 != "FAILED" { print "198.18.2.1:" $1 " 198.18.0.100:80" }' "$STATE/served" >"$STATE/flows"
t0=$(date +%s%N)
timeout 60 ip netns exec "nlb-$RUN-h1" "$NLBCTL" --config "$STATE/h1.yaml" --timeout-ms 10000 \
  --json owner --flows "$STATE/flows" >"$STATE/owner-replies" 2>"$STATE/ctl.err" ||
  fail "owner --flows failed: $(cat "$STATE/ctl.err")"
owner_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# "port page owner" per flow, the owner as the agent computed it.
python3 - "$STATE/owner-replies" "$STATE/served" >"$STATE/owners" <<'PY'
import json, sys
owners = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    owners[r["client"].rsplit(":", 1)[1]] = r["owners"][0]["owner"]
for line in open(sys.argv[2]):
    port, page = line.split(" ", 1)
    if page.strip() != "FAILED":
        print(port, page.strip(), owners.get(port, "none"))
PY
checked=$(wc -l <"$STATE/owners")
mismatched=$(awk '$3 != $4 { print }' "$STATE/owners")
[ -z "$mismatched" ] || fail "owner disagrees with the host that served: $(head -n 5 <<<"$mismatched")"
[ "$checked" -ge $((flows - 10)) ] || fail "only $checked flows checked"
for i in 1 2 3; do
  grep -q " host $i $i\$" "$STATE/owners" || fail "no flow went to host $i"
done
note "owner: agrees with the serving host for all $checked of $flows flows (owner --flows took $owner_ms ms)"
echo "PASS"
