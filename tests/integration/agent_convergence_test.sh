#!/usr/bin/env bash
# Real nlbd processes converge, reconverge after kill -9, take a restarted host back, and keep out
# (and name) a host whose port rules differ. Heartbeat period 200 ms, tolerance 3, to stay quick.
source "$(dirname "$0")/lib.sh"

lab_start 4
for i in 1 2 3; do host_config "$i" --period-ms 200 --tolerance 3; done
for i in 1 2 3; do start_agent "$i"; done
for i in 1 2 3; do wait_until 10 "host $i converged with 1,2,3" members_are "$i" "1,2,3"; done
note "3 hosts converged"

kill_agent 2 KILL
for i in 1 3; do wait_until 10 "host $i converged without host 2" members_are "$i" "1,3"; done
cause=$(control 1 query | json "r['last_convergence']['cause']")
[ "$cause" = "host 2 left" ] || fail "cause of the last convergence: '$cause', want 'host 2 left'"
note "host 2 killed: 1 and 3 reconverged ($cause)"

start_agent 2
for i in 1 2 3; do wait_until 10 "host $i converged with 1,2,3 again" members_are "$i" "1,2,3"; done
note "host 2 restarted and rejoined"

# Host 4 has a different rule set: the others keep it out and say why; it knows it is out.
cat >"$STATE/other-rules.yaml" <<'YAML'
  port_rules:
    - name: web
      ports: 8080
      protocol: tcp
YAML
host_config 4 --period-ms 200 --tolerance 3 --rules "$STATE/other-rules.yaml"
start_agent 4
kept_out_by() {
  [ "$(control "$1" query | json "','.join('%d:%s' % (k['id'], k['reason']) for k in r['kept_out'])")" = "4:mismatched rules" ]
}
for i in 1 2 3; do wait_until 10 "host $i names host 4 as kept out" kept_out_by "$i"; done
for i in 1 2 3; do members_are "$i" "1,2,3" || fail "host $i lost members when host 4 appeared"; done
state4=$(control 4 query | json "r['state']")
case "$state4" in "kept out"*) ;; *) fail "host 4 says its state is '$state4'" ;; esac
note "host 4 with other rules kept out and named by every member; it says: $state4"
echo "PASS"
