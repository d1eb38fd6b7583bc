# The BPF back end's phases of tests/bench/datapath_bench.sh (sourced by it, after its helpers:
# step, packets_lab, bench_teardown, limit_cpu; not run on its own). Issue 11's measurements,
# each against a baseline taken in the same run (docs/benchmarks.md, "BPF data plane"):
#
#   bpf_packets  (datapath_bench.sh bpf): the "Packets" rig with both hosts' nlbd on
#                host.data_path: bpf (host 2 frozen once converged, as in "packets": its
#                program's lease then runs out and it drops the VIP's frames), steps alternating
#                nft jhash filter / bpf. Per step also nlbd's context switches per second of
#                sending (every thread, /proc/PID/task/*/status): with the program deciding, user
#                space should see no frame, so these stay at the idle rate measured before the
#                steps. The capture phases' figure comes from "datapath_bench.sh packets".
#   xdp_packets  (datapath_bench.sh xdp): the same rig; per rep host 1's nlbd runs the tc program
#                (host.data_path: bpf), steps alternating nft / bpf, then the XDP program
#                (host.data_path: xdp, native on the veth), steps alternating nft-xdp / xdp. The
#                nft figure of the ratios is the first half's, with no XDP program on the veth:
#                an XDP program moves the veth's receive path into its NAPI poll, which changes
#                what the nft filter costs too (nft-xdp shows by how much). Ratios xdp/nft and
#                xdp/bpf; the programs' own run time per frame beside the CPU per packet.
#   xdp_live_packets (datapath_bench.sh xdp-live): native XDP on veth as it is meant to run. The
#                same 2-host lab, but the frames reach host 1's eth0 as xdp_frames, through h1's
#                ndo_xdp_xmit, with no skb and no copy on host 1's side. XDP_FEED=redirect (the
#                default): udp_flood from client 1 (CPU 0) as in "packets", and a native XDP
#                program on c1 (the switch's end of the client's link; `xdp_live_flood
#                --redirect c1 h1`) redirects every frame to h1: c1's veth copies the client's
#                skb into an XDP buffer there, on the sender's CPU, in c1's NAPI thread (CPU 0),
#                so host 1 gets NAPI bursts, not single frames. XDP_FEED=live: xdp_live_flood
#                (CPU 0) runs the program in BPF_PROG_TEST_RUN's live-frames mode in the switch's
#                namespace and redirects its own frames to h1 (no skb anywhere; this kernel
#                refuses it, docs/benchmarks.md). For every phase
#                eth0 has GRO on (veth NAPI without an XDP program, which xdp_frames need) and
#                threaded NAPI: its thread pinned to CPU 1 at SCHED_FIFO 50 (the priority over
#                tasks its softirq would have), so that a sender that can outrun the receiver
#                makes a loss the receiver's (this machine's redirect feed cannot). Per rep, in rotating order, a block of LIVE_RATES steps
#                each: nft (the jhash chain, no nlbd), bpf (host 1's nlbd on the tc program, the
#                nft table removed), xdp (its native XDP program; checked native with
#                `ip -d link`). Beside each step: the NAPI thread's CPU per frame (all of host
#                1's receive work), frames the ring refused (live: the sender's own time per frame).
#                Host 2 sees none of the frames (its nlbd only holds half the map). PROG_STATS=1:
#                the programs' own run time too (kernel BPF statistics, which cost the hooks a
#                little, so off by default).
#   bpf_http     (datapath_bench.sh bpf-http): 2 hosts with nginx, wrk from the client
#                (WRK_CONNECTIONS, default 32, as the issue's measurement), keep-alive and one
#                request per connection (`Connection: close`), to
#                  nlb:    the VIP through the 2 nlbd on the BPF back end;
#                  nft:    the NLB model done by the kernel alone, the ceiling: NFT_VIP on every
#                          host's lo and per host a netdev ingress chain keeping
#                          `jhash ip saddr . tcp sport mod 2 == I-1` (pkttype set host), dropping
#                          the rest; the program leaves NFT_VIP's frames untouched (not a VIP);
#                  direct: host 1's dedicated address (one nginx, no balancing);
#                REPS times per mode (HTTP_MODES, default "keepalive close"), order rotating.
#                Ratios nlb/nft and direct/nft.

