#!/usr/bin/env bash
# A real Prometheus (Debian's) scrapes two lab hosts every second. Read back through its HTTP
# API: the hosts' accepted packets of a UDP rule rose by exactly what a client sent, and killing
# one agent shows in the survivor's member gauge (and in `up`). `promtool check metrics` passes
# over a real scrape; the listener refuses every method but GET and HEAD.
# The per-rule packet counters it reads (nlb_rule_packets_total) are the capture back end's: the
# BPF program counts by reason only (docs/bpf-data-plane.md, "Not yet"), so it runs on capture.
export NLB_DATA_PATH=capture
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
  { echo "SKIP: needs Debian's prometheus package"; exit 77; }

PROM_PID=""
cleanup() {
  local rc=$?
  set +e  # errexit would end this handler at the first failing command, before the teardown
  if [ -n "$PROM_PID" ]; then kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null; fi
  (exit $rc)
  lab_teardown
}

lab_start 2
trap cleanup EXIT
cat >"$STATE/rules.yaml" <<'YAML'
  port_rules:
    - { name: web, ports: 80, protocol: tcp, affinity: none }
    - { name: probe, ports: 9999, protocol: udp, affinity: none }
YAML
for i in 1 2; do
  metrics_host_config "$i" --rules "$STATE/rules.yaml"
  start_agent "$i"
done
for i in 1 2; do wait_until 40 "host $i converged with 1,2" members_are "$i" "1,2"; done
note "2 hosts converged, listeners on 198.18.1.1 and 198.18.1.2 port $METRICS_PORT"

scrape 1 /metrics >"$STATE/scrape-h1.txt" || fail "no scrape from host 1"
promtool check metrics <"$STATE/scrape-h1.txt" || fail "promtool check metrics failed over host 1's scrape"
grep -q '^nlb_members 2$' "$STATE/scrape-h1.txt" || fail "host 1 does not expose nlb_members 2"
note "promtool check metrics: clean ($(grep -c '^# TYPE' "$STATE/scrape-h1.txt") families)"

check_read_only 1
note "POST/PUT/DELETE/PATCH/OPTIONS refused with 405 on /, /status.json, /metrics; 404 elsewhere"

# Prometheus in the client namespace, on its loopback, with its own storage.
mkdir -p "$STATE/prometheus"
cat >"$STATE/prometheus.yml" <<YAML
global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }
scrape_configs:
  - job_name: nlb
    static_configs:
      - targets: ["198.18.1.1:$METRICS_PORT", "198.18.1.2:$METRICS_PORT"]
YAML
ip netns exec "nlb-$RUN-c1" prometheus --config.file="$STATE/prometheus.yml" \
  --storage.tsdb.path="$STATE/prometheus" --web.listen-address=127.0.0.1:9090 \
  --storage.tsdb.retention.time=1h >"$STATE/logs/prometheus.log" 2>&1 </dev/null &
PROM_PID=$!
echo "$PROM_PID" >"$STATE/pids/prometheus"

# promql EXPR: the value of an instant query that yields one sample ("" when it yields none).
promql() {
  in_client 1 curl -sS --max-time 5 http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1" |
    json "r['data']['result'][0]['value'][1] if r['status'] == 'success' and r['data']['result'] else ''"
}
promql_is() { [ "$(promql "$1")" = "$2" ]; }

wait_until 60 "Prometheus scrapes both hosts" promql_is 'count(up{job="nlb"} == 1)' 2
accepted='sum(nlb_rule_packets_total{rule="probe",verdict="accepted"})'
wait_until 10 "Prometheus has both hosts' probe counters" promql_is "count(nlb_rule_packets_total{rule=\"probe\",verdict=\"accepted\"})" 2
before=$(promql "$accepted")
note "Prometheus scrapes both hosts; probe packets accepted so far: $before"

# 600 datagrams, each from its own source port, so both hosts take some. Nothing listens on
# 9999: the hosts accept them (and answer port unreachable), which is what is counted.
N=600
in_client 1 python3 - "$N" <<'PY'
import socket, sys, time
for k in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.2.1", 20000 + k))
    s.sendto(b"probe %d" % k, ("198.18.0.100", 9999))
    s.close()
    time.sleep(0.002)
PY
want=$((before + N))
accepted_reached() { promql_is "$accepted" "$want"; }
deadline=$(( $(date +%s) + 20 ))
until accepted_reached; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    for i in 1 2; do
      echo "host $i: $(scrape "$i" /metrics | grep -E '^nlb_(rule_packets_total|packets_total)' | grep -v ' 0$' | tr '\n' ' ')"
    done
    fail "Prometheus sees $(promql "$accepted") accepted probe packets, want $want (before $before + $N sent)"
  fi
  sleep 0.2
done
h1=$(promql 'sum(nlb_rule_packets_total{rule="probe",verdict="accepted",instance="198.18.1.1:9180"})')
h2=$(promql 'sum(nlb_rule_packets_total{rule="probe",verdict="accepted",instance="198.18.1.2:9180"})')
[ "${h1%.*}" -gt 0 ] && [ "${h2%.*}" -gt 0 ] || fail "one host took no probe packet: $h1 / $h2"
dropped=$(promql 'sum(nlb_rule_packets_total{rule="probe",verdict="dropped"})')
note "accepted probe packets rose by exactly $N: host 1 $h1, host 2 $h2 (dropped by the other: $dropped)"

promql_is 'nlb_members{instance="198.18.1.1:9180"}' 2 || fail "member gauge of host 1 is not 2"
kill_agent 2 KILL
wait_until 20 "Prometheus sees host 1's member gauge drop to 1" \
  promql_is 'nlb_members{instance="198.18.1.1:9180"}' 1
wait_until 10 "Prometheus sees host 2 down" promql_is 'up{instance="198.18.1.2:9180"}' 0
promql_is 'nlb_member_state{instance="198.18.1.1:9180",member="2"}' "" ||
  fail "host 1 still lists member 2"
promql_is 'nlb_rule_buckets_owned{instance="198.18.1.1:9180",rule="probe"}' 16384 ||
  fail "host 1 does not own every probe bucket after the failover"
convergences=$(promql 'nlb_convergences_total{instance="198.18.1.1:9180"}')
note "failover: host 1's nlb_members 2 -> 1, owns all 16384 buckets, $convergences convergences"
echo "PASS"
