#!/usr/bin/env bash
# nlbd owns its kernel state. On one host of two (heartbeats every PERIOD ms), under fresh
# connections:
#  - `nft flush ruleset` (what restarting Debian's nftables service does) removes nlbd's table:
#    nlbd notices through the nftables monitor and repairs it within one period (plus
#    NLB_REPAIR_SLACK_MS for a busy machine), timed from the flush to the repair's log line; it
#    counts it and logs it, and every request after the repair is answered (before it, the
#    capture still decides and delivers: without the diversion the local stack also sees VIP
#    frames, never a black hole);
#  - a foreign change to another table is noticed but needs no repair;
#  - the link going down and up: the table is still there, the capture (if it failed) works
#    again within one period of the link coming up (plus the same slack), the host serves
#    again, and every request after it is answered.
# The start and the requests: kernel_state_lib.sh (shared with kernel_state_{bpf,xdp}_test.sh).
source "$(dirname "$0")/kernel_state_lib.sh"

kernel_state_start "host.data_path ${NLB_DATA_PATH:-auto}"
foreign_changes() { control 1 report | json "r['kernel']['foreign_changes']"; }
foreign_more() { [ "$(foreign_changes)" -gt "$1" ]; }
foreign_seen() { foreign_more 0; }

note "before: $(requests 40)"
[ "$(repairs)" = 0 ] || fail "repairs before any fault"

# Another table changing is not nlbd's business: noticed, nothing repaired.
in_host 1 nft add table inet somebody_else
wait_until 5 "the foreign change seen" foreign_seen
sleep 0.5
[ "$(repairs)" = 0 ] || fail "a change to another table was taken for damage"

flushed=$(date +%s%3N)
in_host 1 nft flush ruleset
wait_until 5 "host 1 repaired its table" repaired 1
took=$(log_ms_after "$flushed" "repaired the kernel state" "$STATE/logs/nlbd-h1.log")
note "repaired $took ms after the flush (a period is $PERIOD ms, slack $SLACK_MS ms):" \
  "$(grep -m 1 "repaired the kernel state" "$STATE/logs/nlbd-h1.log" | cut -d' ' -f3-)"
[ "$took" -le $((PERIOD + SLACK_MS)) ] ||
  fail "the repair took $took ms, more than a period ($PERIOD ms) and the slack ($SLACK_MS ms)"
[ "$(repairs)" = 1 ] || fail "one flush, $(repairs) repairs counted"
in_host 1 nft list table netdev "nlb_lab_${RUN}_eth0" >/dev/null || fail "the table is not back"
note "after the flush: $(requests 40)"
# The repaired table is recognised as nlbd's own: another foreign change needs no repair.
seen=$(foreign_changes)
in_host 1 nft add table inet somebody_else
wait_until 5 "the second foreign change seen" foreign_more "$seen"
sleep 0.5
[ "$(repairs)" = 1 ] || fail "a foreign change after the repair was taken for damage"

down_at=$(date +%s%3N)
in_host 1 ip link set eth0 down
sleep 0.3
up_at=$(date +%s%3N)
in_host 1 ip link set eth0 up
note "link of host 1 down for $((up_at - down_at)) ms, up again"
# The table survives a link flap (a netdev chain goes only with its device); what can break is
# the capture, which fails while the link is down on some kernels: then it must work again
# within a period of the link coming up.
if log_ms_after "$down_at" "data-path: capture:" "$STATE/logs/nlbd-h1.log" >/dev/null 2>&1; then
  back=$(log_ms_after "$up_at" "capture works again" "$STATE/logs/nlbd-h1.log")
  note "host 1's capture failed while the link was down, and worked again $back ms after it came up"
  [ "$back" -le $((PERIOD + SLACK_MS)) ] ||
    fail "the capture came back $back ms after the link, more than a period and the slack"
else
  note "host 1's capture did not fail while the link was down"
fi
wait_until 10 "host 1 serves again" serving
wait_until 10 "hosts 1,2 converged" converged_all 1,2
note "host 1 serving, both hosts converged $(($(date +%s%3N) - up_at)) ms after the link came up"
in_host 1 nft list table netdev "nlb_lab_${RUN}_eth0" >/dev/null || fail "the table went with the link"
note "after the link flap: $(requests 40)"
echo "PASS"