# bpf_stats_on: the kernel's BPF run-time statistics (run_time_ns, run_cnt per program) while
# this run lasts: a process holding a BPF_ENABLE_STATS descriptor (reference-counted in the
# kernel, so it leaves the setting as others had it), killed with the lab (its PID in pids/).
# The program's own time per frame is then a figure the machine's load does not enter (beyond
# hypervisor steal), unlike the machine's CPU per packet on this shared machine.
bpf_stats_on() {
  python3 -c '
import ctypes, struct, time
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(struct.pack("I", 0), 16)  # BPF_STATS_RUN_TIME
fd = libc.syscall(321, 32, attr, 16)  # __NR_bpf (x86_64), BPF_ENABLE_STATS
print("ready" if fd >= 0 else "errno %d" % ctypes.get_errno(), flush=True)
time.sleep(3600)' >"$STATE/bpfstats.out" 2>&1 </dev/null &
  echo $! >"$STATE/pids/bpfstats"
  wait_until 10 "BPF statistics on" grep -q . "$STATE/bpfstats.out"
  grep -qx ready "$STATE/bpfstats.out" || note "no BPF statistics: $(cat "$STATE/bpfstats.out")"
}

# prog_of_host I: the id of the tc program at host I's eth0 ingress (or of its XDP program).
prog_of_host() {
  in_host "$1" bpftool net show dev eth0 --json | json "([t.get('id', t.get('prog_id')) for t in r[0]['xdp']] + [t.get('id', t.get('prog_id')) for t in r[0]['tc'] if 'ingress' in t['kind']])[0]"
}

bpf_packets() {
  NLB_DATA_PATH=bpf packets_lab
  local rep rate pid idle
  [ "$(uname -m)" = x86_64 ] && bpf_stats_on
  for rep in $(seq "$REPS"); do
    start_agent 1; start_agent 2
    wait_until 30 "2 hosts converged" converged_all 1,2
    [ "$(backend 1)" = bpf ] && [ "$(backend 2)" = bpf ] || fail "a host is not on the BPF back end"
    kill -STOP "$(cat "$STATE/pids/nlbd-h2")"
    pid=$(cat "$STATE/pids/nlbd-h1")
    BPF_PROG_ID=$(prog_of_host 1)
    if [ -n "${PIN:-}" ]; then taskset -a -p -c "$PIN" "$pid" >/dev/null; fi
    if [ -n "${NLBD_CPU:-}" ]; then limit_cpu "$pid"; fi
    idle=$(ctx_switches "$pid"); sleep 3; idle=$(( ($(ctx_switches "$pid") - idle) / 3 ))
    note "rep $rep: host 1's nlbd idle: $idle context switches/s; steps alternate nft / bpf (load $(cut -d' ' -f1-3 /proc/loadavg))"
    for rate in $RATES; do
      step nft "$rep" "$rate" "$NFT_VIP"
      step bpf "$rep" "$rate" "$VIP" "$pid"
    done
    note "host 1 report: $(control 1 report | json "'backend %s, accepted %d, dropped %d, capture_dropped %d, kernel errors %d, repairs %d' % (r['data_path']['backend'], r['packets']['accepted'], r['packets']['dropped'], r['errors']['capture_dropped'], r['kernel']['errors'], r['kernel']['repairs'])")"
    kill -CONT "$(cat "$STATE/pids/nlbd-h2")"
    BPF_PROG_ID=""
    stop_agents 1 2
  done
  python3 "$SUMMARY" packets "$OUT/steps"
  note "load average: $(cat /proc/loadavg)"
  "$LAB" down --run "$RUN"; RUN=""
}

