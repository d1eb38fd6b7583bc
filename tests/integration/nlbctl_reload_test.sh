#!/usr/bin/env bash
# Reloading the configuration with the real nlbctl: a broken file keeps the running rules serving
# (exit 2); `reload --cluster` changes nothing when one host's file is broken or the new files
# differ between hosts (exit 2, a table of why); and a cluster-wide rule change applied with
# `reload --cluster` in the middle of client traffic loses no request.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

lab_start 3
start_web_cluster 3 --period-ms 200 --tolerance 3
wait_until 10 "a request through the VIP" curl_ok
digest_of() { control "$1" params | json "r['cluster']['digest']"; }
rules_of() { control "$1" params | json "','.join(p['name'] for p in r['cluster']['port_rules'])"; }
old=$(digest_of 1)
for i in 2 3; do [ "$(digest_of "$i")" = "$old" ] || fail "host $i runs another digest"; done

rules_file() {  # rules_file NAME PORT...: a port_rules block with web (80) and one rule per PORT
  local name=$1 port; shift
  { echo "  port_rules:"
    echo "    - { name: web, ports: 80, protocol: tcp, affinity: none }"
    for port in "$@"; do echo "    - { name: alt$port, ports: $port, protocol: tcp }"; done
  } >"$STATE/$name"
}

# One host, a broken file: refused with the error, the old rules keep serving.
cp "$STATE/h1.yaml" "$STATE/h1.good"
rules_file broken.rules 70000
host_config 1 --period-ms 200 --tolerance 3 --rules "$STATE/broken.rules"
ctl 1 reload
expect_rc 2 "reload of a broken file"
expect_err "70000 is not a port" "reload of a broken file"
[ "$(digest_of 1)" = "$old" ] && [ "$(rules_of 1)" = web ] || fail "a broken reload changed host 1"
[ "$(report_of 1 "r['errors']['reload_failures']")" -eq 1 ] || fail "reload_failures not counted"
out=$(requests 30)
[ "$(grep -c FAILED <<<"$out")" -eq 0 ] || fail "requests failed after a broken reload: $out"
members_are 1 "1,2,3" || fail "host 1 left the cluster after a broken reload"
note "a broken file: reload exit 2, old rules serve on"

# reload --cluster with host 1's file still broken: checked everywhere, nothing changed.
rules_file new.rules 8080
for i in 2 3; do host_config "$i" --period-ms 200 --tolerance 3 --rules "$STATE/new.rules"; done
ctl 2 --cluster reload
expect_rc 2 "reload --cluster with host 1's file broken"
expect_err "reload --cluster aborted, no host was changed: host 1 would not reload" "abort"
grep -qE '^1 +198\.18\.1\.1 +invalid: .*70000 is not a port' <<<"$OUT" || fail "host 1's row: $OUT"
grep -qE '^3 +198\.18\.1\.3 +ok: new digest [0-9a-f]{12} \(running '"${old:0:12}"'\)' <<<"$OUT" ||
  fail "host 3's row: $OUT"
for i in 1 2 3; do [ "$(digest_of "$i")" = "$old" ] || fail "host $i changed by an aborted reload"; done
note "reload --cluster with one broken file: exit 2, nothing changed"

# Host 1's file differs from the others' (another new rule): nothing changed either.
rules_file other.rules 8081
host_config 1 --period-ms 200 --tolerance 3 --rules "$STATE/other.rules"
ctl 1 --cluster --json reload
expect_rc 2 "reload --cluster with differing files"
check_json "not r['ok'] and 'reloads' not in r and len(r['checks']) == 3" "aborted JSON"
check_json "len({c['digest'] for c in r['checks']}) == 2 and all(c['running_digest'] == '$old' for c in r['checks'])" "checks"
expect_err "would switch to another cluster section than host 1 (the files differ)" "differing"
for i in 1 2 3; do [ "$(digest_of "$i")" = "$old" ] || fail "host $i changed by an aborted reload"; done
note "reload --cluster with differing files: exit 2, nothing changed"

# The same new rule everywhere, during client traffic: every request succeeds.
host_config 1 --period-ms 200 --tolerance 3 --rules "$STATE/new.rules"
ip netns exec "nlb-$RUN-c1" timeout 60 bash -c '
  for n in $(seq 1 250); do
    curl -s -o /dev/null -m 3 --interface 198.18.$((2 + n % 8)).1 http://198.18.0.100/
    echo "$n $?"
    sleep 0.02
  done' >"$STATE/loop.out" 2>&1 &
loop=$!
loop_running() { [ "$(wc -l <"$STATE/loop.out")" -ge 40 ]; }
wait_until 20 "40 requests of the background loop" loop_running
ctl 3 --cluster --json reload
expect_rc 0 "reload --cluster of a new rule"
check_json "r['ok'] and len(r['checks']) == 3 and len(r['reloads']) == 3 and all(x['ok'] for x in r['reloads'])" "reload JSON"
new=$(out_json "r['digest']")
[ "$new" != "$old" ] || fail "the new rule did not change the digest"
during=$(wc -l <"$STATE/loop.out")
wait "$loop" || fail "the background loop ended with $?"
[ "$(wc -l <"$STATE/loop.out")" -eq 250 ] || fail "the loop did not run 250 requests"
[ "$during" -lt 240 ] || fail "the reload came after the traffic ($during of 250 done)"
failed=$(awk '$2 != 0' "$STATE/loop.out")
[ -z "$failed" ] || fail "requests failed across reload --cluster (request, curl exit): $failed"
for i in 1 2 3; do
  [ "$(digest_of "$i")" = "$new" ] || fail "host $i does not run the new digest"
  [ "$(rules_of "$i")" = "web,alt8080" ] || fail "host $i's rules: $(rules_of "$i")"
  wait_until 10 "host $i converged with 1,2,3 on the new rules" members_are "$i" "1,2,3"
done
owned=0
for i in 1 2 3; do owned=$((owned + $(report_of "$i" "r['rules'][1]['buckets_owned']"))); done
[ "$owned" -eq 16384 ] || fail "the new rule's buckets owned add up to $owned"
ctl 1 --cluster reload
expect_rc 0 "reload --cluster again, files unchanged"
grep -q "(same as running)" <<<"$OUT" && fail "a passing check printed its table: $OUT"
[ "$(head -n 1 <<<"$OUT")" = "every host checked its file: all 3 would switch to cluster digest ${new:0:12}; reloaded:" ] ||
  fail "reload --cluster printed: $OUT"
note "reload --cluster during traffic: 250 of 250 requests ok (reload after $during); all on ${new:0:12}"
echo "PASS"
