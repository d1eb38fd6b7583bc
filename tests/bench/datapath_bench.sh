#!/usr/bin/env bash
# Data path throughput: nlbd's capture back end (capture + TUN, host.data_path: capture) against
# the kernel's own nftables jhash filter, on the same lab in the same run, and HTTP through the VIP
# against the same nginx reached directly. (Until the kernel fast path was retired, a phase "nlbd"
# measured capture + an nftables rule that delivered settled buckets; docs/benchmarks.md keeps
# its figures.) Prints the figures recorded in docs/benchmarks.md. Needs root; builds a lab with
# tools/nlb-lab and removes it on exit, whatever happens.
#
#   bash tests/bench/datapath_bench.sh [packets|http|bpf|bpf-http|xdp|xdp-live|all] (default all)
#   (bpf and bpf-http: the BPF back end, host.data_path: bpf; xdp: its XDP variant against it and
#   the nft filter; xdp-live: nft, tc and XDP fed xdp_frames; see tests/bench/datapath_bpf.sh)
#   environment: REPS (3), RATES (offered packets/s per step), STEP_SECONDS (2), WRK_SECONDS (5),
#                PIN=CPU: sender (and its softirq work) and host 1's nlbd share that one CPU, the
#                receive-livelock case: does the data path collapse when the kernel's receive work
#                competes with it for its core?
#                SPLIT=1: the receive work of host 1 runs on CPU 1 (RPS on its eth0) while the sender
#                is pinned to CPU 0: the veth otherwise runs the whole receive path in the sender's
#                own context, so the sender can never offer more than the receiver takes, and no
#                overload can be shown. With SPLIT=1 the sender can offer a multiple of it.
#                NLBD_CPU=P: host 1's nlbd (every thread) limited to P% of one core by a cgroup CPU
#                quota, so that the sender can offer the capture + TUN path (phase pcap) a multiple
#                of what it can take: the overload case (does it collapse?). The cgroup is
#                removed on exit.
#
# Packets: 2 hosts, 1 client. The client sends 60-byte UDP frames to VIP:9000 at the cluster MAC
# from 4096 source ports, in steps of increasing rate, each bounded to RATE*STEP_SECONDS frames.
# Host 1 is measured; it keeps half the flows and drops the other half:
#   pcap:  a 2-host cluster on the capture back end; host 2's nlbd is frozen (SIGSTOP) once
#          converged, so its half of the map stays in force (tolerance 100 periods) while only
#          host 1 spends CPU on the traffic: its capture decides every packet and writes its half
#          to the TUN device.
#   nft:   no nlbd; a netdev ingress chain on host 1 keeps `jhash ip saddr . udp sport mod 2 == 0`
#          (and sets pkttype host, as TUN injection does), drops the rest; the VIP on lo.
# A packet "reached" when host 1's UDP layer took it (Udp InDatagrams + RcvbufErrors of its
# namespace; a socket on VIP:9000 that never reads keeps the receive cost the same in both).
# Each step is also bounded in time (1.5 x planned), since the sender may not reach the rate
# asked. Per step: the rate actually offered; the steady-state rate reaching UDP (growth from 25% to 100%
# of the step, so neither start-up nor the capture ring's slack counts); and machine CPU.
# processed/s = steady reached/s / kept fraction (the fraction measured at the lowest rate).
# Loss-free: the step reached >= 99.9% of its kept share after draining and its steady rate kept
# up (>= 99%). nlbd's capture ring holds ~21k frames, so without the steady-state test a short
# step could hide a reader that falls behind.
#
# HTTP: 1 host, nginx; wrk from the client for WRK_SECONDS, 20 keep-alive connections, to the VIP
# through nlbd's capture + TUN ("pcap") and to the host's dedicated address ("direct"; same nginx,
# same run), REPS times, in alternating order. Beside each: the context switches per second of all nlbd's threads and of the machine
# (the data path's wake-ups, docs/data-path.md).
set -euo pipefail
source "$(dirname "$0")/../integration/datapath_lib.sh"

what=${1:-all}
REPS=${REPS:-3}
RATES=${RATES:-"25000 50000 75000 100000 150000 200000 400000 1000000"}
STEP_SECONDS=${STEP_SECONDS:-2}
WRK_SECONDS=${WRK_SECONDS:-5}
FLOOD=$BUILD/tests/bench/udp_flood
SUMMARY=$(dirname "$0")/datapath_summary.py
CLUSTER_MAC=03:bf:c6:12:00:64
# The nft baseline's address: not a cluster VIP, so nlbd's capture filter refuses its frames in
# the kernel and both can stay up while the steps alternate (see "Packets" above).
NFT_VIP=198.18.0.200
OUT=$(mktemp -d /tmp/nlb-bench.XXXXXX)
[ -x "$FLOOD" ] || fail "no $FLOOD (build first)"

