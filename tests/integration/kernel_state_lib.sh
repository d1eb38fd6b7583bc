#!/usr/bin/env bash
# The steps the kernel-state tests share: a 2-host cluster with nginx on each (kernel_state_test.sh,
# the nftables table, on any back end), and for the BPF back end's own tests
# (kernel_state_bpf_test.sh: tc filter; kernel_state_xdp_test.sh: native XDP) a fault repaired
# within one period, a link flap, SIGKILL then `nlbd --cleanup`, and SIGTERM. The caller sets
# NLB_DATA_PATH (or leaves the configuration's default) before sourcing this and, for the BPF
# steps, defines `ours I` (host I's eth0 holds nlbd's program); the steps fail the test (lib.sh's
# fail) when the cluster breaks what it promises.
source "$(dirname "${BASH_SOURCE[0]}")/datapath_lib.sh"
PERIOD=200
SLACK_MS=${NLB_REPAIR_SLACK_MS:-300}

# kernel_state_start WHAT: the lab, nginx and a converged cluster on the back end WHAT names.
kernel_state_start() {
  lab_start 2
  start_webs 1 2
  start_cluster 1,2 --period-ms "$PERIOD" --tolerance 3
  note "2 hosts converged on $1, nginx on each"
}

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

# answered WHEN: 40 fresh connections, all answered, noted. (fail inside $(...) ends only the
# subshell: the status is checked here.)
answered() {
  local by
  by=$(requests 40) || exit 1
  note "$1: $by"
}

# repair_each FAULT...: each command, run in host 1, takes nlbd's program away; nlbd must repair
# it within a period (plus the slack), timed from the fault to the repair's log line, count it,
# and serve every request after it.
repair_each() {
  local n=0 fault at took
  ours 1 || fail "host 1 has no program of nlbd before the faults"
  [ "$(repairs)" = 0 ] || fail "repairs before any fault"
  for fault in "$@"; do
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
    answered "after '$fault'"
  done
}

# link_flap: host 1's link down for 0.3 s and up: it serves again with its program, every packet
# taken once.
link_flap() {
  local down_at
  down_at=$(date +%s%3N)
  in_host 1 ip link set eth0 down
  sleep 0.3
  in_host 1 ip link set eth0 up
  note "link of host 1 down for $(($(date +%s%3N) - down_at)) ms, up again"
  wait_until 10 "host 1 serves again" serving
  wait_until 10 "hosts 1,2 converged" converged_all 1,2
  ours 1 || fail "no program after the link flap"
  answered "after the link flap ($(repairs) repairs in all)"
  check_every_packet_once 1,2
}

# killed_then_cleaned REMOVED: SIGKILL leaves host 2's program (deciding nothing: its lease runs
# out); `nlbd --cleanup` (with the state directory the lab gave host 2's nlbd) must say REMOVED
# and remove it. Then SIGTERM on host 1: nlbd removes its program itself.
killed_then_cleaned() {
  local pid out
  pid=$(cat "$STATE/pids/nlbd-h2")
  kill_agent 2 KILL
  wait_until 10 "nlbd of host 2 dies" bash -c "! kill -0 $pid"
  ours 2 || fail "SIGKILL left no program: nothing to clean up"
  out=$(in_host 2 env STATE_DIRECTORY="$STATE/var-h2" timeout 20 "$NLBD" --cleanup \
    --config "$STATE/h2.yaml") || fail "--cleanup after the crash failed: $out"
  grep -qF "$1" <<<"$out" || fail "--cleanup did not report '$1': $out"
  ours 2 && fail "the program is still there after --cleanup"
  note "after SIGKILL, --cleanup: $(tr '\n' ';' <<<"$out")"
  stop_agents 1
  ours 1 && fail "SIGTERM left the program on host 1"
  note "SIGTERM: host 1's program removed"
}
