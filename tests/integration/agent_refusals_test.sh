#!/usr/bin/env bash
# What a refused start or a refused file must not do to the running agent (issue 14, points 4, 6
# and 7): a second nlbd with the same cluster and host id in another network namespace sharing
# /run is refused and leaves the running agent's control socket in place; a host file with a YAML
# syntax error still lets local nlbctl reach the agent (query answers, reload is refused with the
# syntax error); a file holding ',' (which made yaml-cpp 0.7's LoadAll allocate until bad_alloc)
# is refused by `nlbctl reload` in bounded time and the agent keeps its rules.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

lab_start 2
host_config 1 --period-ms 250 --tolerance 12
start_agent 1
wait_until 15 "host 1 converged alone" members_are 1 "1"
socket=/run/nlb/lab-$RUN-1.sock
pid=$(cat "$STATE/pids/nlbd-h1")

# Point 6: host 1's identity started in host 2's namespace (its own lock, the same /run).
sed 's|dedicated_address: 198.18.1.1|dedicated_address: 198.18.1.2|' "$STATE/h1.yaml" \
  >"$STATE/twin.yaml"
rc=0
out=$(in_host 2 timeout 20 "$NLBD" --config "$STATE/twin.yaml" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "the twin nlbd: exit $rc, want 1; said: $out"
grep -qF "is in use by another nlbd" <<<"$out" || fail "the twin's refusal does not say why: $out"
[ -S "$socket" ] || fail "the refused twin deleted the running agent's control socket"
members_are 1 "1" || fail "the running agent does not answer on its socket after the twin"
note "a twin nlbd in another namespace sharing /run: refused (exit 1), the socket stays"

# Point 7: a YAML syntax error in the host's file does not lock nlbctl out.
cp "$STATE/h1.yaml" "$STATE/h1.good.yaml"
sed -i 's|    - name: web|    - { name: web|' "$STATE/h1.yaml"
ctl 1 --json query
expect_rc 0 "query with a syntax error in the host's file"
check_json "r['ok'] and r['host'] == 1" "query with a broken file"
ctl 1 reload
expect_rc 2 "reload of a file with a syntax error"
expect_err "YAML syntax error" "reload of a file with a syntax error"
expect_err "the running configuration stays in force" "reload of a file with a syntax error"
note "syntax error in the file: query answers, reload refused (exit 2) naming the error"

# Point 4: the one-comma file, through the running agent.
printf ',' >"$STATE/h1.yaml"
start=$(date +%s)
# nlbctl cannot find the socket in such a file (it says so, exit 2); --socket names it, so the
# agent itself reads the file.
ctl 1 reload
expect_rc 2 "nlbctl reading a file holding ','"
expect_err "unexpected ','" "nlbctl reading a file holding ','"
ctl 1 --socket "$socket" reload
expect_rc 2 "reload of a file holding ','"
expect_err "unexpected ','" "reload of a file holding ','"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "the ',' reload took $(( $(date +%s) - start )) s"
kill -0 "$pid" || fail "nlbd died on a reload of a file holding ','"
cp "$STATE/h1.good.yaml" "$STATE/h1.yaml"
ctl 1 --json params
expect_rc 0 "params after the refused reloads"
check_json "[p['name'] for p in r['cluster']['port_rules']] == ['web']" "the rules stayed"
[ "$(report_of 1 "r['errors']['reload_failures']")" -eq 2 ] || fail "reload_failures did not count the 2 refusals"
note "a file holding ',': reload refused (exit 2) at once, nlbd alive, its rules in force"
echo "PASS"
