# Shared by the datapath_*.sh integration tests, on top of lib.sh: a running cluster with nginx
# (and optionally a UDP echo service) on every host, traffic from the client, and the hosts'
# `report` counters read back.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOOL="python3 -B $ROOT/tests/integration/datapath_tool.py"
VIP=198.18.0.100
VIP2=198.18.0.101
VIP6=2001:2::100
# One address in each of eight /24s (the lab gives the client 198.18.2-9.1).
SOURCES=198.18.2.1,198.18.3.1,198.18.4.1,198.18.5.1,198.18.6.1,198.18.7.1,198.18.8.1,198.18.9.1

# The decision reasons under which a host counts a packet to a VIP it saw (accepted or dropped
# because it is another host's); neighbour requests, foreign and malformed frames are left out.
VIP_REASONS="owned_bucket single_host_owner default_host other_hosts_bucket other_single_host other_default_host rule_disabled not_serving"

# converged_all "1,2,3": every listed host is converged with exactly those members.
converged_all() {
  local i
  for i in ${1//,/ }; do members_are "$i" "$1" || return 1; done
}

# web_up I: nginx of host I answers on its dedicated address.
web_up() { in_host "$1" curl -sf -m 1 -o /dev/null "http://198.18.1.$1/"; }

# start_webs I...: nginx on each host, waited for.
start_webs() {
  local i
  for i in "$@"; do "$LAB" web --run "$RUN" --host "$i"; done
  for i in "$@"; do wait_until 10 "nginx on host $i" web_up "$i"; done
}

# start_cluster "1,2,3" [nlb-lab config options...]: configs, agents, converged.
start_cluster() {
  local hosts=$1 i; shift
  for i in ${hosts//,/ }; do host_config "$i" --period-ms 200 --tolerance 3 "$@"; done
  for i in ${hosts//,/ }; do start_agent "$i"; done
  wait_until 15 "hosts $hosts converged" converged_all "$hosts"
  wait_until 15 "hosts $hosts' maps settled" maps_settled "$hosts"
}

# maps_settled "1,2,3": no bucket is moving in or out on any listed host and no host's map is
# still on its way into the kernel (the BPF back end; the capture takes a map at once).
maps_settled() {
  local i
  for i in ${1//,/ }; do
    control "$i" report | json "not r['data_path']['settling'] and all(x['moving_in_buckets'] == 0 and x['moving_away_buckets'] == 0 for x in r['connections']['rules'])" |
      grep -qx True || return 1
  done
}

# agent_gone I: host I's nlbd (started by the lab) has exited.
agent_gone() { ! kill -0 "$(cat "$STATE/pids/nlbd-h$1")" 2>/dev/null; }
agent_alive() { kill -0 "$(cat "$STATE/pids/nlbd-h$1")" 2>/dev/null; }

# stop_agents I...: SIGTERM, waited for (the agent restores the interface on the way out).
stop_agents() {
  local i
  for i in "$@"; do kill_agent "$i" TERM; done
  for i in "$@"; do wait_until 10 "nlbd of host $i exited" agent_gone "$i"; done
}

# vip_seen I: packets to a VIP host I decided on (accepted or left to another host).
vip_seen() {
  control "$1" report | json "sum(r['packets']['by_reason'][k]['packets'] for k in '$VIP_REASONS'.split())"
}
accepted() { control "$1" report | json "r['packets']['accepted']"; }

# counters_line "1,2,3": "seen1 seen2 ... | acc1 acc2 ..." for the listed hosts.
counters_line() {
  local i seen="" acc=""
  for i in ${1//,/ }; do seen+="$(vip_seen "$i") "; acc+="$(accepted "$i") "; done
  echo "$seen| $acc"
}

# wait_counters_settled "1,2,3": waits until two reads 0.3 s apart agree (the last ACKs and FINs
# are in), then prints the line. Under traffic that keeps coming, it fails after 10 s.
COUNTERS=""
settled() {
  local a b
  a=$(counters_line "$1"); sleep 0.3; b=$(counters_line "$1")
  [ "$a" = "$b" ] && COUNTERS=$b
}
wait_counters_settled() {
  local deadline=$(( $(date +%s) + 10 ))
  until settled "$1"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "counters of hosts $1 never settled"
  done
  echo "$COUNTERS"
}

# check_every_packet_once "1,2,3": every host saw the same number of VIP packets, and the hosts'
# accepted packets add up to exactly that number: each packet was taken by exactly one host.
check_every_packet_once() {
  local line seen acc s first="" total=0
  line=$(wait_counters_settled "$1")
  seen=${line%|*}; acc=${line#*|}
  for s in $seen; do
    [ -z "$first" ] && first=$s
    [ "$s" = "$first" ] || fail "hosts $1 saw different numbers of VIP packets: $seen"
  done
  for s in $acc; do total=$((total + s)); done
  [ "$total" = "$first" ] || fail "hosts $1 accepted $acc (sum $total) of $first VIP packets"
  [ "$first" -gt 0 ] || fail "no VIP packet counted at all"
  note "every host saw $first VIP packets; accepted $acc (sum $total)"
  check_delivery "$1"
}

# fresh_report I: host I's report once its packet counters were read after this call began. The
# capture's counters are live; the BPF back end reads the program's once a period
# (data_path.checks counts the reads): a count two reads later was read after the call began.
# Fails after 10 s.
fresh_report() {
  local r checks checks0="" deadline=$(( $(date +%s) + 10 ))
  while :; do
    r=$(control "$1" report)
    if [ "$(json "r['data_path']['backend']" <<<"$r")" != bpf ]; then echo "$r"; return; fi
    checks=$(json "r['data_path']['checks']" <<<"$r")
    [ -n "$checks0" ] || checks0=$checks
    if [ "$checks" -ge $((checks0 + 2)) ]; then echo "$r"; return; fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "host $1: no fresh BPF counter read within 10 s"
    sleep 0.1
  done
}

# check_delivery "1,2,3": on each host, who delivered the accepted packets. The capture back
# end: the TUN device, every one of them (nothing in the kernel delivers a VIP packet by itself).
# The BPF back end (NLB_DATA_PATH=bpf): the program decided and counted every packet itself (the
# report's packet counters are its per-CPU counters), and none went through TUN. Needs settled
# counters (check_every_packet_once waits for them).
check_delivery() {
  local i r acc tun backend
  for i in ${1//,/ }; do
    r=$(fresh_report "$i")
    read -r backend acc tun < <(json "'%s %d %d' % (r['data_path']['backend'], r['packets']['accepted'], r['delivered'])" <<<"$r")
    if [ "$backend" = bpf ]; then
      [ "$tun" = 0 ] || fail "host $i: BPF back end, yet TUN delivered $tun"
      note "host $i: BPF back end: the program accepted $acc packets, TUN none"
      continue
    fi
    [ "$tun" = "$acc" ] || fail "host $i: TUN delivered $tun of $acc accepted packets"
    note "host $i: capture: TUN delivered all $acc accepted packets"
  done
}

# backend I: the back end host I runs ("capture" or "bpf"; with host.data_path xdp "bpf" too,
# report's data_path.hook says "xdp").
backend() { control "$1" report | json "r['data_path']['backend']"; }

# client_tool ARGS...: datapath_tool.py in client 1, its JSON output on stdout.
client_tool() { in_client 1 $TOOL "$@"; }

# no_capture_drops "1,2,3": no host's capture ring overflowed (the counts above would be short).
no_capture_drops() {
  local i d
  for i in ${1//,/ }; do
    d=$(control "$i" report | json "r['errors']['capture_dropped'] + r['errors']['delivery_errors']")
    [ "$d" = 0 ] || fail "host $i dropped $d packets in capture or delivery"
  done
}
