#!/usr/bin/env bash
# Records tests/agent/data/lab_traffic.pcap, the real traffic the BPF agreement test replays
# (tests/agent/bpf_replay_test.cc): a 2-host nlb-lab cluster (nginx on both, nlbd on its default
# back end, rule "web" 80/tcp affinity none), tcpdump on host 1's eth0 (which the flooding bridge
# gives every frame of the segment) while client 1 sends: ARP and IPv4 HTTP from eight /24s,
# neighbour solicitations and IPv6 HTTP, ICMP echo, fragmented ICMP and UDP over IPv4 and IPv6
# (ping -s 3000, 3000-byte datagrams), 802.1Q-tagged ARP and SYNs to the VIP, 802.1ad+802.1Q
# (QinQ) tagged ARP, and a few malformed frames (the tagged and malformed ones written on the wire
# over AF_PACKET by datapath_tool.py and the script). Heartbeats and the hosts' replies are in it too. Needs root.
#
#   NLB_BUILD_DIR=$PWD/build bash tests/agent/data/record_lab_pcap.sh [OUT]
#
# The file is committed: rerun this only to change what it holds, and say so in the README.
source "$(dirname "$0")/../../integration/datapath_lib.sh"

out=$(realpath -m "${1:-$ROOT/tests/agent/data/lab_traffic.pcap}")
cluster_mac=03:bf:c6:12:00:64  # multicast mode, 198.18.0.100

lab_start 2 1
start_webs 1 2
start_cluster "1,2"

pcap=$STATE/lab.pcap
# Started directly (ip netns exec execs tcpdump), so that $! is tcpdump itself.
ip netns exec "nlb-$RUN-h1" tcpdump -i eth0 -s 0 -U -w "$pcap" 2>"$STATE/tcpdump.err" &
tcpdump_pid=$!
stop_tcpdump() { kill -INT "$tcpdump_pid" 2>/dev/null || true; wait "$tcpdump_pid" || true; }
# On the way out, tcpdump first, then the lab (which reads the exit status).
on_exit() { local rc=$?; set +e; stop_tcpdump; lab_teardown "$rc"; }
trap on_exit EXIT
wait_until 5 "tcpdump listening" grep -q "listening on" "$STATE/tcpdump.err"

c() { in_client 1 "$@"; }
note "IPv4 HTTP from eight /24s (the first one ARPs for the VIP)"
for src in ${SOURCES//,/ }; do c curl -s -m 2 -o /dev/null --interface "$src" "http://$VIP/"; done
note "IPv6 HTTP (neighbour solicitation first)"
for i in 1 2; do c curl -s -m 2 -o /dev/null "http://[$VIP6]/"; done
note "ICMP echo, and fragmented echo and UDP over both families"
c ping -c 2 -i 0.2 -W 1 "$VIP" >/dev/null || true
c ping -c 2 -i 0.2 -W 1 -s 3000 "$VIP" >/dev/null || true
c ping -6 -c 2 -i 0.2 -W 1 -s 3000 "$VIP6" >/dev/null || true
c python3 -c "
import socket
for family, address in ((socket.AF_INET, '$VIP2'), (socket.AF_INET6, '$VIP6')):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.sendto(b'x' * 3000, (address, 53))
    s.sendto(b'y' * 100, (address, 1500))
"
note "802.1Q and 802.1ad+802.1Q (QinQ): tagged ARP and tagged SYNs to the VIP (nobody may answer)"
# This kernel has no VLAN devices (8021q), so the tags are written on the wire over AF_PACKET, as
# datapath_vlan_test does.
client_tool vlan_syn --dst-mac "$cluster_mac" --source 198.18.2.1 --vip "$VIP" --vid 42 \
  --count 3 --first-port 41000 --wait 0.5 >/dev/null
c python3 -c "
import socket, struct
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
mac = s.getsockname()[4]
def arp(target):
    return struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac + socket.inet_aton('198.18.2.1') + \
        b'\0' * 6 + socket.inet_aton(target)
for tags in ([(0x8100, 42)], [(0x88a8, 100), (0x8100, 7)]):
    head = b'\xff' * 6 + mac + b''.join(struct.pack('!HH', tpid, vid) for tpid, vid in tags)
    for target in ('$VIP', '198.18.1.1'):
        s.send(head + struct.pack('!H', 0x0806) + arp(target))
"
note "malformed frames on the wire"
client_tool raw --dst-mac "$cluster_mac" --source 198.18.2.1 --vip "$VIP" --each 2 --junk 12 >/dev/null
sleep 0.5  # the last replies and a heartbeat or two

stop_tcpdump
trap lab_teardown EXIT
cp "$pcap" "$out"
size=$(stat -c %s "$out")
[ "$size" -lt 200000 ] || fail "$out is $size bytes, over the 200 kB the tree allows"
note "$out: $size bytes, $(tcpdump -r "$out" 2>/dev/null | wc -l) frames"
