#!/usr/bin/env bash
# The kernel fast path's failure path. Host 2's nft refuses every fast-path script (an nft first
# on its PATH that fails when the script holds a jhash rule and runs the real nft otherwise, as
# a kernel without the jhash expression would). Host 2 must record that the fast path is off,
# leave no fast-path rule behind, and serve its whole share through capture + TUN: 300 requests
# answered, every packet taken by exactly one host, host 1 still on its fast path. A reload tries
# the fast path again, fails again the same way, and the agent keeps serving.
source "$(dirname "$0")/datapath_lib.sh"

lab_start 2
start_webs 1 2
fake="$STATE/fakebin"
mkdir -p "$fake"
real_nft=$(command -v nft)
cat >"$fake/nft" <<EOF
#!/bin/sh
script=\$(cat)
case "\$script" in
  *jhash*) echo "Error: Could not process rule: Operation not supported (injected by the test)" >&2; exit 1 ;;
esac
printf '%s\n' "\$script" | exec "$real_nft" "\$@"
EOF
chmod +x "$fake/nft"
for i in 1 2; do host_config "$i" --period-ms 200 --tolerance 3; done
start_agent 1
PATH="$fake:$PATH" start_agent 2
wait_until 15 "hosts 1,2 converged" converged_all 1,2

fast_path_off() {
  control 2 report | json "r['fast_path']['enabled'] is False and r['fast_path']['errors'] >= $1" |
    grep -qx True
}
wait_until 10 "host 2 to give up its fast path" fast_path_off 1
off_events() { control 2 params | json "sum('kernel fast path off' in e for e in r['events'])"; }
[ "$(off_events)" -ge 1 ] || fail "host 2 did not record that its fast path is off"
# (Read whole first: grep -q would close the pipe on nft, which pipefail would then report.)
rules2=$(in_host 2 nft list ruleset)
rules1=$(in_host 1 nft list ruleset)
! grep -q jhash <<<"$rules2" || fail "host 2 left a fast-path rule in its chain"
grep -q jhash <<<"$rules1" || fail "host 1 has no fast-path rule"
note "host 2: fast path off after nft refused it; host 1: fast path on"

out=$(client_tool http --vip "$VIP" --port 80 --sources "$SOURCES" --count 300 --parallel 8)
[ "$(json "r['answered']" <<<"$out")" = 300 ] ||
  fail "$(json "r['answered']" <<<"$out") of 300 answered; failures: $(json "r['failures'][:5]" <<<"$out")"
note "300 of 300 answered: $(json "r['by_host']" <<<"$out")"
no_capture_drops 1,2
check_every_packet_once 1,2
[ "$(control 2 report | json "r['delivered']")" -gt 0 ] || fail "host 2 delivered nothing through TUN"
[ "$(control 1 report | json "r['fast_path']['kernel_packets']")" -gt 0 ] ||
  fail "host 1's kernel fast path delivered nothing"

# A reload tries again (and fails again here): counted, recorded, still serving.
control 2 reload | json "r['ok']" | grep -qx True || fail "host 2 refused the reload"
wait_until 10 "host 2's second fast-path failure" fast_path_off 2
agent_alive 2 || fail "host 2's nlbd died"
out=$(client_tool http --vip "$VIP" --port 80 --sources "$SOURCES" --count 100 --parallel 8)
[ "$(json "r['answered']" <<<"$out")" = 100 ] || fail "after the reload: $(json "r['answered']" <<<"$out") of 100 answered"
check_every_packet_once 1,2
echo "PASS"
