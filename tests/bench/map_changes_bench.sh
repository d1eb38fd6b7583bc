#!/usr/bin/env bash
# Loop lag and kernel update times of real nlbd processes through map changes
# (docs/benchmarks.md, "Kernel updates and loop lag through map changes"):
#   sudo bash tests/bench/map_changes_bench.sh [ROUNDS] [PERIOD_MS] [TOLERANCE]
#   sudo NLB_DATA_PATH=bpf bash tests/bench/map_changes_bench.sh ...   (the BPF back end: an
#   update is one Publish, the inactive half written and the index flipped. On the capture back
#   end a map takes effect when published and no kernel update is recorded: only the loop lag.)
# Three hosts (default 1000 ms x 5). Each round: host 3 joins (its nlbd starts), host 2 drains rule
# web (`drain web`, then `enable web`), host 1 reloads a new weight for web (and back), host 3
# leaves (SIGTERM). After each change it waits until every host holds a new map generation, is
# converged and its map settled (data_path.settling), while a poller reads every host's `report`
# every 100 ms and records each kernel update it sees (kernel.updates going up:
# kernel.last_update_us). Prints per kind of change the median and
# the worst update and, at the end, each host's loop lag (p50/p99/max over its last 1024 ticks,
# which are this run's) and the machine's load average. NLB_BUILD_DIR picks the nlbd, so two
# builds can be compared in one session (docs/benchmarks.md).
source "$(dirname "$0")/../integration/lib.sh"
ROUNDS=${1:-5}
PERIOD=${2:-1000}
TOLERANCE=${3:-5}

weights() { printf '  rules:\n    - { rule: web, weight: %s }\n' "$2" >"$STATE/w$1"; }
lab_start 3
for i in 1 2 3; do
  weights "$i" 100
  host_config "$i" --period-ms "$PERIOD" --tolerance "$TOLERANCE" --host-rules "$STATE/w$i"
done
for i in 1 2; do start_agent "$i"; done
wait_until 20 "hosts 1,2 converged" members_are 1 1,2

python3 - "$RUN" "$STATE" "$ROUNDS" "$LAB" "$PERIOD" "$TOLERANCE" <<'PY'
import json, os, socket, statistics, subprocess, sys, threading, time
run, state, rounds, lab, period, tolerance = sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:]

def ask(h, words):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect("/run/nlb/lab-%s-%s.sock" % (run, h))
    s.sendall(words.encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)

updates = {}  # kind -> [us]
kind = None
seen = {}
stop = False

def poll():  # every kernel update any host makes, filed under the change in progress
    while not stop:
        for h in (1, 2, 3):
            try:
                k = ask(h, "report")["kernel"]
            except (OSError, ValueError, KeyError):
                continue
            n, last = k["updates"], k["last_update_us"]
            if h in seen and n > seen[h] and kind:
                updates.setdefault(kind, []).append(last)
                if n > seen[h] + 1:
                    updates.setdefault(kind + " (missed)", []).append(n - seen[h] - 1)
            seen[h] = n
        time.sleep(0.1)

def settled(hosts):
    members = ",".join(str(h) for h in hosts)
    for h in hosts:
        try:
            q = ask(h, "query")
            r = ask(h, "report")
        except (OSError, ValueError):
            return False
        if not q["converged"] or ",".join(str(m["id"]) for m in q["members"]) != members:
            return False
        if r["data_path"]["settling"]:
            return False
        if any(x["moving_in_buckets"] or x["moving_away_buckets"] for x in r["connections"]["rules"]):
            return False
    return True

def generation(h):
    try:
        return ask(h, "query")["generation"]
    except (OSError, ValueError, KeyError):
        return 0

def change(name, hosts, action):
    global kind
    before = {h: generation(h) for h in hosts}
    kind = name
    action()
    deadline = time.monotonic() + 60
    time.sleep(0.2)
    while any(generation(h) <= before[h] for h in hosts) or not settled(hosts):
        if time.monotonic() > deadline:
            sys.exit("no settled map after " + name)
        time.sleep(0.05)
    time.sleep(0.3)  # the last update's report
    kind = None

def lab_cmd(*args):
    subprocess.run([lab] + list(args) + ["--run", run], check=True, stdout=subprocess.DEVNULL)

def set_weight(h, w):
    with open("%s/w%d" % (state, h), "w") as f:
        f.write("  rules:\n    - { rule: web, weight: %d }\n" % w)

def reload_weight(w):
    set_weight(1, w)
    with open("%s/h1.yaml" % state, "w") as f:  # the lab writes host rules into the file
        subprocess.run([lab, "config", "--run", run, "--host", "1", "--period-ms", period,
                        "--tolerance", tolerance, "--host-rules", "%s/w1" % state],
                       check=True, stdout=f)
        if os.environ.get("NLB_DATA_PATH"):  # as lib.sh's host_config writes it
            f.write("  data_path: %s\n" % os.environ["NLB_DATA_PATH"])
    r = ask(1, "reload")
    if not r.get("ok"):
        sys.exit("reload refused: %s" % r)

def stopped(h):
    pid = int(open("%s/pids/nlbd-h%d" % (state, h)).read())
    os.kill(pid, 15)
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    sys.exit("host %d did not stop" % h)

t = threading.Thread(target=poll)
t.start()
try:
    for _ in range(rounds):
        change("join", [1, 2, 3], lambda: lab_cmd("agent", "--host", "3", "--config",
                                                    "%s/h3.yaml" % state))
        change("drain", [1, 2, 3], lambda: ask(2, "drain web"))
        change("enable", [1, 2, 3], lambda: ask(2, "enable web"))
        change("reload", [1, 2, 3], lambda: reload_weight(50))
        change("reload back", [1, 2, 3], lambda: reload_weight(100))
        change("leave", [1, 2], lambda: stopped(3))
finally:
    stop = True
    t.join()
for name, values in updates.items():
    if name.endswith("(missed)"):
        print("%-12s the poller missed %d updates" % (name, sum(values)))
        continue
    print("%-12s %3d kernel updates: median %7.3f ms, worst %7.3f ms" %
          (name, len(values), statistics.median(values) / 1000, max(values) / 1000))
for h in (1, 2):
    r = ask(h, "report")
    k = r["kernel"]
    print("host %d (%s back end): %d kernel updates, slowest %.2f ms, %d errors" %
          (h, r["data_path"]["backend"], k["updates"], k["slowest_update_us"] / 1000, k["errors"]))
for h in (1, 2):
    lag = ask(h, "report")["loop"]
    print("host %d loop lag over %d ticks: p50 %.2f ms, p99 %.2f ms, max %.2f ms" %
          (h, lag["ticks"], lag["lag_p50_us"] / 1000, lag["lag_p99_us"] / 1000,
           lag["lag_max_us"] / 1000))
print("load average: " + open("/proc/loadavg").read().strip())
PY
# NLB_BENCH_LOGS=DIR keeps the agents' logs (the lab removes its own at the end).
if [ -n "${NLB_BENCH_LOGS:-}" ]; then mkdir -p "$NLB_BENCH_LOGS" && cp /run/nlb-lab/"$RUN"/logs/* "$NLB_BENCH_LOGS"/; fi
