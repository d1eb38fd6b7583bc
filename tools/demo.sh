#!/usr/bin/env bash
# The README's main job: builds nlb, then runs a 3-host cluster in network namespaces with a real
# web server on each host, sends real client traffic through the VIP, shows which host served
# what, kills one host (kill -9), shows the others taking over, brings it back, and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash tools/install-deps.sh
echo "== building nlb (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target nlbd nlbctl >/dev/null

# The lab helpers of the integration tests: a unique run, torn down on any exit.
source tests/integration/lib.sh

requests() {  # requests COUNT: HTTP GETs through the VIP from 8 client addresses; tally per host
  in_client 1 bash -c '
    ok=0; failed=0
    for n in $(seq 1 "$1"); do
      src=198.18.$((2 + n % 8)).1
      if out=$(curl -sS -m 2 --interface "$src" http://198.18.0.100/ 2>/dev/null); then
        echo "$out"; ok=$((ok + 1))
      else
        echo "FAILED"; failed=$((failed + 1))
      fi
    done' _ "$1" | sort | uniq -c | sed 's/^/    /'
}

show_cluster() {  # the cluster as host $1 sees it, as an operator would ask: nlbctl query there
  in_host "$1" "$ROOT/build/tools/nlbctl" --config "$STATE/h$1.yaml" query | sed 's/^./    &/'
}

lab_start 3
echo "== lab $RUN: 3 hosts and a client on a flooding bridge (198.18.0.0/16); VIP 198.18.0.100"
for i in 1 2 3; do
  host_config "$i"
  "$LAB" web --run "$RUN" --host "$i"
  start_agent "$i"
done
for i in 1 2 3; do wait_until 15 "host $i converged with 1,2,3" members_are "$i" "1,2,3"; done
echo "== the agents converged"
show_cluster 1

echo "== 300 requests through the VIP (each page names the host that served it)"
requests 300

echo "== kill -9 of host 2's nlbd"
t0=$(date +%s%N)
kill_agent 2 KILL
for i in 1 3; do wait_until 15 "hosts 1 and 3 converged without host 2" members_are "$i" "1,3"; done
t1=$(date +%s%N)
echo "   hosts 1 and 3 converged without host 2 after $(( (t1 - t0) / 1000000 )) ms" \
     "(heartbeat period 1000 ms, tolerance 5)"
show_cluster 1
echo "== 300 requests again: host 2's share is served by hosts 1 and 3, nothing fails"
requests 300

echo "== host 2's nlbd restarted"
start_agent 2
for i in 1 2 3; do wait_until 15 "host 2 back" members_are "$i" "1,2,3"; done
show_cluster 1
requests 150
echo "== done; the lab is being removed"