# Context switches of the whole machine (ctx_switches below: of one process).
machine_switches() { awk '/^ctxt/{print $2}' /proc/stat; }
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
proc_jiffies() { [ -n "${1:-}" ] && awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# ctx_switches PID: context switches of every thread of PID so far (voluntary + involuntary): each
# is a wake-up or a preemption of nlbd, what the issue asks to be none per frame in steady state.
ctx_switches() {
  [ -n "${1:-}" ] || { echo 0; return; }
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/{n+=$2} END{print n+0}'
}
snmp_reached() { awk '/^Udp:/{ if (!h) { for (i=2;i<=NF;i++) n[$i]=i; h=1 } else print $(n["InDatagrams"]) + $(n["RcvbufErrors"]) }' "/proc/$SINK_PID/net/snmp"; }

# prog_stats: "run_time_ns run_cnt" of the BPF program BPF_PROG_ID (kernel.bpf_stats_enabled on,
# see datapath_bpf.sh), or "0 0".
prog_stats() {
  [ -n "${BPF_PROG_ID:-}" ] || { echo "0 0"; return; }
  bpftool prog show id "$BPF_PROG_ID" --json | json "'%d %d' % (r.get('run_time_ns', 0), r.get('run_cnt', 0))"
}

# rx_stats: "CPU ns of RX_PID (host 1's NAPI thread, xdp-live) so far, and frames the sender's
# veth h1 put into host 1's ring / could not (ring full)", or "0 0 0".
rx_stats() {
  [ -n "${RX_PID:-}" ] || { echo "0 0 0"; return; }
  echo "$(cut -d' ' -f1 "/proc/$RX_PID/schedstat")" \
    "$(ip netns exec "nlb-$RUN-s" ethtool -S h1 | awk '/xdp_xmit:/{x+=$2} /xdp_xmit_errors:/{e+=$2} END{print x+0, e+0}')"
}

# step PHASE REP RATE DST [NLBD_PID]: one bounded burst; appends a JSON line to $OUT/steps.
# The sender: udp_flood from client 1 (on SENDER_CPU if set), or (LIVE_SENDER set, xdp-live)
# xdp_live_flood in the switch's namespace, into host 1's veth as xdp_frames, on CPU 0.
step() {
  local phase=$1 rep=$2 rate=$3 dst=$4 pid=${5:-} count before_cpu before_proc before_cs cs r last now
  count=$(( rate * STEP_SECONDS ))
  before_cpu=$(busy_jiffies); before_proc=$(proc_jiffies "$pid"); before_cs=$(ctx_switches "$pid")
  local prog_before prog_after rx_before rx_after; prog_before=$(prog_stats); rx_before=$(rx_stats)
  local pin=${PIN:-} sender=(ip netns exec "nlb-$RUN-c1" "$FLOOD" eth0)
  [ -n "${SPLIT:-}" ] && pin=0
  [ -n "${SENDER_CPU:-}" ] && pin=$SENDER_CPU
  [ -n "${LIVE_SENDER:-}" ] && { pin=0; sender=(ip netns exec "nlb-$RUN-s" "$LIVE_SENDER" h1); }
  r=$(${pin:+taskset -c "$pin"} "${sender[@]}" "$CLUSTER_MAC" 198.18.2.1 "$dst" 9000 "$count" "$rate" 4096 \
      "/proc/$SINK_PID/net/snmp")
  cs=$(( $(ctx_switches "$pid") - before_cs )); prog_after=$(prog_stats); rx_after=$(rx_stats)
  # Drain: until the count stops moving (the capture ring empties), at most 5 s.
  last=-1; now=$(snmp_reached)
  for _ in $(seq 50); do [ "$now" = "$last" ] && break; last=$now; sleep 0.1; now=$(snmp_reached); done
  python3 - "$r" "$phase" "$rep" "$rate" "$now" "$(( $(busy_jiffies) - before_cpu ))" \
    "$(( $(proc_jiffies "$pid") - before_proc ))" "$(getconf CLK_TCK)" "$cs" $prog_before $prog_after \
    $rx_before $rx_after >>"$OUT/steps" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
runs = int(sys.argv[13]) - int(sys.argv[11])
if runs > 0:  # the BPF program's own time per frame it ran on (host 1, both halves)
    r["prog_ns_per_run"] = (int(sys.argv[12]) - int(sys.argv[10])) / runs
rx = [int(a) - int(b) for a, b in zip(sys.argv[17:20], sys.argv[14:17])]
if int(sys.argv[14]) > 0:  # xdp-live: host 1's NAPI thread's CPU per frame sent; its ring's take
    r.update(rx_cpu_ns_per_packet=rx[0] / r["sent"], ring_in=rx[1], ring_full=rx[2])
r.update(phase=sys.argv[2], rep=int(sys.argv[3]), rate=int(sys.argv[4]),
         reached=int(sys.argv[5]) - r["reached_start"],
         cpu_ns_per_packet=int(sys.argv[6]) * 1e9 / int(sys.argv[8]) / r["sent"],
         nlbd_cpu_ns_per_packet=int(sys.argv[7]) * 1e9 / int(sys.argv[8]) / r["sent"],
         nlbd_cs_per_s=int(sys.argv[9]) / r["seconds"])
print(json.dumps(r))
PY
  tail -n 1 "$OUT/steps" | json "'  %-4s rep %d offered %7d/s: reached %d of %d, steady %d/s, cpu %.0f ns/pkt, nlbd %.0f cs/s%s%s' % (r['phase'], r['rep'], r['offered_pps'], r['reached'], r['sent'], r['steady_reached_pps'], r['cpu_ns_per_packet'], r['nlbd_cs_per_s'], ', program %.0f ns/frame' % r['prog_ns_per_run'] if 'prog_ns_per_run' in r else '', ', receiver %.0f ns/pkt, ring in %d full %d' % (r['rx_cpu_ns_per_packet'], r['ring_in'], r['ring_full']) if 'rx_cpu_ns_per_packet' in r else '')"
}

nft_on() {
  in_host 1 ip addr add "$NFT_VIP/32" dev lo
  in_host 1 nft -f - <<NFT
table netdev nlbbench {
  chain ingress {
    type filter hook ingress device eth0 priority 0; policy accept;
    ip daddr $NFT_VIP udp dport 9000 jhash ip saddr . udp sport mod 2 seed 0x4e4c4231 == 0 meta pkttype set host accept
    ip daddr $NFT_VIP udp dport 9000 drop
  }
}
NFT
}

# capture_config I: host I's config on the capture back end, whatever NLB_DATA_PATH said.
capture_config() {
  sed -i '/^  data_path:/d' "$STATE/h$1.yaml"
  echo "  data_path: capture" >>"$STATE/h$1.yaml"
}

# limit_cpu PID: NLBD_CPU's quota for every thread of PID, in a cgroup of this run (v1 or v2).
CGROUP=""
limit_cpu() {
  local pid=$1 t
  if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
    CGROUP=/sys/fs/cgroup/cpu/nlb-bench-$RUN
    mkdir -p "$CGROUP"
    echo 100000 >"$CGROUP/cpu.cfs_period_us"
    echo $((NLBD_CPU * 1000)) >"$CGROUP/cpu.cfs_quota_us"
    for t in /proc/"$pid"/task/*; do echo "${t##*/}" >"$CGROUP/tasks"; done
  elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    CGROUP=/sys/fs/cgroup/nlb-bench-$RUN
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
    mkdir -p "$CGROUP"
    echo "$((NLBD_CPU * 1000)) 100000" >"$CGROUP/cpu.max"
    echo "$pid" >"$CGROUP/cgroup.procs"
  else
    fail "NLBD_CPU: no cgroup CPU controller found"
  fi
  note "host 1's nlbd limited to ${NLBD_CPU}% of one core ($CGROUP)"
}
# The cgroup goes once its processes are gone (the lab's teardown kills them).
bench_teardown() {
  local rc=$?
  # lab_teardown exits: run it in a subshell (with this exit status), then remove the cgroup.
  set +e
  ( lab_teardown "$rc" )
  if [ -n "$CGROUP" ]; then
    for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CGROUP" 2>/dev/null && break; sleep 0.5; done
  fi
  exit "$rc"
}

