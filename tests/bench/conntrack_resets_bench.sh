#!/usr/bin/env bash
# Connections broken by bucket moves: nlbd (connection tracking) against the kernel's nftables
# jhash filter (no tracking: every connection whose hash changes host is reset by its new host),
# in one lab, with the same clients. Prints the figures recorded in docs/benchmarks.md. Needs
# root; builds a 3-host lab with tools/nlb-lab and removes it on exit, whatever happens.
#
#   bash tests/bench/conntrack_resets_bench.sh          environment: DOWNLOADS (30), RATE (200k)
#
# Each scenario starts DOWNLOADS slow downloads (2 MB at RATE, about 10 s each) from client 1,
# makes its move 2 s later, and counts the downloads that did not end whole (reset or stalled).
#   nft:  no nlbd for this address: VIP 198.18.0.200 on every host's lo, and per host a netdev
#         ingress chain keeping `jhash ip saddr . tcp sport mod M seed S == I` (pkttype set host)
#         and dropping the rest. join: M 2 -> 3 on every host (host 3 dropped everything before);
#         leave: M 3 -> 2 (host 3 drops everything after), what drainstop does without tracking.
#   nlbd: VIP 198.18.0.100, heartbeat 200 ms. join: host 3's nlbd starts; drain: `drain 80` on
#         host 2; weight: host 1's web weight 50 -> 100 and `reload`; reload: `reload --cluster`
#         adding alt8081 (sorts after web: web keeps its rule index); reload-renumber:
#         `reload --cluster` adding a rule for VIP 198.18.0.101 that sorts before web (web's rule
#         index moves from 0 to 1: the documented limit); drainstop: host 3.
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
run nft-join "http://$NFT_VIP/big" nft_join
run nft-leave "http://$NFT_VIP/big" nft_leave
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
run nlbd-join "http://$VIP/big" join
drain() { ctl 2 drain 80; expect_rc 0 "drain 80"; }
run nlbd-drain "http://$VIP/big" drain
ctl 2 enable 80; expect_rc 0 "enable 80"
wait_until 15 "converged after enable" converged_all 1,2,3
weight() {
  host_config 1 --period-ms 200 --tolerance 3 --rules "$STATE/r-web" --host-rules "$STATE/w100"
  ctl 1 reload; expect_rc 0 "reload of host 1"
}
run nlbd-weight "http://$VIP/big" weight
cluster_reload() {  # cluster_reload RULES
  host_config 1 --period-ms 200 --tolerance 3 --rules "$STATE/$1" --host-rules "$STATE/w100"
  for i in 2 3; do host_config "$i" --period-ms 200 --tolerance 3 --rules "$STATE/$1"; done
  ctl 1 --cluster reload; expect_rc 0 "reload --cluster to $1"
}
run nlbd-reload "http://$VIP/big" cluster_reload r-8081
wait_until 15 "converged after the reload" converged_all 1,2,3
run nlbd-reload-renumber "http://$VIP/big" cluster_reload r-insert
wait_until 15 "converged after the reload" converged_all 1,2,3
drainstop() { ctl 3 drainstop; expect_rc 0 "drainstop of host 3"; }
run nlbd-drainstop "http://$VIP/big" drainstop

n=$DOWNLOADS
echo "join:      nlbd: ${RESULT[nlbd-join]} of $n downloads broken; nft jhash filter: ${RESULT[nft-join]} of $n"
echo "drainstop: nlbd: ${RESULT[nlbd-drainstop]} of $n downloads broken; nft jhash filter (host leaves the modulus): ${RESULT[nft-leave]} of $n"
echo "drain:     nlbd: ${RESULT[nlbd-drain]} of $n downloads broken"
echo "weight:    nlbd: ${RESULT[nlbd-weight]} of $n downloads broken"
echo "reload --cluster, rule appended:            nlbd: ${RESULT[nlbd-reload]} of $n downloads broken"
echo "reload --cluster, rule inserted before web: nlbd: ${RESULT[nlbd-reload-renumber]} of $n downloads broken (known limit)"