# xdp_packets: see the header.
xdp_packets() {
  packets_lab
  local rep rate pid mode i
  [ "$(uname -m)" = x86_64 ] && bpf_stats_on
  for i in 1 2; do grep -v "^  data_path:" "$STATE/h$i.yaml" >"$OUT/h$i-base.yaml"; done
  for rep in $(seq "$REPS"); do
    for mode in bpf xdp; do
      for i in 1 2; do
        { cat "$OUT/h$i-base.yaml"; echo "  data_path: $mode"; } >"$STATE/h$i.yaml"
      done
      start_agent 1; start_agent 2
      wait_until 30 "2 hosts converged" converged_all 1,2
      [ "$(control 1 report | json "r['data_path']['hook']")" = "${mode/bpf/tc}" ] ||
        fail "host 1 is not on the $mode hook: $(control 1 report | json "r['data_path']")"
      kill -STOP "$(cat "$STATE/pids/nlbd-h2")"
      pid=$(cat "$STATE/pids/nlbd-h1")
      BPF_PROG_ID=$(prog_of_host 1)
      note "rep $rep: host 1 on $mode (program $BPF_PROG_ID); steps alternate nft / $mode (load $(cut -d' ' -f1-3 /proc/loadavg))"
      for rate in $RATES; do
        if [ "$mode" = bpf ]; then step nft "$rep" "$rate" "$NFT_VIP"; else step nft-xdp "$rep" "$rate" "$NFT_VIP"; fi
        step "$mode" "$rep" "$rate" "$VIP" "$pid"
      done
      note "host 1 report: $(control 1 report | json "'hook %s, accepted %d, dropped %d, kernel errors %d, repairs %d' % (r['data_path']['hook'], r['packets']['accepted'], r['packets']['dropped'], r['kernel']['errors'], r['kernel']['repairs'])")"
      kill -CONT "$(cat "$STATE/pids/nlbd-h2")"
      BPF_PROG_ID=""
      stop_agents 1 2
    done
  done
  python3 "$SUMMARY" packets "$OUT/steps"
  note "load average: $(cat /proc/loadavg)"
  "$LAB" down --run "$RUN"; RUN=""
}

# nft_cluster_on: the plain nftables jhash cluster for NFT_VIP:80 on hosts 1 and 2.
nft_cluster_on() {
  local i
  in_client 1 ip neigh replace "$NFT_VIP" lladdr "$CLUSTER_MAC" dev eth0 nud permanent
  for i in 1 2; do
    in_host "$i" ip addr add "$NFT_VIP/32" dev lo
    in_host "$i" nft -f - <<NFT
table netdev nlbbench {
  chain ingress {
    type filter hook ingress device eth0 priority 0; policy accept;
    ip daddr $NFT_VIP tcp dport 80 jhash ip saddr . tcp sport mod 2 seed 0x4e4c4231 == $((i - 1)) meta pkttype set host accept
    ip daddr $NFT_VIP tcp dport 80 drop
  }
}
NFT
  done
}

