#!/usr/bin/env bash
# A real Prometheus (Debian's) scrapes two lab hosts every second. Read back through its HTTP
# API: the hosts' accepted packets of a UDP rule rose by exactly what a client sent, and killing
# one agent shows in the survivor's member gauge (and in `up`). `promtool check metrics` passes
# over a real scrape; the listener refuses every method but GET and HEAD. A cluster reload that
# puts a new rule before the UDP rule (renumbering it) leaves each rule its own counters: no reset
# in Prometheus, the new rule from 0, and the next datagrams counted exactly.
# Runs on the default back end (the BPF program's per-rule counters) and, in CTest, on capture
# (NLB_DATA_PATH=capture: DecisionCounters, renumbered by the data path).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
  { echo "SKIP: needs Debian's prometheus package"; exit 77; }

PROM_PID=""
cleanup() {
  local rc=$?
  set +e  # errexit would end this handler at the first failing command, before the teardown
  if [ -n "$PROM_PID" ]; then kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null; fi
  lab_teardown "$rc"
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
backend=$(sed -n 's/^nlb_data_path{backend="\([a-z]*\)"} 1$/\1/p' "$STATE/scrape-h1.txt")
[ "$backend" = "${NLB_DATA_PATH:-bpf}" ] || [ "${NLB_DATA_PATH:-}" = auto ] ||
  fail "host 1 runs the '$backend' back end, want ${NLB_DATA_PATH:-bpf}"
note "back end: $backend"
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

# send N FIRST_PORT: N datagrams to the probe rule, each from its own source port, so both hosts
# take some. Nothing listens on 9999: the hosts accept them (and answer port unreachable), which
# is what is counted.
send() {
  in_client 1 python3 - "$1" "$2" <<'PY'
import socket, sys, time
for k in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.2.1", int(sys.argv[2]) + k))
    s.sendto(b"probe %d" % k, ("198.18.0.100", 9999))
    s.close()
    time.sleep(0.002)
PY
}
N=600
send "$N" 20000
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

# A cluster reload adds dns (53/udp), which sorts before probe (9999/udp): probe's index moves
# from 1 to 2. Each host's probe figures must stay where they were, on every scrape.
# rule_packets I RULE VERDICT: host I's nlb_rule_packets_total of RULE ("" when absent).
rule_packets() {
  scrape "$1" /metrics | sed -n "s/^nlb_rule_packets_total{rule=\"$2\",verdict=\"$3\"} //p"
}
p1=$(rule_packets 1 probe accepted) p2=$(rule_packets 2 probe accepted)
d1=$(rule_packets 1 probe dropped) d2=$(rule_packets 2 probe dropped)
cat >"$STATE/rules2.yaml" <<'YAML'
  port_rules:
    - { name: web, ports: 80, protocol: tcp, affinity: none }
    - { name: dns, ports: 53, protocol: udp, affinity: none }
    - { name: probe, ports: 9999, protocol: udp, affinity: none }
YAML
for i in 1 2; do metrics_host_config "$i" --rules "$STATE/rules2.yaml"; done
ctl 1 --cluster reload
expect_rc 0 "reload --cluster adding dns"
has_dns() {
  [ "$(control "$1" params | json "[p['name'] for p in r['cluster']['port_rules']]")" = "['web', 'dns', 'probe']" ]
}
for i in 1 2; do wait_until 20 "host $i runs web, dns, probe" has_dns "$i"; done
# Two heartbeat periods and more: the BPF back end's counters are read once a period.
for k in $(seq 1 12); do
  [ "$(rule_packets 1 probe accepted)/$(rule_packets 2 probe accepted)" = "$p1/$p2" ] &&
    [ "$(rule_packets 1 probe dropped)/$(rule_packets 2 probe dropped)" = "$d1/$d2" ] ||
    fail "probe's figures changed with the renumbering: accepted $(rule_packets 1 probe accepted)/$(rule_packets 2 probe accepted), dropped $(rule_packets 1 probe dropped)/$(rule_packets 2 probe dropped), were $p1/$p2, $d1/$d2"
  [ "$(rule_packets 1 dns accepted)/$(rule_packets 2 dns accepted)" = "0/0" ] ||
    fail "the new rule dns starts at $(rule_packets 1 dns accepted)/$(rule_packets 2 dns accepted)"
  sleep 0.25
done
M=200
send "$M" 30000
want=$((want + M))
wait_until 20 "Prometheus sees $M more accepted probe packets ($want)" accepted_reached
wait_until 10 "Prometheus has scraped dns" promql_is 'count(nlb_rule_packets_total{rule="dns"})' 4
promql_is 'sum(resets(nlb_rule_packets_total{rule="probe"}[5m]))' 0 ||
  fail "Prometheus saw probe's counters reset: $(promql 'sum(resets(nlb_rule_packets_total{rule="probe"}[5m]))')"
note "a reload renumbered probe (1 -> 2): its figures stayed ($p1/$p2 accepted), dns from 0, $M more counted exactly, no reset in Prometheus"

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
