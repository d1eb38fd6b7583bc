#!/usr/bin/env bash
# Port rules end to end, 3 hosts, nginx on ports 80 and 8081-8084 of every host:
#   8081 affinity single:   each client address stays on one host across 12 connections
#   8082 affinity network:  the four addresses of each client /24 stay on one host
#   8083 single-host rule:  priorities h1=3 h2=1 h3=2 -> host 2; host 2 killed -> host 3
#   8084 disabled rule:     connections time out, and every host counts rule_disabled
#   80 (no rule):           the default host, the lowest live id (1; 3 once 1 and 2 are gone)
# Each rule is also checked to spread or to concentrate where it should, so that a data path that
# sent everything to one host (or spread everything) would fail.
source "$(dirname "$0")/datapath_lib.sh"

lab_start 3
cat >"$STATE/rules.yaml" <<'YAML'
  port_rules:
    - { name: sticky, vip: 198.18.0.100, ports: 8081, protocol: tcp, affinity: single }
    - { name: subnet, vip: 198.18.0.100, ports: 8082, protocol: tcp, affinity: network }
    - { name: one, vip: 198.18.0.100, ports: 8083, protocol: tcp, mode: single }
    - { name: off, vip: 198.18.0.100, ports: 8084, protocol: tcp, mode: disabled }
YAML
prio=(0 3 1 2)
for i in 1 2 3; do
  printf '  rules:\n    - { rule: one, priority: %d }\n' "${prio[$i]}" >"$STATE/host-rules-$i.yaml"
  host_config "$i" --period-ms 200 --tolerance 3 --rules "$STATE/rules.yaml" \
    --host-rules "$STATE/host-rules-$i.yaml"
done
start_webs 1 2 3
for i in 1 2 3; do start_agent "$i"; done
wait_until 15 "hosts converged" converged_all 1,2,3
note "3 hosts converged with 4 rules"

# Four addresses in each of the client's 8 /24s.
for n in 2 3 4 5 6 7 8 9; do
  for a in 50 51 52; do in_client 1 ip addr add "198.18.$n.$a/16" dev eth0; done
done
SUBNET_SOURCES=$(for n in 2 3 4 5 6 7 8 9; do for a in 1 50 51 52; do printf '198.18.%d.%d,' $n $a; done; done)
SUBNET_SOURCES=${SUBNET_SOURCES%,}

# http_to PORT COUNT [SOURCES] [FIRST_PORT]: the tool's JSON; every request must be answered.
http_to() {
  local out
  out=$(client_tool http --vip "$VIP" --port "$1" --count "$2" --sources "${3:-$SOURCES}" \
        --first-port "${4:-21000}")
  [ "$(json "r['answered']" <<<"$out")" = "$2" ] ||
    fail "port $1: $(json "r['answered']" <<<"$out") of $2 answered: $(json "r['failures'][:3]" <<<"$out")"
  echo "$out"
}

# Affinity single: 8 addresses x 12 connections, each address on exactly one host, > 1 host used.
out=$(http_to 8081 96)
json "all(len(h) == 1 for h in r['by_source'].values())" <<<"$out" | grep -qx True ||
  fail "affinity single split a client address: $(json "r['by_source']" <<<"$out")"
[ "$(json "len(r['by_host'])" <<<"$out")" -ge 2 ] || fail "affinity single used one host only"
note "affinity single: $(json "sorted((s, list(h)[0]) for s, h in r['by_source'].items())" <<<"$out")"

# Affinity network: 32 addresses in 8 /24s x 3 connections; each /24 on one host, > 1 host used.
out=$(http_to 8082 96 "$SUBNET_SOURCES" 22000)
by_net=$(python3 -c '
import json, sys
r = json.load(sys.stdin); m = {}
for source, hosts in r["by_source"].items(): m.setdefault(source.rsplit(".", 1)[0], set()).update(hosts)
print(json.dumps({net: sorted(h) for net, h in sorted(m.items())}))' <<<"$out")
python3 -c '
import json, sys
m = json.loads(sys.argv[1])
sys.exit(0 if all(len(h) == 1 for h in m.values()) and len({h[0] for h in m.values()}) >= 2 else 1)' "$by_net" ||
  fail "affinity network: hosts per /24 $by_net"
[ "$(json "len(r['by_source'])" <<<"$out")" = 32 ] || fail "affinity network: not all 32 sources answered"
note "affinity network: $by_net"

# Single-host rule: all to host 2 (best priority); uncovered port 80: all to host 1 (default).
out=$(http_to 8083 24)
[ "$(json "r['by_host']" <<<"$out")" = "{'2': 24}" ] || fail "single-host rule: $(json "r['by_host']" <<<"$out"), want all on host 2"
out=$(http_to 80 24 "$SOURCES" 23000)
[ "$(json "r['by_host']" <<<"$out")" = "{'1': 24}" ] || fail "uncovered traffic: $(json "r['by_host']" <<<"$out"), want all on host 1"
note "single-host rule -> host 2, uncovered -> host 1"

# Disabled rule: nobody answers; every host counts the SYNs as rule_disabled.
before=$(control 1 report | json "r['packets']['by_reason']['rule_disabled']['packets']")
out=$(client_tool http --vip "$VIP" --port 8084 --count 2 --sources "$SOURCES" --first-port 24000 --timeout 2)
[ "$(json "r['answered']" <<<"$out")" = 0 ] || fail "disabled rule answered: $out"
json "r['failures']" <<<"$out" | grep -q "timed out" || fail "disabled rule: want timeouts, got $out"
for i in 1 2 3; do
  n=$(control "$i" report | json "r['packets']['by_reason']['rule_disabled']['packets']")
  [ "$n" -gt 0 ] || fail "host $i counted no rule_disabled packet"
done
after=$(control 1 report | json "r['packets']['by_reason']['rule_disabled']['packets']")
[ "$after" -ge $((before + 2)) ] || fail "host 1 rule_disabled $before -> $after for 2 SYNs"
note "disabled rule: timeouts, rule_disabled counted ($before -> $after on host 1)"

# Fail-over: host 2 killed -> the single-host rule goes to host 3 (priority 2), not to host 1.
kill_agent 2 KILL
wait_until 10 "hosts 1 and 3 converged without host 2" converged_all 1,3
out=$(http_to 8083 24 "$SOURCES" 25000)
[ "$(json "r['by_host']" <<<"$out")" = "{'3': 24}" ] || fail "after host 2 died, single-host rule: $(json "r['by_host']" <<<"$out"), want host 3"
out=$(http_to 80 24 "$SOURCES" 26000)
[ "$(json "r['by_host']" <<<"$out")" = "{'1': 24}" ] || fail "after host 2 died, uncovered: $(json "r['by_host']" <<<"$out"), want host 1"
note "host 2 killed: single-host rule -> host 3, uncovered still -> host 1"

# Default host follows the lowest live id.
kill_agent 1 KILL
wait_until 10 "host 3 alone" converged_all 3
out=$(http_to 80 24 "$SOURCES" 27000)
[ "$(json "r['by_host']" <<<"$out")" = "{'3': 24}" ] || fail "after host 1 died, uncovered: $(json "r['by_host']" <<<"$out"), want host 3"
note "host 1 killed: uncovered -> host 3"
echo "PASS"