bpf_http() {
  local conns=${WRK_CONNECTIONS:-32} rep mode target order url
  lab_start 2
  start_webs 1 2
  NLB_DATA_PATH=bpf start_cluster 1,2
  [ "$(backend 1)" = bpf ] && [ "$(backend 2)" = bpf ] || fail "a host is not on the BPF back end"
  nft_cluster_on
  for rep in $(seq "$REPS"); do
    for mode in ${HTTP_MODES:-keepalive close}; do
      # Rotate which goes first, so that a drift in the machine's load favours none.
      case $((rep % 3)) in
        1) order="nlb nft direct" ;; 2) order="nft direct nlb" ;; 0) order="direct nlb nft" ;;
      esac
      for target in $order; do
        case $target in
          nlb) url=http://$VIP/ ;; nft) url=http://$NFT_VIP/ ;; direct) url=http://198.18.1.1/ ;;
        esac
        local header=()
        [ "$mode" = close ] && header=(-H "Connection: close")
        in_client 1 wrk -t 1 -c "$conns" -d "${WRK_SECONDS}s" --latency "${header[@]}" "$url" \
          >"$OUT/wrk-$target-$mode-$rep" 2>&1
        python3 "$SUMMARY" wrk "$OUT/wrk-$target-$mode-$rep" "$target" "$rep" "$mode" >>"$OUT/wrk"
        tail -n 1 "$OUT/wrk" | json "'  %-6s %-9s rep %d: %.0f requests/s, mean %.3f ms, p99 %.3f ms, socket errors: %s' % (r['target'], r['mode'], r['rep'], r['rps'], r['mean_ms'], r['p99_ms'], r['errors'])"
      done
    done
    note "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  for i in 1 2; do
    note "host $i: $(control "$i" report | json "'backend %s, accepted %d, dropped %d, kernel errors %d, repairs %d' % (r['data_path']['backend'], r['packets']['accepted'], r['packets']['dropped'], r['kernel']['errors'], r['kernel']['repairs'])")"
  done
  python3 "$SUMMARY" http "$OUT/wrk" nft nlb direct
  "$LAB" down --run "$RUN"; RUN=""
}

# napi_threads IF: the PIDs of the kernel's NAPI threads of interfaces named IF (any namespace).
napi_threads() {
  local p
  for p in /proc/[0-9]*; do
    case "$(cat "$p/comm" 2>/dev/null)" in "napi/$1-"*) echo "${p#/proc/}" ;; esac
  done | sort
}

# threaded_napi NS IF: IF's NAPI (GRO on, or an XDP program, makes veth run one) in a thread of
# its own; prints the thread's PID (the one that appeared: fails unless exactly one did).
threaded_napi() {
  local before pid
  before=$(napi_threads "$2")
  ip netns exec "$1" sh -c "echo 1 >/sys/class/net/$2/threaded"
  pid=$(comm -13 <(echo "$before") <(napi_threads "$2"))
  [ "$(echo "$pid" | wc -w)" = 1 ] || fail "$2's NAPI thread in $1 not found (new: '$pid')"
  echo "$pid"
}

# live_receiver: host 1's eth0 as xdp_live_packets' header says; sets RX_PID and RX_COMM.
live_receiver() {
  in_host 1 ethtool -K eth0 gro on
  RX_PID=$(threaded_napi "nlb-$RUN-h1" eth0)
  RX_COMM=$(cat "/proc/$RX_PID/comm")
  taskset -p -c 1 "$RX_PID" >/dev/null
  chrt -f -p 50 "$RX_PID"
  note "host 1's eth0: GRO on, threaded NAPI ($RX_COMM, PID $RX_PID) on CPU 1 at SCHED_FIFO 50"
}

