#!/usr/bin/env bash
# Health checks drain a failing host through the moving-bucket path (docs/operations.md "Health
# checks"), with real nlbd, nginx and curl on 3 namespace hosts. Rule web (port 80) has an HTTP
# check of /healthz on 127.0.0.1:80 every 500 ms, rise 2, fall 3.
#   1. With $DOWNLOADS slow downloads (2 MB at 200 kB/s) running, host 2's nginx is stopped
#      gracefully (SIGQUIT: it closes its listeners and finishes the requests it has): host 2's
#      check fails within fall x interval, it announces web with weight 0 and gives its buckets
#      away, no new connection reaches it and none fails, and every download ends whole, those
#      host 2 was serving included (none is reset). The other hosts' query names host 2's health
#      drain of web (announced in its heartbeats), in JSON and in the text table.
#   2. nginx on host 2 again: after rise passes it takes its share back.
#   3. Every host's check fails (/healthz removed, the site itself still up): the cluster keeps
#      serving (fail open), every request is answered, every host fails open and every host's
#      query shows the others failing open.
#   4. /healthz back everywhere: every host takes its share again.
source "$(dirname "$0")/conntrack_lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

DOWNLOADS=12
INTERVAL_MS=500
FALL=3
BUCKETS=16384

lab_start 3
{ echo "  port_rules:"
  echo "    - { name: web, ports: 80, protocol: tcp, affinity: none,"
  echo "        health: { type: http, path: /healthz, interval_ms: $INTERVAL_MS, timeout_ms: 400,"
  echo "                  rise: 2, fall: $FALL } }"
} >"$STATE/rules"
for i in 1 2 3; do host_config "$i" --period-ms 250 --tolerance 6 --rules "$STATE/rules"; done
healthz_on() { local i; for i in "$@"; do echo ok >"$STATE/web-h$i/html/healthz"; done; }
healthz_off() { local i; for i in "$@"; do rm -f "$STATE/web-h$i/html/healthz"; done; }
start_webs 1 2 3
healthz_on 1 2 3
for i in 1 2 3; do start_agent "$i"; done
wait_until 15 "3 hosts converged" converged_all 1,2,3
wait_until 10 "a request through the VIP" curl_ok

