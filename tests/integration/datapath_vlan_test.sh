#!/usr/bin/env bash
# VLAN-tagged SYNs to the VIP, 1 host: the cluster serves its interface's own, untagged traffic (a
# VLAN is served by running nlbd on its VLAN interface, where frames arrive untagged), so a frame
# tagged with any VLAN id must not be accepted. From the client's namespace, over an AF_PACKET
# socket, 20 SYNs to VIP:80 tagged with VLAN 42 at the cluster MAC; the client listens 2 s for
# SYN-ACKs. Checked on the capture path: no SYN answered, every tagged frame counted (`report`
# packets.by_reason.foreign_vlan: Decide() drops it; the diversion keeps the tagged frame from the
# local stack), untagged traffic still served. With NLB_DATA_PATH=bpf, on the BPF back end, where the kernel has moved
# the tag into skb metadata before the program runs (skb->vlan_present). Before the fix the
# capture path answered them: the data path decided them like untagged frames and wrote them to
# the TUN device, and the local stack replied; the BPF back end accepted them.
source "$(dirname "$0")/datapath_lib.sh"

lab_start 1
start_webs 1
start_cluster 1 --mac-mode unicast
cluster_mac=02:bf:c6:12:00:64

tagged() { fresh_report 1 | json "r['packets']['by_reason']['foreign_vlan']['packets']"; }

check() {  # check NAME: tagged SYNs unanswered and counted, untagged ones served
  local before out answered n
  before=$(tagged)
  out=$(client_tool vlan_syn --dst-mac "$cluster_mac" --source 198.18.2.1 --vip "$VIP" --vid 42 \
    --count 20 --first-port "$2")
  answered=$(json "r['answered']" <<<"$out")
  [ "$answered" = 0 ] || fail "$1: $answered of 20 SYNs tagged with VLAN 42 were answered"
  n=$(( $(tagged) - before ))
  [ "$n" -ge 20 ] || fail "$1: $n tagged frames counted, 20 were sent"
  out=$(client_tool http --vip "$VIP" --port 80 --sources 198.18.2.1 --count 20 --parallel 4)
  [ "$(json "r['answered']" <<<"$out")" = 20 ] || fail "$1: untagged: $(json "r['answered']" <<<"$out") of 20 answered"
  note "$1: 0 of 20 tagged SYNs answered, $n tagged frames counted, 20 of 20 untagged requests answered"
}

if [ "$(backend 1)" = bpf ]; then
  check "BPF back end" 41000
else
  check "capture path" 41000
fi
agent_alive 1 || fail "nlbd died"
echo "PASS"
