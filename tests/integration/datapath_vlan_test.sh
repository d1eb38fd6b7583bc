#!/usr/bin/env bash
# VLAN-tagged SYNs to the VIP, 1 host: the cluster serves its interface's own, untagged traffic (a
# VLAN is served by running nlbd on its VLAN interface, where frames arrive untagged), so a frame
# tagged with any VLAN id must not be accepted. From the client's namespace, over an AF_PACKET
# socket, 20 SYNs to VIP:80 tagged with VLAN 42 at the cluster MAC; the client listens 2 s for
# SYN-ACKs. Checked on the capture path (kernel fast path off) and with the kernel fast path on:
# no SYN answered, every tagged frame counted (`report` packets.by_reason.foreign_vlan: Decide()
# drops it) and none accepted by the kernel fast path (its count unchanged), untagged traffic
# still served. With NLB_DATA_PATH=bpf, one round on the BPF back end, where the kernel has moved
# the tag into skb metadata before the program runs (skb->vlan_present). Before the fix the
# capture path answered them: the data path decided them like untagged frames and wrote them to
# the TUN device, and the local stack replied; the BPF back end accepted them.
source "$(dirname "$0")/datapath_lib.sh"

lab_start 1
start_webs 1
start_cluster 1 --mac-mode unicast
cluster_mac=02:bf:c6:12:00:64

fast_path_is() { control 1 report | json "r['fast_path']['enabled']" | grep -qx "$1"; }
tagged() { fresh_report 1 | json "r['packets']['by_reason']['foreign_vlan']['packets']"; }

check() {  # check NAME: tagged SYNs unanswered and counted, untagged ones served
  local before out answered n k0 k1
  before=$(tagged)
  k0=$(fresh_report 1 | json "r['fast_path']['kernel_packets']")
  out=$(client_tool vlan_syn --dst-mac "$cluster_mac" --source 198.18.2.1 --vip "$VIP" --vid 42 \
    --count 20 --first-port "$2")
  answered=$(json "r['answered']" <<<"$out")
  [ "$answered" = 0 ] || fail "$1: $answered of 20 SYNs tagged with VLAN 42 were answered"
  n=$(( $(tagged) - before ))
  [ "$n" -ge 20 ] || fail "$1: $n tagged frames counted, 20 were sent"
  # The kernel fast path took none of them either (its diversion drops tagged VIP frames first;
  # with the BPF back end its count stays 0).
  k1=$(fresh_report 1 | json "r['fast_path']['kernel_packets']")
  [ "$k1" = "$k0" ] || fail "$1: the kernel fast path accepted $((k1 - k0)) tagged frames"
  out=$(client_tool http --vip "$VIP" --port 80 --sources 198.18.2.1 --count 20 --parallel 4)
  [ "$(json "r['answered']" <<<"$out")" = 20 ] || fail "$1: untagged: $(json "r['answered']" <<<"$out") of 20 answered"
  note "$1: 0 of 20 tagged SYNs answered, $n tagged frames counted, 20 of 20 untagged requests answered"
}

if [ "$(backend 1)" = bpf ]; then
  check "BPF back end" 41000
  agent_alive 1 || fail "nlbd died"
  echo "PASS"
  exit 0
fi
echo "  kernel_fast_path: false" >>"$STATE/h1.yaml"
control 1 reload | json "r['ok']" | grep -qx True || fail "reload refused"
wait_until 10 "fast path off" fast_path_is False
check "capture path" 41000
sed -i '$d' "$STATE/h1.yaml"
control 1 reload | json "r['ok']" | grep -qx True || fail "reload refused"
wait_until 10 "fast path on" fast_path_is True
wait_until 15 "fast path settled" fast_paths_settled 1
check "kernel fast path" 42000
agent_alive 1 || fail "nlbd died"
echo "PASS"
