# Shared by the integration tests: a lab run that is always torn down, and waits with deadlines.
# Source it, then call lab_start N [M]. Every test gets its own run id, so runs never collide.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${NLB_BUILD_DIR:-$ROOT/build}
export NLBD=$BUILD/agent/nlbd
LAB=$ROOT/tools/nlb-lab
RUN=""

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# lab_teardown [RC]: removes the lab (after printing the agents' logs when RC, default the last
# command's status, is not 0) and exits with RC. Errexit stays on inside an EXIT trap, so it is
# turned off here: a failing command must not end the teardown before the lab is down.
lab_teardown() {
  local rc=${1:-$?}
  set +e
  if [ -n "$RUN" ]; then
    if [ $rc -ne 0 ] && [ -d "/run/nlb-lab/$RUN/logs" ]; then
      for f in /run/nlb-lab/"$RUN"/logs/*.log; do
        [ -f "$f" ] || continue
        echo "== $f (first 15 and last 30 lines)"; head -n 15 "$f"; echo "  ..."; tail -n 30 "$f"
      done
    fi
    "$LAB" down --run "$RUN" || true
  fi
  exit $rc
}

# lab_start HOSTS [CLIENTS]: a fresh lab and a cluster key in $STATE.
lab_start() {
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: integration tests need root"; exit 77; }
  [ -x "$NLBD" ] || fail "no nlbd at $NLBD"
  RUN=$(printf 't%05x' $(( (RANDOM << 8 | RANDOM) & 0xfffff )))
  STATE=/run/nlb-lab/$RUN
  trap lab_teardown EXIT
  trap 'exit 130' INT TERM
  "$LAB" up --run "$RUN" --hosts "$1" --clients "${2:-1}"
  (umask 077; head -c 32 /dev/urandom | base64 >"$STATE/cluster.key")
}

# host_config I [nlb-lab config options...]: writes $STATE/hI.yaml.
# NLB_DATA_PATH=capture|bpf|xdp|auto in the environment sets host.data_path in every config written
# (the host section is the file's last), so one test runs on either back end.
host_config() {
  local i=$1; shift
  "$LAB" config --run "$RUN" --host "$i" "$@" >"$STATE/h$i.yaml"
  if [ -n "${NLB_DATA_PATH:-}" ]; then echo "  data_path: $NLB_DATA_PATH" >>"$STATE/h$i.yaml"; fi
}

start_agent() { "$LAB" agent --run "$RUN" --host "$1" --config "${2:-$STATE/h$1.yaml}" >/dev/null; }
kill_agent() { "$LAB" kill --run "$RUN" --host "$1" --signal "${2:-KILL}"; }
in_host() { local i=$1; shift; ip netns exec "nlb-$RUN-h$i" "$@"; }
in_client() { local j=$1; shift; ip netns exec "nlb-$RUN-c$j" "$@"; }

# control I REQUEST...: one request to host I's local control socket; prints the JSON reply.
control() {
  local i=$1; shift
  python3 - "/run/nlb/lab-$RUN-$i.sock" "$*" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
PY
}

# json EXPR < reply: evaluates a Python expression over the parsed reply `r`.
json() { python3 -c "import json,sys; r=json.load(sys.stdin); print($1)"; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$deadline" ] || fail "timed out after ${limit}s waiting for: $what"
    sleep 0.1
  done
}

# members_are I "1,2,3": host I is converged with exactly these members.
members_are() {
  local got
  got=$(control "$1" query | json "'%s %s' % (r['converged'], ','.join(str(m['id']) for m in r['members']))")
  [ "$got" = "True $2" ]
}

# start_web_cluster N [host_config options...]: hosts 1..N each get a config, nginx and nlbd;
# returns once every host is converged with all N.
start_web_cluster() {
  local n=$1; shift
  local i all
  all=$(seq -s, 1 "$n")
  for i in $(seq 1 "$n"); do
    host_config "$i" "$@"
    "$LAB" web --run "$RUN" --host "$i"
    start_agent "$i"
  done
  for i in $(seq 1 "$n"); do
    wait_until 15 "host $i converged with $all" members_are "$i" "$all"
  done
}

# log_ms_after SINCE_MS TEXT FILE: milliseconds from SINCE_MS (wall clock, `date +%s%3N`) to the
# first line of the nlbd log FILE stamped at or after it that contains TEXT (lines begin with a
# UTC stamp to the millisecond); fails when there is none. The agent's own time of an event,
# free of the poller's delays on a loaded machine.
log_ms_after() {
  python3 - "$@" <<'PY'
import datetime, sys
since, text, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for line in open(path, errors="replace"):
    if text not in line:
        continue
    try:
        stamp = datetime.datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        continue
    ms = int(stamp.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    if ms >= since:
        print(ms - since)
        sys.exit(0)
sys.exit("no line with %r after the event in %s" % (text, path))
PY
}
