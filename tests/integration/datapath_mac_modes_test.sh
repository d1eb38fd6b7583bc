#!/usr/bin/env bash
# Each cluster MAC mode end to end on 3 hosts: multicast, unicast, igmp. In each: the client
# resolves the VIP to that mode's cluster MAC, 60 HTTP requests from 8 addresses are all answered
# and spread over all 3 hosts, every packet was taken by exactly one host, and after SIGTERM the
# hosts' interfaces have their own MAC back (unicast changes it).
source "$(dirname "$0")/datapath_lib.sh"

lab_start 3
start_webs 1 2 3
declare -A want_mac=([multicast]=03:bf:c6:12:00:64 [unicast]=02:bf:c6:12:00:64 [igmp]=01:00:5e:7f:00:64)
for i in 1 2 3; do own_mac[$i]=$(in_host "$i" cat /sys/class/net/eth0/address); done

port=40000
for mode in multicast unicast igmp; do
  # The client must learn this mode's MAC, not reuse the last mode's.
  in_client 1 ip neigh flush dev eth0
  start_cluster 1,2,3 --mac-mode "$mode"
  out=$(client_tool http --vip "$VIP" --port 80 --count 60 --sources "$SOURCES" --first-port "$port")
  port=$((port + 100))
  [ "$(json "r['answered']" <<<"$out")" = 60 ] ||
    fail "$mode: $(json "r['answered']" <<<"$out") of 60 answered: $(json "r['failures'][:3]" <<<"$out")"
  [ "$(json "len(r['by_host'])" <<<"$out")" = 3 ] || fail "$mode: not spread: $(json "r['by_host']" <<<"$out")"
  mac=$(in_client 1 ip neigh show "$VIP" dev eth0 | awk '{print $3}')
  [ "$mac" = "${want_mac[$mode]}" ] || fail "$mode: client resolved $VIP to '$mac', want ${want_mac[$mode]}"
  check_every_packet_once 1,2,3
  note "$mode: 60 of 60 answered via $mac, $(json "r['by_host']" <<<"$out")"
  stop_agents 1 2 3
  for i in 1 2 3; do
    now=$(in_host "$i" cat /sys/class/net/eth0/address)
    [ "$now" = "${own_mac[$i]}" ] || fail "$mode: host $i left its MAC at $now, was ${own_mac[$i]}"
  done
done
echo "PASS"
