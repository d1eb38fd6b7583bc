#!/usr/bin/env bash
# Malformed frames at the cluster MAC, 3 hosts: from the client's namespace, over an AF_PACKET
# socket, 20 each of IPv4 with a total length beyond the frame, IHL 4, version 5, a TCP data
# offset of 3, a TCP header cut at 6 bytes and a UDP header cut at 4, all to the VIP; then 400
# frames of random bytes after the cluster MAC (half shaped to pass the capture filter). Every
# agent keeps running and counts exactly 20 of each kind under `report` packets.malformed, the
# junk that reached the parser adds to the malformed total, and the cluster still serves.
#
# Unicast MAC mode: a switch floods frames to an unlearnt unicast MAC without looking inside. A
# group MAC is different on the lab's Linux bridge: with multicast snooping on (the default) it
# validates the IPv4 header of every frame to a group MAC and drops bad ones, so in multicast
# mode only the frames with a good IP header (bad TCP/UDP) would reach the hosts.
source "$(dirname "$0")/datapath_lib.sh"

lab_start 3
start_webs 1 2 3
start_cluster 1,2,3 --mac-mode unicast
cluster_mac=02:bf:c6:12:00:64

malformed() { control "$1" report | json "r['packets']['malformed']['$2']"; }
malformed_total() { control "$1" report | json "r['packets']['by_reason']['malformed']['packets']"; }

sent=$(client_tool raw --dst-mac "$cluster_mac" --source 198.18.2.1 --vip "$VIP" --each 20 --junk 0)
note "sent: $sent"
kinds="bad_ipv4_total_length bad_ipv4_header_length bad_ipv4_version bad_tcp_header_length truncated_tcp truncated_udp"
counted() {
  local i k
  for i in 1 2 3; do
    for k in $kinds; do [ "$(malformed "$i" "$k")" -ge 20 ] || return 1; done
  done
}
wait_until 10 "every host counted the malformed frames" counted
for i in 1 2 3; do
  agent_alive "$i" || fail "host $i's nlbd died"
  for k in $kinds; do
    n=$(malformed "$i" "$k")
    [ "$n" = 20 ] || fail "host $i counted $n $k frames, 20 were sent"
  done
  note "host $i: 20 of each kind"
done

# Junk after the exact counts, since its random headers land in the same counters.
before=$(malformed_total 1)
sent=$(client_tool raw --dst-mac "$cluster_mac" --source 198.18.2.1 --vip "$VIP" --each 0 --junk 400)
note "sent: $sent"
# The junk is the same on every run (fixed seed): each of its 200 frames shaped to pass the
# capture filter carries a broken IPv4 header, so every host must count all of them.
want=$((120 + $(json "r['junk_to_vip']" <<<"$sent")))
if [ "$(backend 1)" = bpf ]; then
  # The BPF program parses every frame at the interface, also the junk the capture's filter
  # leaves out, so it counts more: at least those, and the same on every host.
  all_junk() {
    local a
    a=$(malformed_total 1)
    [ "$a" -ge "$want" ] && [ "$(malformed_total 2)" = "$a" ] && [ "$(malformed_total 3)" = "$a" ]
  }
  wait_until 10 "every host counted the same malformed frames, at least $want" all_junk
  want=$(malformed_total 1)
else
  all_junk() { [ "$(malformed_total "$1")" = "$want" ]; }
  for i in 1 2 3; do wait_until 10 "host $i counted $want malformed frames" all_junk "$i"; done
fi
for i in 1 2 3; do agent_alive "$i" || fail "host $i's nlbd died"; done
note "every host counted $want malformed frames in all"

# Still serving, and the hosts still agree packet for packet.
out=$(client_tool http --vip "$VIP" --port 80 --count 60 --sources "$SOURCES" --first-port 41000)
[ "$(json "r['answered']" <<<"$out")" = 60 ] ||
  fail "after the junk: $(json "r['answered']" <<<"$out") of 60 answered: $(json "r['failures'][:3]" <<<"$out")"
for i in 1 2 3; do agent_alive "$i" || fail "host $i's nlbd died"; done
for i in 1 2 3; do members_are "$i" 1,2,3 || fail "host $i lost members"; done
note "after the junk: 60 of 60 answered, $(json "r['by_host']" <<<"$out")"
echo "PASS"
