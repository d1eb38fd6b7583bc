#!/usr/bin/env bash
# The BPF back end owns its tc filter. On one host of two (host.data_path: bpf, heartbeats every
# PERIOD ms), under fresh connections:
#  - `tc filter del dev eth0 ingress` (every ingress filter) and `tc qdisc del dev eth0 clsact`
#    (the hook itself) each take nlbd's program away: nlbd notices at its next check (one per
#    period) and attaches it again within one period (plus NLB_REPAIR_SLACK_MS for a busy
#    machine), timed from the deletion to the repair's log line; it counts and logs it, and
#    every request after the repair is answered;
#  - the link going down and up: the program is attached (or attached again) and the host
#    serves again;
#  - after SIGKILL the filter stays (deciding nothing: its lease runs out), and
#    `nlbd --cleanup` removes it; after SIGTERM nlbd removes it itself.
# The steps: kernel_state_lib.sh (shared with kernel_state_xdp_test.sh).
export NLB_DATA_PATH=bpf
source "$(dirname "$0")/kernel_state_lib.sh"
ours() { in_host "$1" tc filter show dev eth0 ingress | grep -q "handle 0x4e4c"; }

kernel_state_start "the BPF back end"
[ "$(backend 1)" = bpf ] && [ "$(backend 2)" = bpf ] || fail "not on the BPF back end"
answered before
repair_each "tc filter del dev eth0 ingress" "tc qdisc del dev eth0 clsact"
link_flap
note "host 1's map switches into the kernel: $(control 1 report | json "'%d updates, last %d us, slowest %d us' % (r['kernel']['updates'], r['kernel']['last_update_us'], r['kernel']['slowest_update_us'])")"
killed_then_cleaned "tc filter of eth0 (clsact ingress, handle 0x4e4c): removed"
echo "PASS"