# live_block REP MODE: host 1 on MODE (nft, bpf, xdp) for one step per rate of LIVE_RATES.
live_block() {
  local rep=$1 mode=$2 pid="" dst=$VIP i seen0 seen1 sent
  if [ "$mode" = nft ]; then
    dst=$NFT_VIP
    in_host 1 nft -f "$OUT/nft.rules"
  else
    for i in 1 2; do
      { cat "$OUT/h$i-base.yaml"; echo "  data_path: $mode"; } >"$STATE/h$i.yaml"
    done
    start_agent 1; start_agent 2
    wait_until 30 "2 hosts converged" converged_all 1,2
    wait_until 15 "maps settled" maps_settled 1,2
    [ "$(control 1 report | json "r['data_path']['hook']")" = "${mode/bpf/tc}" ] ||
      fail "host 1 is not on the $mode hook: $(control 1 report | json "r['data_path']")"
    if [ "$mode" = xdp ]; then  # 1: XDP_ATTACHED_DRV (native), not generic (skb) mode
      [ "$(in_host 1 ip -d -j link show eth0 | json "r[0].get('xdp', {}).get('mode')")" = 1 ] ||
        fail "host 1's XDP program is not native: $(in_host 1 ip -d link show eth0)"
    fi
    pid=$(cat "$STATE/pids/nlbd-h1")
    [ -n "${PROG_STATS:-}" ] && BPF_PROG_ID=$(prog_of_host 1)
    seen0=$(control 1 report | json "r['packets']['accepted'] + r['packets']['dropped']")
  fi
  [ "$(cat "/proc/$RX_PID/comm" 2>/dev/null)" = "$RX_COMM" ] || fail "host 1's NAPI thread $RX_PID is gone"
  note "rep $rep: host 1 on $mode${BPF_PROG_ID:+ (program $BPF_PROG_ID)} (load $(cut -d' ' -f1-3 /proc/loadavg))"
  for rate in $LIVE_RATES; do step "$mode" "$rep" "$rate" "$dst" "$pid"; done
  if [ "$mode" = nft ]; then
    in_host 1 nft delete table netdev nlbbench
    return
  fi
  # Every frame sent in the block went through host 1's program (accepted or dropped).
  seen1=$(control 1 report | json "r['packets']['accepted'] + r['packets']['dropped']")
  sent=$(python3 -c 'import json,sys; print(sum(r["sent"] for r in map(json.loads, open(sys.argv[1])) if r["phase"] == sys.argv[2] and r["rep"] == int(sys.argv[3])))' "$OUT/steps" "$mode" "$rep")
  note "host 1 report: $(control 1 report | json "'hook %s, accepted %d, dropped %d, kernel errors %d' % (r['data_path']['hook'], r['packets']['accepted'], r['packets']['dropped'], r['kernel']['errors'])"); decided in the block: $((seen1 - seen0)) of $sent frames sent"
  BPF_PROG_ID=""
  stop_agents 1 2
}

xdp_live_packets() {
  local tool=$BUILD/tests/bench/xdp_live_flood pid
  LIVE_RATES=${LIVE_RATES:-"25000 50000 75000 100000 150000 200000 300000"}
  [ -x "$tool" ] || fail "no $tool (build first)"
  [ "$(nproc)" -ge 2 ] || fail "xdp-live needs 2 CPUs: the sender on CPU 0, the receiver on CPU 1"
  packets_lab
  live_receiver
  case ${XDP_FEED:-redirect} in
    redirect)
      ip netns exec "nlb-$RUN-s" "$tool" --redirect c1 h1
      # c1's NAPI in a thread on the sender's CPU: the client's frames gather in c1's ring while
      # udp_flood sends, and reach host 1 in bursts of up to 64 (a NAPI poll), as a NIC's would,
      # not one frame (and one wake-up of host 1's thread) each.
      pid=$(threaded_napi "nlb-$RUN-s" c1)
      taskset -p -c 0 "$pid" >/dev/null
      SENDER_CPU=0
      ;;
    live) LIVE_SENDER=$tool ;;
    *) fail "XDP_FEED: redirect or live" ;;
  esac
  [ -n "${PROG_STATS:-}" ] && bpf_stats_on
  local rep mode order i
  for i in 1 2; do grep -v "^  data_path:" "$STATE/h$i.yaml" >"$OUT/h$i-base.yaml"; done
  # The nft chain only in the nft blocks, so that the programs' blocks do not pay for it.
  in_host 1 nft list table netdev nlbbench >"$OUT/nft.rules"
  in_host 1 nft delete table netdev nlbbench
  for rep in $(seq "$REPS"); do
    # Rotate the order, so that a drift in the machine's load favours none.
    case $((rep % 3)) in 1) order="nft bpf xdp" ;; 2) order="bpf xdp nft" ;; 0) order="xdp nft bpf" ;; esac
    for mode in $order; do live_block "$rep" "$mode"; done
  done
  python3 "$SUMMARY" packets "$OUT/steps"
  note "load average: $(cat /proc/loadavg)"
  LIVE_SENDER="" RX_PID="" SENDER_CPU=""
  "$LAB" down --run "$RUN"; RUN=""
}