owned() { report_of "$1" "r['rules'][0]['buckets_owned']"; }
owns_none() { [ "$(owned "$1")" = 0 ]; }
owns_at_least() { [ "$(owned "$1")" -ge "$2" ]; }
verdict() { control "$1" query | json "r['health'][0]['verdict']"; }
verdict_is() { [ "$(verdict "$1")" = "$2" ]; }
all_verdicts_are() { local i; for i in 1 2 3; do verdict_is "$i" "$1" || return 1; done; }
# seen_health VIEWER MEMBER: what VIEWER's query shows for MEMBER's rule web, as announced.
seen_health() {
  control "$1" query | json "[m['health'].get('web', '-') for m in r['members'] if m['id'] == $2][0]"
}
seen_is() { [ "$(seen_health "$1" "$2")" = "$3" ]; }
total_owned() { echo $(( $(owned 1) + $(owned 2) + $(owned 3) )); }
all_owned() { [ "$(total_owned)" = "$BUCKETS" ]; }
someone_fails_open() {
  local i
  for i in 1 2 3; do
    [ "$(control "$i" query | json "','.join(r['health_failing_open'])")" = web ] && return 0
  done
  return 1
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_until 10 "every host's check healthy" all_verdicts_are serve
note "3 hosts converged, every check healthy"

# 1. host 2's web server stops while downloads run.
downloads stop
sleep 2
nginx2=$(cat "$STATE/pids/nginx-h2")
t0=$(now_ms)
kill -QUIT "$nginx2"
wait_until 10 "host 2's check drains web" verdict_is 2 drain
t_verdict=$(( $(now_ms) - t0 ))
wait_until 10 "host 2 gave web's buckets away" owns_none 2
t_buckets=$(( $(now_ms) - t0 ))
# fall x interval, plus one interval's 10% spread and the probe's own timeout, plus the 0.1 s
# polling of this script (a python run per poll), and 4 s for a busy machine (load 25 on 2
# cores was measured here): detection must not take longer.
limit=$(( FALL * INTERVAL_MS + INTERVAL_MS + 400 + 4000 ))
[ "$t_verdict" -le "$limit" ] ||
  fail "host 2 drained web ${t_verdict} ms after nginx stopped, more than fall x interval allows ($limit ms)"
control 2 params | json "[p['health'] for p in r['cluster']['port_rules'] if p['name'] == 'web'][0]" |
  grep -qx drain || fail "host 2's params do not show web drained by its check"
[ "$(control 2 report | json "r['health'][0]['failures']['refused'] + r['health'][0]['failures']['timeout']")" -ge "$FALL" ] ||
  fail "host 2's report counts fewer than $FALL failed probes"
wait_until 10 "converged on the drain" converged_all 1,2,3
# Another host's view names the failing host's health drain: host 2 announced it.
for i in 1 3; do wait_until 5 "host $i's query shows host 2 draining web" seen_is "$i" 2 drain; done
seen_is 1 1 serve || fail "host 1's query shows its own web as $(seen_health 1 1), not serve"
table=$(in_host 3 "$NLBCTL" --config "$STATE/h3.yaml" query)
awk '/^members:/ { m = 1; next } m && $1 == "2" && / drain( |$)/ { found = 1 } END { exit !found }' \
  <<<"$table" || fail "host 3's query table does not show host 2's web as drain: $table"
grep -q 'HEALTH.WEB' <<<"$table" || fail "host 3's query table has no HEALTH.WEB column: $table"
note "hosts 1 and 3 show host 2 draining web by its check (query JSON and table)"
sleep 1  # the old owner's moving report under the new map lets the new owners take new SYNs
out=$(quick 30)
grep -qx FAILED <<<"$out" && fail "a request failed while host 2's check drains web"
grep -qx 2 <<<"$out" && fail "a new connection reached host 2 after its check failed"
note "nginx stopped on host 2: check failing after ${t_verdict} ms (limit $limit), buckets gone after ${t_buckets} ms; 30 of 30 new requests served by hosts 1 and 3"
wait_until 90 "the downloads finished" finished stop
judge stop

# 2. nginx back on host 2.
wait_until 20 "host 2's old nginx has exited" bash -c "! kill -0 $nginx2"
"$LAB" web --run "$RUN" --host 2
wait_until 10 "nginx on host 2" web_up 2
wait_until 10 "host 2's check healthy again" verdict_is 2 serve
wait_until 5 "host 1's query shows host 2 serving web again" seen_is 1 2 serve
wait_until 10 "host 2 took its share back" owns_at_least 2 5000
wait_until 10 "converged on the recovery" converged_all 1,2,3
sleep 1
out=$(quick 30)
grep -qx FAILED <<<"$out" && fail "a request failed after host 2 recovered"
n2=$(grep -cx 2 <<<"$out" || true)
[ "$n2" -ge 3 ] || fail "only $n2 of 30 new connections reached host 2 after it recovered"
note "host 2 recovered: owns $(owned 2) buckets, $n2 of 30 new requests"

# 3. every host's check fails; the site itself still answers.
healthz_off 1 2 3
wait_until 15 "a host fails open" someone_fails_open
# The first hosts to fail drained while another still passed; with none passing they fail open
# too, at their configured weights (docs/operations.md "When every host fails").
wait_until 15 "every host fails open" all_verdicts_are fail-open
for i in 2 3; do wait_until 5 "host 1's query shows host $i failing open" seen_is 1 "$i" fail-open; done
wait_until 15 "every bucket still owned" all_owned
sleep 2  # and it stays so: no host drains the others' fail-open away
[ "$(total_owned)" = "$BUCKETS" ] || fail "with every check failing, only $(total_owned) of $BUCKETS buckets are served"
for i in 1 2 3; do owns_at_least "$i" 4000 || fail "host $i owns $(owned "$i") buckets while failing open, not its share"; done
out=$(quick 20)
grep -qx FAILED <<<"$out" && fail "a request failed while every host's check fails"
opener=$(for i in 1 2 3; do [ "$(verdict "$i")" = fail-open ] && echo "$i"; done | tr '\n' ' ')
note "every check failing: the cluster keeps serving (host ${opener}fails open, $(total_owned) buckets owned, 20 of 20 requests answered)"

# 4. /healthz back: every host takes its share again.
healthz_on 1 2 3
wait_until 15 "every check healthy again" all_verdicts_are serve
for i in 1 2 3; do wait_until 10 "host $i took its share back" owns_at_least "$i" 5000; done
note "every check healthy again: buckets $(owned 1) $(owned 2) $(owned 3)"
echo "PASS"
