#!/usr/bin/env bash
# Crash recovery, as the unit's ExecStopPost does it: after SIGKILL an nlbd in unicast mode leaves
# its nftables table and the cluster MAC on the interface; `nlbd --cleanup --config FILE` removes
# the table and puts the real MAC back from the state directory (which a restart keeps), is
# refused while the agent runs, and is a no-op when nothing is left.
source "$(dirname "$0")/lib.sh"

lab_start 1
host_config 1 --mac-mode unicast
export STATE_DIRECTORY=$STATE/state  # what the unit's StateDirectory= hands nlbd
mac() { in_host 1 cat /sys/class/net/eth0/address; }
cleanup() { in_host 1 timeout 20 "$NLBD" --cleanup --config "$STATE/h1.yaml"; }
real_mac=$(mac)

start_agent 1
wait_until 15 "host 1 converged alone" members_are 1 "1"
pid=$(cat "$STATE/pids/nlbd-h1")
[ "$(mac)" != "$real_mac" ] || fail "unicast mode did not change the MAC"
ls "$STATE_DIRECTORY"/mac-*-eth0 >/dev/null || fail "no saved MAC in $STATE_DIRECTORY"

rc=0; out=$(cleanup 2>&1) || rc=$?
[ "$rc" -eq 1 ] && grep -q "another nlbd already runs" <<<"$out" ||
  fail "--cleanup while the agent runs: exit $rc, said: $out"
kill -0 "$pid" || fail "--cleanup disturbed the running agent"
note "refused while running: $out"

kill_agent 1 KILL
wait_until 10 "nlbd dies" bash -c "! kill -0 $pid"
in_host 1 nft list tables | grep -q "nlb_" || fail "SIGKILL left no table: nothing to test"
[ "$(mac)" != "$real_mac" ] || fail "SIGKILL put the MAC back: nothing to test"

out=$(cleanup) || fail "--cleanup after the crash failed: $out"
note "after SIGKILL: $(tr '\n' ';' <<<"$out")"
grep -q ": removed" <<<"$out" || fail "--cleanup did not report the table removed: $out"
grep -q "restored from $STATE_DIRECTORY" <<<"$out" || fail "--cleanup restored no MAC: $out"
in_host 1 nft list tables | grep -q "nlb_" && fail "table left: $(in_host 1 nft list tables)"
[ "$(mac)" = "$real_mac" ] || fail "MAC $(mac), want the real $real_mac"
ls "$STATE_DIRECTORY"/mac-* >/dev/null 2>&1 && fail "the state file outlived the restore"

out=$(cleanup) || fail "a second --cleanup failed: $out"
grep -q ": none" <<<"$out" && grep -q ": unchanged" <<<"$out" ||
  fail "a second --cleanup was not a no-op: $out"
note "second run: $(tr '\n' ';' <<<"$out")"

# And a new agent starts cleanly on the cleaned interface.
start_agent 1
wait_until 15 "host 1 converged again" members_are 1 "1"
echo "PASS"