# packets_lab: the 2-host lab of "Packets" above with the UDP receiver on host 1, the client's
# neighbour entries for VIP and NFT_VIP, the flood's port rule, host configs (NLB_DATA_PATH
# chooses their back end) and the nft baseline's chain on host 1.
packets_lab() {
  lab_start 2
  trap bench_teardown EXIT
  for a in "$VIP" "$NFT_VIP"; do
    in_client 1 ip neigh replace "$a" lladdr "$CLUSTER_MAC" dev eth0 nud permanent
  done
  # The receiver: bound to VIP:9000 (IP_FREEBIND: the VIP comes and goes), never reads.
  # ip netns exec (not the in_host function) so that $! is the receiver itself, in host 1's netns.
  ip netns exec "nlb-$RUN-h1" python3 -c '
import socket, sys, time
socks = []
for address in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_IP, 15, 1)
    s.bind((address, 9000))
    socks.append(s)
print("ready", flush=True)
time.sleep(3600)' "$VIP" "$NFT_VIP" >"$STATE/sink.out" 2>&1 </dev/null &
  SINK_PID=$!
  echo "$SINK_PID" >"$STATE/pids/sink"
  wait_until 10 "the UDP receiver" grep -qx ready "$STATE/sink.out"
  cat >"$OUT/rules.yaml" <<'YAML'
  port_rules:
    - { name: flood, ports: 9000, protocol: udp, affinity: none }
