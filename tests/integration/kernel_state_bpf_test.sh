#!/usr/bin/env bash
# The BPF back end owns its tc filter. On one host of two (host.data_path: bpf, heartbeats every
# PERIOD ms), under fresh connections:
#  - `tc filter del dev eth0 ingress` (every ingress filter) and `tc qdisc del dev eth0 clsact`
#    (the hook itself) each take nlbd's program away: nlbd notices at its next check (one per
#    period) and attaches it again within one period (plus NLB_REPAIR_SLACK_MS for a busy
#    machine), timed from the deletion to the repair's log line; it counts and logs it, and
#    every request after the repair is answered;
#  - the link going down and up: the program is attached (or attached again) and the host
#    serves again;
#  - after SIGKILL the filter stays (deciding nothing: its lease runs out), and
#    `nlbd --cleanup` removes it; after SIGTERM nlbd removes it itself.
export NLB_DATA_PATH=bpf
source "$(dirname "$0")/datapath_lib.sh"
PERIOD=200
SLACK_MS=${NLB_REPAIR_SLACK_MS:-300}

lab_start 2
start_webs 1 2
start_cluster 1,2 --period-ms "$PERIOD" --tolerance 3
note "2 hosts converged on the BPF back end, nginx on each"
[ "$(backend 1)" = bpf ] && [ "$(backend 2)" = bpf ] || fail "not on the BPF back end"

requests() {  # requests N: N fresh connections, all must be answered by the two hosts
  local out
  out=$(client_tool http --vip "$VIP" --port 80 --sources "$SOURCES" --count "$1" --parallel 4)
  [ "$(json "r['answered']" <<<"$out")" = "$1" ] ||
    fail "$(json "r['answered']" <<<"$out") of $1 answered: $(json "r['failures'][:3]" <<<"$out")"
  json "r['by_host']" <<<"$out"
}
repairs() { control 1 report | json "r['kernel']['repairs']"; }
repaired() { [ "$(repairs)" -ge "$1" ]; }
serving() { control 1 query | grep -q '"serving":true'; }
ours() { in_host "$1" tc filter show dev eth0 ingress | grep -q "handle 0x4e4c"; }

note "before: $(requests 40)"
ours 1 || fail "no tc filter at nlbd's handle on host 1: $(in_host 1 tc filter show dev eth0 ingress)"
[ "$(repairs)" = 0 ] || fail "repairs before any fault"

n=0
for fault in "tc filter del dev eth0 ingress" "tc qdisc del dev eth0 clsact"; do
  n=$((n + 1))
  at=$(date +%s%3N)
  in_host 1 $fault
  wait_until 5 "host 1 re-attached its program after '$fault'" repaired "$n"
  took=$(log_ms_after "$at" "re-attached the BPF data plane's program" "$STATE/logs/nlbd-h1.log")
  note "'$fault': re-attached $took ms after it (a period is $PERIOD ms, slack $SLACK_MS ms)"
  [ "$took" -le $((PERIOD + SLACK_MS)) ] ||
    fail "the repair took $took ms, more than a period ($PERIOD ms) and the slack ($SLACK_MS ms)"
  [ "$(repairs)" = "$n" ] || fail "$n faults, $(repairs) repairs counted"
  ours 1 || fail "the filter is not back after '$fault'"
  note "after '$fault': $(requests 40)"
done

down_at=$(date +%s%3N)
in_host 1 ip link set eth0 down
sleep 0.3
in_host 1 ip link set eth0 up
note "link of host 1 down for $(($(date +%s%3N) - down_at)) ms, up again"
wait_until 10 "host 1 serves again" serving
wait_until 10 "hosts 1,2 converged" converged_all 1,2
ours 1 || fail "no filter after the link flap"
note "after the link flap ($(repairs) repairs in all): $(requests 40)"
check_every_packet_once 1,2
note "host 1's map switches into the kernel: $(control 1 report | json "'%d updates, last %d us, slowest %d us' % (r['kernel']['updates'], r['kernel']['last_update_us'], r['kernel']['slowest_update_us'])")"

# SIGKILL leaves the filter; --cleanup removes it.
pid=$(cat "$STATE/pids/nlbd-h2")
kill_agent 2 KILL
wait_until 10 "nlbd of host 2 dies" bash -c "! kill -0 $pid"
ours 2 || fail "SIGKILL left no filter: nothing to clean up"
out=$(in_host 2 timeout 20 "$NLBD" --cleanup --config "$STATE/h2.yaml") ||
  fail "--cleanup after the crash failed: $out"
grep -q "tc filter of eth0 (clsact ingress, handle 0x4e4c): removed" <<<"$out" ||
  fail "--cleanup did not report the filter removed: $out"
ours 2 && fail "the filter is still there after --cleanup"
note "after SIGKILL, --cleanup: $(tr '\n' ';' <<<"$out")"

stop_agents 1
ours 1 && fail "SIGTERM left the filter on host 1"
note "SIGTERM: host 1's filter removed"
echo "PASS"
