#!/usr/bin/env bash
# host.data_path: auto. Started without CAP_BPF and CAP_PERFMON (setpriv drops them from the
# bounding set, as a unit without them would), the BPF data plane cannot load: nlbd runs the
# capture back end, logs why, and `report` says so (data_path.backend, data_path.why); requests
# are answered. Started again with them, it runs the BPF back end and says that instead.
source "$(dirname "$0")/datapath_lib.sh"

lab_start 1
start_webs 1
host_config 1 --period-ms 200 --tolerance 3
echo "  data_path: auto" >>"$STATE/h1.yaml"
field() { control 1 report | json "r['data_path']['$1']"; }
requests() {
  local out
  out=$(client_tool http --vip "$VIP" --port 80 --sources "$SOURCES" --count 20 --parallel 4)
  [ "$(json "r['answered']" <<<"$out")" = 20 ] ||
    fail "$(json "r['answered']" <<<"$out") of 20 answered: $(json "r['failures'][:3]" <<<"$out")"
}

cat >"$STATE/nlbd-without-bpf" <<SH
#!/bin/sh
exec setpriv --bounding-set -bpf,-perfmon "$NLBD" "\$@"
SH
chmod +x "$STATE/nlbd-without-bpf"
NLBD=$STATE/nlbd-without-bpf start_agent 1
wait_until 15 "host 1 converged alone" members_are 1 "1"
[ "$(field backend)" = capture ] || fail "without CAP_BPF: back end $(field backend)"
[ "$(field configured)" = auto ] || fail "configured: $(field configured)"
why=$(field why)
grep -q "^auto: the BPF data plane is unavailable" <<<"$why" || fail "why: $why"
grep -q "WARN *datapath: auto: the BPF data plane is unavailable" "$STATE/logs/nlbd-h1.log" ||
  fail "the fallback is not in the log"
requests
note "without CAP_BPF: capture, because: $why; 20 of 20 answered"

stop_agents 1
: >"$STATE/logs/nlbd-h1.log"
start_agent 1
wait_until 15 "host 1 converged alone again" members_are 1 "1"
[ "$(field backend)" = bpf ] || fail "with CAP_BPF: back end $(field backend), because: $(field why)"
[ "$(field why)" = "auto: the BPF data plane loaded and attached" ] || fail "why: $(field why)"
requests
note "with CAP_BPF: bpf ($(field why)); 20 of 20 answered"
echo "PASS"
