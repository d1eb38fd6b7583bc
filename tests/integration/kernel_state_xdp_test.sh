#!/usr/bin/env bash
# The XDP variant owns its program (host.data_path: xdp, native on the lab's veth). On one host
# of two (heartbeats every PERIOD ms), under fresh connections:
#  - `ip link set dev eth0 xdpdrv off` takes nlbd's program away, and a changed MAC of eth0
#    makes it deliver owned frames to a MAC the stack no longer takes: nlbd notices each at its
#    next check (one per period) and repairs it (attaches again, writes the new MAC) within one
#    period (plus NLB_REPAIR_SLACK_MS for a busy machine), timed from the fault to the repair's
#    log line; it counts and logs it, and every request after the repair is answered;
#  - the link going down and up: the program stays and the host serves again;
#  - after SIGKILL the program stays (deciding nothing: its lease runs out), and
#    `nlbd --cleanup` removes it; after SIGTERM nlbd removes it itself.
export NLB_DATA_PATH=xdp
source "$(dirname "$0")/datapath_lib.sh"
PERIOD=200
SLACK_MS=${NLB_REPAIR_SLACK_MS:-300}

lab_start 2
start_webs 1 2
start_cluster 1,2 --period-ms "$PERIOD" --tolerance 3
note "2 hosts converged on the XDP variant, nginx on each"
for i in 1 2; do
  [ "$(control "$i" report | json "'%s %s' % (r['data_path']['backend'], r['data_path']['hook'])")" = "bpf xdp" ] ||
    fail "host $i is not on the XDP hook: $(control "$i" report | json "r['data_path']")"
done

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
# ours I: host I's eth0 holds a native XDP program named nlb_xdp.
ours() {
  local id
  id=$(in_host "$1" bpftool net show dev eth0 --json |
    json "([t['id'] for t in r[0]['xdp'] if t.get('mode') == 'driver'] + [''])[0]")
  [ -n "$id" ] && [ "$(bpftool prog show id "$id" --json | json "r['name']")" = nlb_xdp ]
}

# (fail inside $(...) ends only the subshell: each caller checks the status.)
by=$(requests 40) || exit 1
note "before: $by"
ours 1 || fail "no native XDP program of nlbd on host 1: $(in_host 1 ip link show dev eth0)"
[ "$(repairs)" = 0 ] || fail "repairs before any fault"

n=0
for fault in "ip link set dev eth0 xdpdrv off" "ip link set dev eth0 address 02:00:5e:00:53:77"; do
  n=$((n + 1))
  at=$(date +%s%3N)
  in_host 1 $fault
  wait_until 5 "host 1 repaired its program after '$fault'" repaired "$n"
  took=$(log_ms_after "$at" "re-attached the BPF data plane's program" "$STATE/logs/nlbd-h1.log")
  note "'$fault': repaired $took ms after it (a period is $PERIOD ms, slack $SLACK_MS ms)"
  [ "$took" -le $((PERIOD + SLACK_MS)) ] ||
    fail "the repair took $took ms, more than a period ($PERIOD ms) and the slack ($SLACK_MS ms)"
  [ "$(repairs)" = "$n" ] || fail "$n faults, $(repairs) repairs counted"
  ours 1 || fail "the program is not back after '$fault'"
  by=$(requests 40) || exit 1
  note "after '$fault': $by"
done

down_at=$(date +%s%3N)
in_host 1 ip link set eth0 down
sleep 0.3
in_host 1 ip link set eth0 up
note "link of host 1 down for $(($(date +%s%3N) - down_at)) ms, up again"
wait_until 10 "host 1 serves again" serving
wait_until 10 "hosts 1,2 converged" converged_all 1,2
ours 1 || fail "no program after the link flap"
by=$(requests 40) || exit 1
note "after the link flap ($(repairs) repairs in all): $by"
check_every_packet_once 1,2

# SIGKILL leaves the program; --cleanup removes it.
pid=$(cat "$STATE/pids/nlbd-h2")
kill_agent 2 KILL
wait_until 10 "nlbd of host 2 dies" bash -c "! kill -0 $pid"
ours 2 || fail "SIGKILL left no program: nothing to clean up"
# The state directory the lab gave host 2's nlbd (tools/nlb-lab), where its program's id is.
out=$(in_host 2 env STATE_DIRECTORY="$STATE/var-h2" timeout 20 "$NLBD" --cleanup --config "$STATE/h2.yaml") ||
  fail "--cleanup after the crash failed: $out"
grep -q "XDP program of eth0 (native, nlb_xdp): removed" <<<"$out" ||
  fail "--cleanup did not report the program removed: $out"
ours 2 && fail "the program is still there after --cleanup"
note "after SIGKILL, --cleanup: $(tr '\n' ';' <<<"$out")"

stop_agents 1
ours 1 && fail "SIGTERM left the program on host 1"
note "SIGTERM: host 1's program removed"
echo "PASS"
