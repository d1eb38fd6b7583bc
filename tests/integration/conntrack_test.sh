#!/usr/bin/env bash
# Connections survive convergence (docs/connection-tracking.md), with real nlbd, nginx and curl:
# slow downloads (the lab's /slow: 2 MB that nginx sends at 200 kB/s, about 10 s each) spread
# over the hosts keep running while
#   1. a fourth host joins: every download finishes whole, new connections reach host 4, and a
#      stream of short requests opening new connections all through the join is answered whole;
#   2. host 2 is drainstopped: every download finishes whole, no new connection reaches host 2,
#      host 2 stops by itself once its last connection closed, and again a stream of short
#      requests all through the move is answered whole;
#   3. host 3 is killed with SIGKILL: only host 3's downloads may fail, all others finish whole.
# Heartbeat period 200 ms, tolerance 3, to stay quick. Every load is bounded (--max-time).
source "$(dirname "$0")/lib.sh"

DOWNLOADS=${DOWNLOADS:-24}
SIZE=2000000

lab_start 4
for i in 1 2 3 4; do host_config "$i" --period-ms 200 --tolerance 3; done
for i in 1 2 3 4; do "$LAB" web --run "$RUN" --host "$i"; done
for i in 1 2 3; do start_agent "$i"; done
for i in 1 2 3; do wait_until 15 "host $i converged with 1,2,3" members_are "$i" "1,2,3"; done
note "3 hosts converged"

# downloads NAME: starts $DOWNLOADS slow downloads in the background; results in $STATE/NAME/.
downloads() {
  local dir=$STATE/$1 k
  mkdir -p "$dir"
  for k in $(seq 1 "$DOWNLOADS"); do
    ( rc=0
      out=$(in_client 1 curl -s -o /dev/null -D "$dir/$k.headers" -w '%{size_download}' \
              --max-time 60 --speed-limit 1000 --speed-time 8 \
              http://198.18.0.100/slow) || rc=$?
      echo "$rc ${out:-0}" >"$dir/$k.result" ) &
  done
}

# host_of FILE: the host that answered (X-Nlb-Host header).
host_of() { tr -d '\r' <"$1" 2>/dev/null | awk -F': ' 'tolower($1)=="x-nlb-host" {print $2}'; }

# finished NAME: every download of NAME has a result.
finished() { [ "$(ls "$STATE/$1"/*.result 2>/dev/null | wc -l)" -eq "$DOWNLOADS" ]; }

# check NAME [LOST_HOST]: every download finished whole, except those served by LOST_HOST.
check() {
  local dir=$STATE/$1 lost=${2:-} k rc size host ok=0 lost_n=0
  declare -A per_host=()
  for k in $(seq 1 "$DOWNLOADS"); do
    read -r rc size <"$dir/$k.result"
    host=$(host_of "$dir/$k.headers")
    per_host[${host:-none}]=$(( ${per_host[${host:-none}]:-0} + 1 ))
    if [ -n "$lost" ] && [ "$host" = "$lost" ]; then lost_n=$((lost_n + 1)); continue; fi
    [ "$rc" = 0 ] && [ "$size" = "$SIZE" ] ||
      fail "$1: download $k from host '${host}' ended with curl exit $rc after $size bytes"
    ok=$((ok + 1))
  done
  local spread=""
  for host in "${!per_host[@]}"; do spread+=" h$host:${per_host[$host]}"; done
  note "$1: $ok downloads whole, $lost_n lost with host ${lost:-none} (served by$spread)"
}

# stream NAME: 1200 short requests (Connection: close) from 8 client addresses, 8 at a time, in
# the background; stream_check NAME waits for it and fails when more than 3 were not answered.
# Zero is the goal, and what was measured in the last 22 streams with the since-retired kernel fast
# path and 17 runs without it; one earlier version lost one request in one run of 26, not explained yet
# (docs/connection-tracking.md, "Limits"), while the race this stream found (a host announcing a
# new map before its kernel had switched) reset 10 and 40 of 1200 in 2 of 6 runs.
stream() {
  in_client 1 python3 -B "$ROOT/tests/integration/datapath_tool.py" http --vip 198.18.0.100 \
    --port 80 --sources 198.18.2.1,198.18.3.1,198.18.4.1,198.18.5.1,198.18.6.1,198.18.7.1,198.18.8.1,198.18.9.1 \
    --first-port "$2" --count 1200 --parallel 8 --timeout 5 >"$STATE/$1.stream" 2>&1 &
  echo $! >"$STATE/$1.stream.pid"
}
stream_check() {
  local answered
  wait "$(cat "$STATE/$1.stream.pid")" || true
  answered=$(json "r['answered']" <"$STATE/$1.stream") ||
    fail "$1: the request stream printed no result: $(head -c 300 "$STATE/$1.stream")"
  [ "$answered" -ge 1197 ] ||
    fail "$1: $answered of 1200 short requests answered during the move; $(json "r['failures'][:3]" <"$STATE/$1.stream")"
  note "$1: $answered of 1200 short requests during the move answered ($(json "r['by_host']" <"$STATE/$1.stream"))"
}

# quick N: N short requests; prints the hosts that answered, one per line.
quick() {
  local n
  for n in $(seq 1 "$1"); do
    in_client 1 curl -s -o /dev/null -D - --max-time 5 http://198.18.0.100/ |
      tr -d '\r' | awk -F': ' 'tolower($1)=="x-nlb-host" {print $2}'
  done
}

# 1. join
downloads join
sleep 2
stream join 20000
start_agent 4
for i in 1 2 3 4; do wait_until 15 "host $i converged with 1,2,3,4" members_are "$i" "1,2,3,4"; done
quick 40 | sort | uniq -c | grep -q ' 4$' || fail "no new connection reached host 4 after it joined"
note "host 4 joined; new connections reach it"
moving=$(control 1 report | json "sum(r['moving_away_buckets'] for r in r['connections']['rules'])")
note "host 1 still serves connections in $moving buckets it lost to host 4"
stream_check join
wait_until 90 "the join's downloads finished" finished join
check join

# 2. drainstop
downloads drain
sleep 2
stream drain 30000
control 2 drainstop >/dev/null
owns_nothing() { [ "$(control "$1" report | json "r['rules'][0]['buckets_owned']")" = 0 ]; }
wait_until 10 "host 2's buckets moved away" owns_nothing 2
for i in 1 3 4; do wait_until 10 "host $i converged on the drain" members_are "$i" "1,2,3,4"; done
sleep 1  # the old owner's report under the new map lets the new owners take new connections
if quick 40 | grep -qx 2; then fail "a new connection reached host 2 while it drains"; fi
note "host 2 draining: new connections avoid it"
stream_check drain
wait_until 90 "the drain's downloads finished" finished drain
check drain
state_is() { [ "$(control "$1" query | json "r['state']")" = "$2" ]; }
# The close delay (10 s) keeps the last connections' entries a little after they end.
wait_until 30 "host 2 stopped by itself after its last connection" state_is 2 stopped
grep -q "drainstop complete" "/run/nlb-lab/$RUN/logs/nlbd-h2.log" || fail "host 2 did not log the end of its drainstop"
note "host 2 stopped by itself once its last connection closed"

# 3. kill -9 of host 3
downloads crash
sleep 3
kill_agent 3 KILL
for i in 1 4; do wait_until 15 "host $i converged without host 3" members_are "$i" "1,2,4"; done
wait_until 90 "the crash's downloads finished" finished crash
check crash 3
echo "PASS"
