#!/usr/bin/env bash
# Least privilege: once set up, every thread of nlbd holds exactly CAP_NET_ADMIN and CAP_NET_RAW
# (effective, permitted, bounding), plus CAP_PERFMON and CAP_BPF when the BPF back end runs (it
# reads and sweeps its maps at run time), nothing inheritable or ambient, although it was started
# as full root; and it still does its run-time work (converges, answers control, reloads).
source "$(dirname "$0")/lib.sh"

lab_start 1
host_config 1
start_agent 1
wait_until 15 "host 1 converged alone" members_are 1 "1"
pid=$(cat "$STATE/pids/nlbd-h1")
if [ "$(control 1 report | json "r['data_path']['backend']")" = bpf ]; then
  want=000000c000003000  # and bits 38 (CAP_PERFMON), 39 (CAP_BPF)
  kept=cap_net_admin,cap_net_raw,cap_perfmon,cap_bpf=ep
else
  want=0000000000003000  # bits 12 (CAP_NET_ADMIN) and 13 (CAP_NET_RAW)
  kept=cap_net_admin,cap_net_raw=ep
fi

threads=0
for status in /proc/"$pid"/task/*/status; do
  for field in CapEff CapPrm CapBnd; do
    got=$(awk -v f="$field:" '$1 == f {print $2}' "$status")
    [ "$got" = "$want" ] || fail "$status: $field $got, want $want"
  done
  for field in CapInh CapAmb; do
    got=$(awk -v f="$field:" '$1 == f {print $2}' "$status")
    [ "$got" = 0000000000000000 ] || fail "$status: $field $got, want none"
  done
  threads=$((threads + 1))
done
[ "$threads" -ge 2 ] || fail "expected the data path thread as well, saw $threads thread(s)"
note "all $threads threads: CapEff=CapPrm=CapBnd=$want, CapInh=CapAmb=0"
grep -q "capabilities $kept" "$STATE/logs/nlbd-h1.log" ||
  fail "the log does not say which capabilities were kept"

# Run-time work that needs them: a reload that changes the rules (on the BPF back end it rewrites
# the program's maps).
sed 's/ports: 80$/ports: 8081/' "$STATE/h1.yaml" >"$STATE/h1-new.yaml"
cp "$STATE/h1-new.yaml" "$STATE/h1.yaml"
kill_agent 1 HUP
wait_until 10 "the reload applies" grep -q "reloaded " "$STATE/logs/nlbd-h1.log"
covers_8081() { control 1 params | grep -q 8081; }
wait_until 15 "the reloaded rules cover port 8081" covers_8081
members_are 1 "1" || fail "not converged after the reload"
kill -0 "$pid" || fail "nlbd died after the reload"
note "reload with reduced capabilities: ok"
echo "PASS"
