#!/usr/bin/env bash
# Operator state survives reloads and restarts (docs/configuration.md, "Operator state"), with
# real nlbd, nginx and curl on 3 hosts:
#   1. `drain 80` on host 2; a `--cluster reload` adds rule alt8081, which sorts before web and
#      so renumbers it: host 2's web stays drained (no new connection reaches it), the log says
#      "operator state kept across the reload";
#   2. nlbd of host 2 is restarted (SIGTERM, start): web is still drained on host 2 (its query
#      says draining; no new connection reaches it), the log says "operator state restored";
#   3. garbage in host 2's state file and a restart: nlbd starts with every rule enabled, logs
#      what is wrong with the file, counts it, and takes new connections again.
source "$(dirname "$0")/datapath_lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

rules_file() {  # rules_file NAME [EXTRA RULE LINE]
  { echo "  port_rules:"
    echo "    - { name: web, ports: 80, protocol: tcp, affinity: none }"
    [ -z "${2:-}" ] || echo "$2"
  } >"$STATE/$1"
}
config() { host_config "$1" --period-ms 300 --tolerance 5 --rules "$STATE/$2"; }
# quick N: N short requests from client 1; prints the answering host per request.
quick() {
  local n host
  for n in $(seq 1 "$1"); do
    host=$(in_client 1 curl -s -o /dev/null -D - --max-time 5 "http://$VIP/" |
      tr -d '\r' | awk -F': ' 'tolower($1)=="x-nlb-host" {print $2}') || true
    echo "${host:-FAILED}"
  done
}
web_state() { control "$1" params | json "[x for x in r['cluster']['port_rules'] if x['name'] == 'web'][0]['state']"; }
# avoids_host2 N WHAT: N new connections all answered, none by host 2.
avoids_host2() {
  local out
  out=$(quick "$1")
  grep -qx FAILED <<<"$out" && fail "$2: a request failed"
  grep -qx 2 <<<"$out" && fail "$2: a new connection reached host 2, whose web is drained"
  note "$2: $1 of $1 new connections avoided host 2 ($(sort <<<"$out" | uniq -c | tr '\n' ' '))"
}
restart_host2() {
  kill_agent 2 TERM
  wait_until 10 "nlbd of host 2 exited" agent_gone 2
  start_agent 2
  wait_until 15 "host 2 back in the cluster" converged_all 1,2,3
}
log2() { cat "$STATE/logs/nlbd-h2.log"; }

lab_start 3
rules_file r1
for i in 1 2 3; do config "$i" r1; done
start_webs 1 2 3
for i in 1 2 3; do start_agent "$i"; done
wait_until 15 "3 hosts converged" converged_all 1,2,3
wait_until 10 "a request through the VIP" curl_ok

# 1. drain, then a cluster reload that adds an unrelated rule before web
ctl 2 drain 80
expect_rc 0 "drain 80 on host 2"
wait_until 10 "converged on the drain" converged_all 1,2,3
sleep 1
avoids_host2 30 "after drain 80"
rules_file r2 "    - { name: alt8081, vip: 198.18.0.101, ports: 8081, protocol: tcp }"
for i in 1 2 3; do config "$i" r2; done
ctl 1 --cluster reload
expect_rc 0 "reload --cluster adding alt8081"
wait_until 10 "converged on the new rules" converged_all 1,2,3
[ "$(web_state 2)" = draining ] || fail "host 2's web is '$(web_state 2)' after the reload, not draining"
sleep 1
avoids_host2 30 "after the cluster reload"
log2 | grep -q "operator state kept across the reload: host active, rule web draining" ||
  fail "host 2 did not log that the drain was kept across the reload"
grep -qx "rule web draining" "$STATE/state-h2" || fail "host 2's state file does not say web drains"

# 2. restart nlbd on host 2
restart_host2
[ "$(web_state 2)" = draining ] || fail "host 2's web is '$(web_state 2)' after the restart, not draining"
sleep 1
avoids_host2 30 "after nlbd restarted on host 2"
log2 | grep -q "operator state restored from $STATE/state-h2: host active, rule web draining" ||
  fail "host 2 did not log the restored state"

# 3. a garbage state file: defaults, a clear line, a counter
kill_agent 2 TERM
wait_until 10 "nlbd of host 2 exited" agent_gone 2
printf ',\n\0\377garbage' >"$STATE/state-h2"
start_agent 2
wait_until 15 "host 2 back in the cluster" converged_all 1,2,3
[ "$(web_state 2)" = enabled ] || fail "host 2's web is '$(web_state 2)' with a garbage state file"
[ "$(report_of 2 "r['errors']['state_file_errors']")" = 1 ] || fail "the garbage state file was not counted"
log2 | grep -q "state file $STATE/state-h2: operator state" ||
  fail "host 2 did not log what is wrong with its state file"
sleep 1
out=$(quick 30)
grep -qx 2 <<<"$out" || fail "host 2 takes no connection with every rule enabled"
note "garbage state file: logged, counted, host 2 serves web again"
echo "PASS"
