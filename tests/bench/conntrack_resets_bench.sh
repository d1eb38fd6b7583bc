#!/usr/bin/env bash
# Connections broken by bucket moves: nlbd (connection tracking) against the kernel's nftables
# jhash filter (no tracking: every connection whose hash changes host is reset by its new host),
# in one lab, with the same clients. Prints the figures recorded in docs/benchmarks.md. Needs
# root; builds a 3-host lab with tools/nlb-lab and removes it on exit, whatever happens.
#
#   bash tests/bench/conntrack_resets_bench.sh          environment: DOWNLOADS (30)
#
# Each scenario starts DOWNLOADS slow downloads (the lab's /slow: 2 MB that nginx sends at
# 200 kB/s, about 10 s each) from client 1,
# makes its move 2 s later, and counts the downloads that did not end whole (reset or stalled).
#   nft:  no nlbd for this address: VIP 198.18.0.200 on every host's lo, and per host a netdev
#         ingress chain keeping `jhash ip saddr . tcp sport mod M seed S == I` (pkttype set host)
#         and dropping the rest. join: M 2 -> 3 on every host (host 3 dropped everything before);
#         leave: M 3 -> 2 (host 3 drops everything after), what drainstop does without tracking.
#   nlbd: VIP 198.18.0.100, heartbeat 200 ms. join: host 3's nlbd starts; drain: `drain 80` on
#         host 2; weight: host 1's web weight 50 -> 100 and `reload`; reload: `reload --cluster`
#         adding alt8081 (sorts after web: web keeps its rule index); reload-renumber:
#         `reload --cluster` adding a rule for VIP 198.18.0.101 that sorts before web (web's rule
#         index moves from 0 to 1; rules are keyed by name, so this must break nothing either);
#         drainstop: host 3.
set -euo pipefail
DOWNLOADS=${DOWNLOADS:-30}
source "$(dirname "$0")/../integration/conntrack_lib.sh"
source "$(dirname "$0")/../integration/nlbctl_lib.sh"

NFT_VIP=198.18.0.200
CLUSTER_MAC=03:bf:c6:12:00:64
declare -A RESULT=()

# nft_set I M: host I keeps `jhash mod M == I-1`; M 0: host I drops all of NFT_VIP:80.
nft_set() {
  local i=$1 m=$2 keep=""
  [ "$m" -gt 0 ] && keep="ip daddr $NFT_VIP tcp dport 80 jhash ip saddr . tcp sport mod $m seed 0x4e4c4231 == $((i - 1)) meta pkttype set host accept"
  in_host "$i" nft -f - <<NFT
table netdev nlbresets {
  chain ingress {
    type filter hook ingress device eth0 priority 0; policy accept;
  }
}
flush chain netdev nlbresets ingress
table netdev nlbresets {
  chain ingress {
    $keep
    ip daddr $NFT_VIP tcp dport 80 drop
  }
}
NFT
}

# nft_moved NAME OLD_M NEW_M: prints "MOVED BROKEN_MOVED BROKEN_UNMOVED" for NAME's downloads: which
# flows the modulus change gave another host, by the kernel's jhash over nftables' register
# layout of `ip saddr . tcp sport` (as common/flow_hash.cc, bit for bit), client 198.18.2.1.
nft_moved() {
  python3 - "$STATE/$1" "$2" "$3" "$DOWNLOADS" "$SIZE" <<'PY'
import socket, struct, sys
M = 0xFFFFFFFF
rol = lambda x, k: ((x << k) | (x >> (32 - k))) & M
def jhash(key, initval):  # the kernel's jhash(), for keys of 1-12 bytes
    a = b = c = (0xDEADBEEF + len(key) + initval) & M
    k = key + bytes(12 - len(key))
    a = (a + struct.unpack("<I", k[0:4])[0]) & M
    b = (b + struct.unpack("<I", k[4:8])[0]) & M
    c = (c + struct.unpack("<I", k[8:12])[0]) & M
    for x, y, z, r in (("c", "b", "c", 14), ("a", "c", "a", 11), ("b", "a", "b", 25), ("c", "b", "c", 16),
                       ("a", "c", "a", 4), ("b", "a", "b", 14), ("c", "b", "c", 24)):
        v = {"a": a, "b": b, "c": c}
        v[x] = ((v[x] ^ v[y]) - rol(v[y], r)) & M
        a, b, c = v["a"], v["b"], v["c"]
    return c
directory, old_m, new_m, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
moved = broken_moved = broken_unmoved = 0
for k in range(1, n + 1):
    rc, got, port = open("%s/%d.result" % (directory, k)).read().split()
    h = jhash(socket.inet_aton("198.18.2.1") + struct.pack("!H", int(port)) + b"\0\0", 0x4E4C4231)
    is_moved = (h * old_m) >> 32 != (h * new_m) >> 32
    broken = rc != "0" or got != size
    moved += is_moved
    broken_moved += is_moved and broken
    broken_unmoved += (not is_moved) and broken
print(moved, broken_moved, broken_unmoved)
PY
}

# run NAME URL MOVE...: downloads, MOVE 2 s later, then the broken count into RESULT[NAME].
run() {
  local name=$1 url=$2 res; shift 2
  downloads "$name" "$url"
  sleep 2
  "$@"
  wait_until 120 "$name: downloads finished" finished "$name"
  res=$(broken "$name" 2>/dev/null)
  RESULT[$name]=${res%% *}
  note "$name: ${res%% *} of $DOWNLOADS downloads broken (served by ${res#* })"
}

