#!/usr/bin/env bash
# nlbd owns its kernel state. On one host of two, under fresh connections:
#  - `nft flush ruleset` (what restarting Debian's nftables service does) removes nlbd's table:
#    nlbd notices through the nftables monitor, repairs it within a period, counts and logs it,
#    and every request after the repair is answered (before it, the capture delivers what the
#    kernel no longer does: no black hole);
#  - a foreign change to another table is noticed but needs no repair;
#  - the link going down and up: the capture recovers and every request after it is answered.
source "$(dirname "$0")/datapath_lib.sh"

lab_start 2
start_webs 1 2
start_cluster 1,2
note "2 hosts converged, nginx on each"

requests() {  # requests N: N fresh connections, all must be answered by the two hosts
  local out
  out=$(client_tool http --vip "$VIP" --port 80 --sources "$SOURCES" --count "$1" --parallel 4)
  [ "$(json "r['answered']" <<<"$out")" = "$1" ] ||
    fail "$(json "r['answered']" <<<"$out") of $1 answered: $(json "r['failures'][:3]" <<<"$out")"
  json "r['by_host']" <<<"$out"
}
repairs() { control 1 report | json "r['kernel']['repairs']"; }
foreign_seen() { [ "$(control 1 report | json "r['kernel']['foreign_changes']")" -ge 1 ]; }
repaired() { [ "$(repairs)" -ge 1 ]; }
serving() { control 1 query | grep -q '"serving":true'; }

note "before: $(requests 40)"
[ "$(repairs)" = 0 ] || fail "repairs before any fault"

# Another table changing is not nlbd's business: noticed, nothing repaired.
in_host 1 nft add table inet somebody_else
wait_until 5 "the foreign change seen" foreign_seen
sleep 0.5
[ "$(repairs)" = 0 ] || fail "a change to another table was taken for damage"

in_host 1 nft flush ruleset
flushed=$(date +%s%N)
wait_until 5 "host 1 repaired its table" repaired
took=$(( ($(date +%s%N) - flushed) / 1000000 ))
note "repaired $took ms after the flush"
in_host 1 nft list table netdev "nlb_lab_${RUN}_eth0" >/dev/null || fail "the table is not back"
grep -q "repaired the kernel state" "$STATE/logs/nlbd-h1.log" || fail "the repair was not logged"
note "after the flush: $(requests 40)"

in_host 1 ip link set eth0 down
sleep 0.5
in_host 1 ip link set eth0 up
note "link of host 1 down for 0.5 s, up again"
wait_until 10 "host 1 serves again" serving
sleep 1
note "after the link flap: $(requests 40)"
echo "PASS"
