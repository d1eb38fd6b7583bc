#!/usr/bin/env bash
# Convergence times of real nlbd processes in a namespace lab (docs/benchmarks.md):
#   bash tests/bench/convergence_lab_bench.sh [HOSTS] [ROUNDS]
# For each setting (period 1000 ms / tolerance 5, and 100 ms / 3) it kills -9 one host and
# measures the time until every survivor holds a converged map without it, then restarts it and
# measures the time until every host holds a map with it again. Prints each round and the median.
source "$(dirname "$0")/../integration/lib.sh"
HOSTS=${1:-3}
ROUNDS=${2:-5}

# watch_until SINCE_NS WANT HOST...: polls the hosts' control sockets every 5 ms until each is
# converged with members WANT; prints the milliseconds since SINCE_NS (wall clock, from
# `date +%s%N` taken just before the event), so the poller's own start-up is not left out.
watch_until() {
  python3 - "$RUN" "$@" <<'PY'
import json, socket, sys, threading, time
run, since, want, hosts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
deadline = time.monotonic() + 30
done = {}

def converged(h):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(1)
    s.connect("/run/nlb/lab-%s-%s.sock" % (run, h))
    s.sendall(b"query\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    r = json.loads(data)
    return r["converged"] and ",".join(str(m["id"]) for m in r["members"]) == want

def watch(h):  # one poller per host, so a large lab is not swept one host after another
    while time.monotonic() < deadline:
        try:
            if converged(h):
                done[h] = time.time_ns()
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.005)

threads = [threading.Thread(target=watch, args=(h,)) for h in hosts]
for t in threads:
    t.start()
for t in threads:
    t.join()
if len(done) != len(hosts):
    sys.exit("timed out waiting for members " + want)
print((max(done.values()) - since) // 1000000)
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }

lab_start "$HOSTS"
all=$(seq -s, 1 "$HOSTS")
victim=$HOSTS
survivors=$(seq -s, 1 $((HOSTS - 1)))
for setting in "1000 5" "100 3"; do
  read -r period tolerance <<<"$setting"
  for i in $(seq 1 "$HOSTS"); do host_config "$i" --period-ms "$period" --tolerance "$tolerance"; done
  for i in $(seq 1 "$HOSTS"); do start_agent "$i"; done
  watch_until "$(date +%s%N)" "$all" $(seq 1 "$HOSTS") >/dev/null
  deaths=() joins=()
  for round in $(seq 1 "$ROUNDS"); do
    # A host dies at any moment of its heartbeat cycle, not just after a convergence: wait a
    # random part of a period first, or every death would fall right after a heartbeat (the
    # worst case, tolerance x period + 1 period).
    sleep "$(python3 -c "import random; print(random.uniform(0, $period / 1000))")"
    t0=$(date +%s%N)
    kill_agent "$victim" KILL
    deaths+=("$(watch_until "$t0" "$survivors" $(seq 1 $((HOSTS - 1))))")
    t0=$(date +%s%N)
    start_agent "$victim"
    joins+=("$(watch_until "$t0" "$all" $(seq 1 "$HOSTS"))")
    echo "period ${period} ms tolerance ${tolerance}, round $round: death -> map without it" \
         "${deaths[-1]} ms, start -> map with it ${joins[-1]} ms"
  done
  echo "RESULT hosts=$HOSTS period_ms=$period tolerance=$tolerance" \
       "death_median_ms=$(printf '%s\n' "${deaths[@]}" | median)" \
       "death_max_ms=$(printf '%s\n' "${deaths[@]}" | sort -n | tail -n 1)" \
       "join_median_ms=$(printf '%s\n' "${joins[@]}" | median)" \
       "goal_death_ms=$((period * tolerance + period))"
  for i in $(seq 1 "$HOSTS"); do
    pid=$(cat "$STATE/pids/nlbd-h$i")
    kill_agent "$i" TERM
    wait_until 10 "nlbd of host $i exited" bash -c "! kill -0 $pid"
  done
done