lab_start 3
start_webs 1 2 3

# --- nft jhash filter
in_client 1 ip neigh replace "$NFT_VIP" lladdr "$CLUSTER_MAC" dev eth0 nud permanent
for i in 1 2 3; do in_host "$i" ip addr add "$NFT_VIP/32" dev lo; done
nft_set 1 2; nft_set 2 2; nft_set 3 0
nft_join() { nft_set 1 3; nft_set 2 3; nft_set 3 3; }
nft_leave() { nft_set 1 2; nft_set 2 2; nft_set 3 0; }
run nft-join "http://$NFT_VIP/slow" nft_join
read -r JOIN_MOVED JOIN_BROKEN_MOVED JOIN_BROKEN_UNMOVED < <(nft_moved nft-join 2 3)
note "nft-join: the modulus change moved $JOIN_MOVED flows: $JOIN_BROKEN_MOVED of them broken, $JOIN_BROKEN_UNMOVED unmoved ones broken"
run nft-leave "http://$NFT_VIP/slow" nft_leave
read -r LEAVE_MOVED LEAVE_BROKEN_MOVED LEAVE_BROKEN_UNMOVED < <(nft_moved nft-leave 3 2)
note "nft-leave: the modulus change moved $LEAVE_MOVED flows: $LEAVE_BROKEN_MOVED of them broken, $LEAVE_BROKEN_UNMOVED unmoved ones broken"
for i in 1 2 3; do in_host "$i" nft delete table netdev nlbresets; in_host "$i" ip addr del "$NFT_VIP/32" dev lo; done

# --- nlbd
rules() {  # rules NAME: web plus the extra rule lines given on stdin
  { echo "  port_rules:"; echo "    - { name: web, ports: 80, protocol: tcp, affinity: none }"; cat; } >"$STATE/$1"
}
rules r-web </dev/null
echo "    - { name: alt8081, ports: 8081, protocol: tcp, affinity: none }" | rules r-8081
printf '%s\n' "    - { name: alt8081, ports: 8081, protocol: tcp, affinity: none }" \
  "    - { name: vip101, vip: 198.18.0.101, ports: 8082, protocol: tcp, affinity: none }" | rules r-insert
printf '  rules:\n    - { rule: web, weight: 100 }\n' >"$STATE/w100"
for i in 1 2 3; do host_config "$i" --period-ms 200 --tolerance 3 --rules "$STATE/r-web"; done
start_agent 1; start_agent 2
wait_until 15 "hosts 1,2 converged" converged_all 1,2
join() { start_agent 3; wait_until 15 "host 3 joined" converged_all 1,2,3; }
run nlbd-join "http://$VIP/slow" join
drain() { ctl 2 drain 80; expect_rc 0 "drain 80"; }
run nlbd-drain "http://$VIP/slow" drain
ctl 2 enable 80; expect_rc 0 "enable 80"
wait_until 15 "converged after enable" converged_all 1,2,3
weight() {
  host_config 1 --period-ms 200 --tolerance 3 --rules "$STATE/r-web" --host-rules "$STATE/w100"
  ctl 1 reload; expect_rc 0 "reload of host 1"
}
run nlbd-weight "http://$VIP/slow" weight
cluster_reload() {  # cluster_reload RULES
  host_config 1 --period-ms 200 --tolerance 3 --rules "$STATE/$1" --host-rules "$STATE/w100"
  for i in 2 3; do host_config "$i" --period-ms 200 --tolerance 3 --rules "$STATE/$1"; done
  ctl 1 --cluster reload; expect_rc 0 "reload --cluster to $1"
}
run nlbd-reload "http://$VIP/slow" cluster_reload r-8081
wait_until 15 "converged after the reload" converged_all 1,2,3
run nlbd-reload-renumber "http://$VIP/slow" cluster_reload r-insert
grep -q "reload renumbered rules (web 0 -> 1" "$STATE/logs/nlbd-h1.log" ||
  fail "host 1 did not log that the reload renumbered web"
wait_until 15 "converged after the reload" converged_all 1,2,3
drainstop() { ctl 3 drainstop; expect_rc 0 "drainstop of host 3"; }
run nlbd-drainstop "http://$VIP/slow" drainstop

n=$DOWNLOADS
echo "join:      nlbd: ${RESULT[nlbd-join]} of $n downloads broken; nft jhash filter: ${RESULT[nft-join]} of $n ($JOIN_MOVED moved)"
echo "drainstop: nlbd: ${RESULT[nlbd-drainstop]} of $n downloads broken; nft jhash filter (host leaves the modulus): ${RESULT[nft-leave]} of $n ($LEAVE_MOVED moved)"
echo "drain:     nlbd: ${RESULT[nlbd-drain]} of $n downloads broken"
echo "weight:    nlbd: ${RESULT[nlbd-weight]} of $n downloads broken"
echo "reload --cluster, rule appended:            nlbd: ${RESULT[nlbd-reload]} of $n downloads broken"
echo "reload --cluster, rule inserted before web: nlbd: ${RESULT[nlbd-reload-renumber]} of $n downloads broken"
