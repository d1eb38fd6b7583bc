#!/usr/bin/env bash
# Beyond TCP on one VIP, 3 hosts: a UDP echo service on every host (port 7000, rule affinity
# none) reached on all three VIPs (two IPv4, one IPv6), fragmented UDP datagrams (3000 bytes
# over a 1500-byte MTU), ICMP echo (plain and fragmented) on IPv4 and IPv6, and HTTP on the second
# IPv4 VIP and on the IPv6 VIP. Every request is answered exactly once (no duplicate datagram, no
# DUP! from ping), spread rules spread, and over all of it every host saw every VIP packet and the
# hosts' accepted packets add up to exactly that.
source "$(dirname "$0")/datapath_lib.sh"

lab_start 3
cat >"$STATE/rules.yaml" <<'YAML'
  port_rules:
    - { name: web, ports: 80, protocol: tcp, affinity: none }
    - { name: echo, ports: 7000, protocol: udp, affinity: none }
YAML
start_webs 1 2 3
start_cluster 1,2,3 --rules "$STATE/rules.yaml"

# The UDP echo service: started by PID (the lab kills it by that PID on the way out).
echo_ready() { grep -qx ready "$STATE/udp-h$1.out"; }
for i in 1 2 3; do
  # ip netns exec, not in_host: $! must be the service itself for the lab to kill it by PID.
  ip netns exec "nlb-$RUN-h$i" $TOOL serve --name "$i" --addresses "$VIP,$VIP2,$VIP6" --ports 7000 \
    >"$STATE/udp-h$i.out" 2>&1 </dev/null &
  echo $! >"$STATE/pids/udp-h$i"
done
for i in 1 2 3; do wait_until 10 "UDP echo on host $i" echo_ready "$i"; done
note "3 hosts converged; nginx and a UDP echo service on each"

# udp_ok VIP COUNT SIZE FIRST_PORT [SOURCES] MIN_HOSTS: all answered once, by >= MIN_HOSTS hosts.
udp_ok() {
  local out
  out=$(client_tool udp --vip "$1" --port 7000 --count "$2" --size "$3" --first-port "$4" \
        --sources "$5" --timeout 2)
  [ "$(json "r['answered']" <<<"$out")" = "$2" ] ||
    fail "UDP to $1 ($3 bytes): $(json "r['answered']" <<<"$out") of $2 answered: $(json "r['failures'][:3]" <<<"$out")"
  [ "$(json "r['duplicates']" <<<"$out")" = 0 ] ||
    fail "UDP to $1 ($3 bytes): $(json "r['duplicates']" <<<"$out") duplicate replies"
  [ "$(json "len(r['by_host'])" <<<"$out")" -ge "$6" ] ||
    fail "UDP to $1 ($3 bytes): served by $(json "r['by_host']" <<<"$out"), want >= $6 hosts"
  note "UDP to $1, $2 x $3 bytes: $(json "r['by_host']" <<<"$out")"
}
udp_ok "$VIP" 120 32 30000 "$SOURCES" 3
udp_ok "$VIP2" 60 32 31000 "$SOURCES" 3
udp_ok "$VIP6" 60 32 32000 2001:2::2:1 3
# Fragments are keyed on the source address alone (ports are in the first piece only), so 8
# client addresses may land on fewer hosts; all pieces of one datagram must meet on one host.
udp_ok "$VIP" 40 3000 33000 "$SOURCES" 2
udp_ok "$VIP6" 20 3000 34000 2001:2::2:1 1

# http_ok VIP SOURCES COUNT FIRST_PORT
http_ok() {
  local out
  out=$(client_tool http --vip "$1" --port 80 --count "$3" --sources "$2" --first-port "$4")
  [ "$(json "r['answered']" <<<"$out")" = "$3" ] ||
    fail "HTTP to $1: $(json "r['answered']" <<<"$out") of $3 answered: $(json "r['failures'][:3]" <<<"$out")"
  [ "$(json "len(r['by_host'])" <<<"$out")" = 3 ] || fail "HTTP to $1: $(json "r['by_host']" <<<"$out")"
  note "HTTP to $1: $(json "r['by_host']" <<<"$out")"
}
http_ok "$VIP2" "$SOURCES" 60 35000
http_ok "$VIP6" 2001:2::2:1 60 36000

# ping_once ARGS...: every echo request answered, none twice.
ping_once() {
  local out
  out=$(in_client 1 ping -n -c 5 -i 0.2 -W 2 "$@" 2>&1) || fail "ping $*: $out"
  grep -q " 5 received" <<<"$out" || fail "ping $*: $out"
  ! grep -q "DUP!" <<<"$out" || fail "ping $* got duplicate replies: $out"
  note "ping $*: 5 of 5, no duplicate"
}
ping_once "$VIP"
ping_once -s 3000 "$VIP"
ping_once "$VIP2"
ping_once -6 "$VIP6"
ping_once -6 -s 3000 "$VIP6"

no_capture_drops 1,2,3
check_every_packet_once 1,2,3
echo "PASS"
