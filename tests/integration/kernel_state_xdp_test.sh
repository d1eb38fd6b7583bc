#!/usr/bin/env bash
# The XDP variant owns its program (host.data_path: xdp, native on the lab's veth). On one host
# of two (heartbeats every PERIOD ms), under fresh connections:
#  - `ip link set dev eth0 xdpdrv off` takes nlbd's program away, and a changed MAC of eth0
#    makes it deliver owned frames to a MAC the stack no longer takes: nlbd notices each at its
#    next check (one per period) and repairs it (attaches again, writes the new MAC) within one
#    period (plus NLB_REPAIR_SLACK_MS for a busy machine), timed from the fault to the repair's
#    log line; it counts and logs it, and every request after the repair is answered;
#  - the link going down and up: the program stays and the host serves again;
#  - after SIGKILL the program stays (deciding nothing: its lease runs out), and
#    `nlbd --cleanup` removes it; after SIGTERM nlbd removes it itself.
# The steps: kernel_state_lib.sh (shared with kernel_state_bpf_test.sh).
export NLB_DATA_PATH=xdp
source "$(dirname "$0")/kernel_state_lib.sh"
# ours I: host I's eth0 holds a native XDP program named nlb_xdp.
ours() {
  local id
  id=$(in_host "$1" bpftool net show dev eth0 --json |
    json "([t['id'] for t in r[0]['xdp'] if t.get('mode') == 'driver'] + [''])[0]")
  [ -n "$id" ] && [ "$(bpftool prog show id "$id" --json | json "r['name']")" = nlb_xdp ]
}

kernel_state_start "the XDP variant"
for i in 1 2; do
  [ "$(control "$i" report | json "'%s %s' % (r['data_path']['backend'], r['data_path']['hook'])")" = "bpf xdp" ] ||
    fail "host $i is not on the XDP hook: $(control "$i" report | json "r['data_path']")"
done
answered before
repair_each "ip link set dev eth0 xdpdrv off" "ip link set dev eth0 address 02:00:5e:00:53:77"
link_flap
killed_then_cleaned "XDP program of eth0 (native, nlb_xdp): removed"
echo "PASS"
