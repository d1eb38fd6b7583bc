#!/usr/bin/env bash
# A command returns when it is in force (docs/control.md, "When a command returns"), with real
# nlbd, nginx, curl and nlbctl. On a 3-host cluster (300 ms x 5), for each of `drain web`,
# `disable web` and `drainstop` on host 1: once nlbctl returns 0, 200 fresh connections (10 at a
# time, each a new client port) are all served, none by host 1: every answer names another host,
# and host 1's `connections.added` (SYNs it took) does not move while the others' grow by 200.
# After each, `enable`/`start` (which wait too) bring host 1 back, checked the same way (host 1
# serves again). For comparison the same drain with --no-wait is measured and noted, not judged:
# in its window the old map is still in force (the documented behaviour).
source "$(dirname "$0")/conntrack_lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

FRESH=200

# fresh N: N new connections through the VIP from client 1, 10 at a time; prints the answering
# host of each, FAILED for a failure.
fresh() {
  in_client 1 bash -c '
    for n in $(seq 1 "$1"); do
      ( h=$(curl -s -o /dev/null -D - --max-time 5 "http://$2/" | tr -d "\r" |
            awk -F": " "tolower(\$1)==\"x-nlb-host\" {print \$2}")
        echo "${h:-FAILED}" ) &
      [ $((n % 10)) -ne 0 ] || wait
    done
    wait' _ "$1" "$VIP"
}
added() { report_of "$1" "r['connections']['added']"; }
spread() { sort <<<"$1" | uniq -c | awk '{printf "%s%s:%s", (NR>1?" ":""), $2, $1}'; }

# in_force_check WHAT: right after a command returned, no fresh connection reaches host 1.
none_to_host1() {
  local what=$1 before1 before23 out
  before1=$(added 1)
  before23=$(( $(added 2) + $(added 3) ))
  out=$(fresh "$FRESH")
  grep -qx FAILED <<<"$out" && fail "$what: a fresh connection failed ($(spread "$out"))"
  grep -qx 1 <<<"$out" && fail "$what: host 1 served $(grep -cx 1 <<<"$out") of $FRESH fresh connections after nlbctl returned ($(spread "$out"))"
  # The BPF back end's report reads the kernel's counters once a heartbeat period: wait for the
  # others' to show the run, then one period more for host 1's.
  others_took() { [ $(( $(added 2) + $(added 3) - before23 )) -ge "$FRESH" ]; }
  wait_until 5 "$what: hosts 2 and 3 count $FRESH connections" others_took
  sleep 0.5
  [ "$(added 1)" -eq "$before1" ] || fail "$what: host 1 took $(( $(added 1) - before1 )) SYNs after nlbctl returned"
  note "$what: $FRESH of $FRESH fresh connections served by others ($(spread "$out"))"
}
# host1_serves WHAT: after enable/start returned, host 1 takes its share again.
host1_serves() {
  local out
  out=$(fresh 60)
  grep -qx FAILED <<<"$out" && fail "$1: a fresh connection failed ($(spread "$out"))"
  grep -qx 1 <<<"$out" || fail "$1: host 1 served none of 60 fresh connections ($(spread "$out"))"
  note "$1: host 1 serves again ($(spread "$out"))"
}
# run_waiting I ARGS...: nlbctl on host I, which must return 0 once in force.
run_waiting() {
  local i=$1; shift
  local t0=$(date +%s%N)
  ctl "$i" --json "$@"
  expect_rc 0 "nlbctl $*"
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check_json "r['ok'] and r['in_force_ms'] >= 0" "nlbctl $* reply"
  note "nlbctl $* returned after $ms ms (in force after $(out_json "r['in_force_ms']") ms)"
}

lab_start 3
{ echo "  port_rules:"
  echo "    - { name: web, ports: 80, protocol: tcp, affinity: none }"
} >"$STATE/rules"
for i in 1 2 3; do host_config "$i" --period-ms 300 --tolerance 5 --rules "$STATE/rules"; done
start_webs 1 2 3
for i in 1 2 3; do start_agent "$i"; done
wait_until 15 "3 hosts converged" converged_all 1,2,3
wait_until 20 "maps settled" maps_settled 1,2,3
host1_serves "start"

# The window, measured: --no-wait returns before the cluster has converged.
ctl 1 --no-wait drain web
expect_rc 0 "drain --no-wait"
out=$(fresh 30)
note "drain --no-wait: host 1 still served $(grep -cx 1 <<<"$out" || true) of 30 connections right after it returned ($(spread "$out"))"
run_waiting 1 enable web
host1_serves "enable web"

run_waiting 1 drain web
none_to_host1 "drain web"
run_waiting 1 enable web
host1_serves "enable web after drain"

run_waiting 1 disable web
none_to_host1 "disable web"
run_waiting 1 enable web
host1_serves "enable web after disable"

run_waiting 1 drainstop
none_to_host1 "drainstop"
wait_until 30 "host 1 stopped after its drainstop" grep -q "drainstop complete" "$STATE/logs/nlbd-h1.log"
run_waiting 1 start
host1_serves "start after drainstop"

# A wait the cluster cannot meet: exit 8, and the change stays.
ctl 1 --wait-ms 1 drain web
[ "$RC" -eq 8 ] || [ "$RC" -eq 0 ] || fail "drain --wait-ms 1: exit $RC, want 8 (or 0 if in force at once): $ERR"
[ "$RC" -eq 0 ] || expect_err "not_in_force" "drain --wait-ms 1"
note "drain --wait-ms 1: exit $RC ($ERR)"
ctl 1 drain web
expect_rc 4 "drain again after a drain that was not in force in time (the change stays)"
echo "PASS"