YAML
  for i in 1 2; do host_config "$i" --period-ms 1000 --tolerance 100 --rules "$OUT/rules.yaml"; done
  nft_on
}

packets() {
  packets_lab
  capture_config 1
  capture_config 2
  if [ -n "${SPLIT:-}" ]; then
    in_host 1 sh -c 'echo 2 >/sys/class/net/eth0/queues/rx-0/rps_cpus'
    note "host 1's receive work on CPU 1 (RPS), the sender on CPU 0"
  fi
  for rep in $(seq "$REPS"); do
    start_agent 1; start_agent 2
    wait_until 30 "2 hosts converged" converged_all 1,2
    kill -STOP "$(cat "$STATE/pids/nlbd-h2")"
    if [ -n "${PIN:-}" ]; then taskset -a -p -c "$PIN" "$(cat "$STATE/pids/nlbd-h1")" >/dev/null; fi
    if [ -n "${NLBD_CPU:-}" ]; then limit_cpu "$(cat "$STATE/pids/nlbd-h1")"; fi
    note "rep $rep: steps alternate nft jhash filter / nlbd capture + TUN (host 1 of 2; host 2 frozen)"
    for rate in $RATES; do
      step nft "$rep" "$rate" "$NFT_VIP"
      step pcap "$rep" "$rate" "$VIP" "$(cat "$STATE/pids/nlbd-h1")"
    done
    note "host 1 report: $(control 1 report | json "'accepted %d, dropped %d, capture_dropped %d, delivery_errors %d' % (r['packets']['accepted'], r['packets']['dropped'], r['errors']['capture_dropped'], r['errors']['delivery_errors'])")"
    kill -CONT "$(cat "$STATE/pids/nlbd-h2")"
    stop_agents 1 2
  done
  python3 "$SUMMARY" packets "$OUT/steps"
  "$LAB" down --run "$RUN"; RUN=""
}

http() {
  lab_start 1
  start_webs 1
  host_config 1 --period-ms 200 --tolerance 3
  capture_config 1
  start_agent 1
  wait_until 15 "host 1 converged" converged_all 1
  for rep in $(seq "$REPS"); do
    # Alternate which goes first, so that a drift in the machine's load favours neither.
    case $((rep % 2)) in 1) order="pcap direct" ;; 0) order="direct pcap" ;; esac
    for target in $order; do
      url=http://$VIP/; [ "$target" = direct ] && url=http://198.18.1.1/
      cs0=$(ctx_switches "$(cat "$STATE/pids/nlbd-h1")"); m0=$(machine_switches); t0=$(date +%s%N)
      in_client 1 wrk -t 1 -c 20 -d "${WRK_SECONDS}s" --latency "$url" >"$OUT/wrk-$target-$rep" 2>&1
      cs1=$(ctx_switches "$(cat "$STATE/pids/nlbd-h1")"); m1=$(machine_switches); t1=$(date +%s%N)
      python3 "$SUMMARY" wrk "$OUT/wrk-$target-$rep" "$target" "$rep" keepalive \
        "$(( (cs1 - cs0) * 1000000000 / (t1 - t0) ))" "$(( (m1 - m0) * 1000000000 / (t1 - t0) ))" >>"$OUT/wrk"
      tail -n 1 "$OUT/wrk" | json "'  %-6s rep %d: %.0f requests/s, mean %.3f ms, p99 %.3f ms, socket errors: %s, context switches/s: nlbd %d, machine %d' % (r['target'], r['rep'], r['rps'], r['mean_ms'], r['p99_ms'], r['errors'], r['nlbd_cs'], r['machine_cs'])"
    done
  done
  note "host 1: $(control 1 report | json "'accepted %d, capture_dropped %d, delivery_errors %d' % (r['packets']['accepted'], r['errors']['capture_dropped'], r['errors']['delivery_errors'])")"
  python3 "$SUMMARY" http "$OUT/wrk" direct pcap
  "$LAB" down --run "$RUN"; RUN=""
}

# The BPF back end's phases (bpf_packets, bpf_http, xdp_packets), on the helpers above.
source "$(dirname "$0")/datapath_bpf.sh"

case "$what" in
  packets) packets ;;
  http) http ;;
  bpf) bpf_packets ;;
  bpf-http) bpf_http ;;
  xdp) xdp_packets ;;
  xdp-live) xdp_live_packets ;;
  all) packets; http; bpf_packets; bpf_http; xdp_packets; xdp_live_packets ;;
  *) fail "usage: datapath_bench.sh [packets|http|bpf|bpf-http|xdp|xdp-live|all]" ;;
esac
rm -rf "$OUT"
