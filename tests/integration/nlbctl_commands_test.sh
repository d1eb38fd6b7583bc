#!/usr/bin/env bash
# Every nlbctl command end to end: the real nlbctl against real nlbd processes (3 hosts, nginx on
# each), locally inside a host's namespace and remotely over TLS from the client's; --json
# replies parsed and checked; each command's effect seen in real HTTP traffic through the VIP.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

lab_start 3
start_web_cluster 3 --period-ms 200 --tolerance 3
wait_until 10 "a request through the VIP" curl_ok

# states_are I "1:converged,2:stopped,...": host I's view of every member's state.
states_are() {
  [ "$(control "$1" query | json "','.join('%d:%s' % (m['id'], m['state']) for m in r['members'])")" = "$2" ]
}

# query / params / report: sane values, locally and remotely.
ctl 1 query
expect_rc 0 "query"
[ "$(head -n 1 <<<"$OUT")" = "host 1: query ok" ] || fail "query's first line: $OUT"
grep -qE '^  2 +198\.18\.1\.2 +converged' <<<"$OUT" || fail "query's table lacks host 2: $OUT"
ctl 1 --json query
expect_rc 0 "query --json"
check_json "r['ok'] and r['host'] == 1 and r['cluster'] == 'lab-$RUN' and r['converged']" "query"
check_json "[(m['id'], m['address']) for m in r['members']] == [(1, '198.18.1.1'), (2, '198.18.1.2'), (3, '198.18.1.3')]" "query members"
check_json "r['kept_out'] == [] and r['default_host'] in (1, 2, 3) and r['generation'] >= 1" "query"
rctl 1 --host 198.18.1.2 --json query
expect_rc 0 "remote query of host 2"
check_json "r['host'] == 2 and [m['id'] for m in r['members']] == [1, 2, 3]" "remote query"
ctl 2 --json params
expect_rc 0 "params"
check_json "r['host'] == 2 and r['cluster']['vips'][0] == '198.18.0.100' and len(r['cluster']['digest']) == 64" "params"
check_json "[(p['name'], p['state'], p['affinity']) for p in r['cluster']['port_rules']] == [('web', 'enabled', 'none')]" "params rules"
check_json "r['host_config']['id'] == 2 and r['host_config']['role'] == 'active' and not r['host_config']['suspended']" "params host"
digest=$(out_json "r['cluster']['digest']")
for i in 1 3; do
  rctl 1 --host "198.18.1.$i" --json params
  expect_rc 0 "remote params of host $i"
  check_json "r['cluster']['digest'] == '$digest'" "host $i runs the same cluster section"
done
note "query and params agree on every host"

# report: every bucket owned by exactly one host, and the packets every host accepted add up to
# the packets the client sent to the VIP (counted by an nftables counter in the client), in all
# and for rule web (packets.rules, the only rule).
owned=0
for i in 1 2 3; do owned=$((owned + $(report_of "$i" "r['rules'][0]['buckets_owned']"))); done
[ "$owned" -eq "$(report_of 1 "r['rules'][0]['buckets']")" ] || fail "buckets owned add up to $owned"
in_client 1 nft -f - <<'NFT'
table inet nlbctltest {
  chain out { type filter hook output priority 0; ip daddr 198.18.0.100 counter; }
}
NFT
sent_to_vip() {
  in_client 1 nft -j list table inet nlbctltest | python3 -c "
import json, sys
for o in json.load(sys.stdin)['nftables']:
    for e in o.get('rule', {}).get('expr', []):
        if 'counter' in e: print(e['counter']['packets'])"
}
# accepted_sum [RULE]: the hosts' accepted packets, in all or of RULE.
accepted_sum() {
  local i sum=0 expr="r['packets']['accepted']"
  [ -z "${1:-}" ] || expr="[x for x in r['packets']['rules'] if x['name'] == '$1'][0]['accepted']"
  for i in 1 2 3; do sum=$((sum + $(report_of "$i" "$expr"))); done
  echo "$sum"
}
base=$(accepted_sum) web_base=$(accepted_sum web)
out=$(requests 40)
[ "$(grep -c FAILED <<<"$out")" -eq 0 ] || fail "requests failed with every host up: $out"
adds_up() {
  local sent
  sent=$(sent_to_vip)
  [ $(( $(accepted_sum) - base )) -eq "$sent" ] && [ $(( $(accepted_sum web) - web_base )) -eq "$sent" ]
}
wait_until 5 "accepted packets over hosts = packets the client sent ($(sent_to_vip))" adds_up
note "report: buckets add up to $owned; accepted over hosts = $(sent_to_vip) packets sent"
# The readable report: the per-rule packets as a table of their own, within 100 columns.
ctl 1 report
expect_rc 0 "report"
table=$(sed -n '/^packets\.rules:$/,/^$/p' <<<"$OUT")
grep -qE '^  NAME +ACCEPTED +ACCEPTED_BYTES +DROPPED +DROPPED_BYTES$' <<<"$table" &&
  grep -qE '^  web +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' <<<"$table" ||
  fail "report's packets.rules table: $OUT"
[ -z "$(awk 'length > 100' <<<"$table")" ] || fail "packets.rules wider than 100 columns: $table"

# disable / enable a rule on every host (--cluster, from host 1's local socket).
ctl 1 --cluster --json disable 80
expect_rc 0 "--cluster disable 80"
check_json "len(r) == 3 and all(h['ok'] for h in r) and sorted(h['host'] for h in r) == [1, 2, 3]" "disable"
for i in 1 2 3; do
  ctl "$i" --json params
  check_json "r['cluster']['port_rules'][0]['state'] == 'disabled'" "host $i's rule after disable"
done
wait_until 10 "a request fails with the rule disabled" bash -c "! ip netns exec nlb-$RUN-c1 curl -sS -m 2 http://198.18.0.100/"
all_fail 4 || fail "a host still accepts the disabled rule"
ctl 1 --cluster disable 80
expect_rc 4 "disable again"
grep -qE '^2 +198\.18\.1\.2 +already: ' <<<"$OUT" || fail "disable again: $OUT"
note "disable --cluster: no host accepts port 80; again: already (exit 4)"
ctl 1 --cluster enable 198.18.0.100:80
expect_rc 0 "--cluster enable"
[ "$(head -n 1 <<<"$OUT")" = "HOST  ADDRESS     RESULT" ] || fail "enable's table: $OUT"
wait_until 10 "a request through the VIP after enable" curl_ok
out=$(requests 30)
[ "$(grep -c FAILED <<<"$out")" -eq 0 ] || fail "requests failed after enable: $out"
note "enable --cluster: served again"

# stop one host (remotely): the others take its share; start brings it back.
rctl 1 --host 198.18.1.2 stop
expect_rc 0 "remote stop of host 2"
[ "$(head -n 1 <<<"$OUT")" = "host 2: stop ok" ] || fail "stop printed: $OUT"
for i in 1 2 3; do
  wait_until 10 "host $i sees host 2 stopped" states_are "$i" "1:converged,2:stopped,3:converged"
done
ctl 2 --json query
check_json "r['state'] == 'stopped'" "host 2 after stop"
[ "$(report_of 2 "r['rules'][0]['buckets_owned']")" -eq 0 ] || fail "stopped host 2 owns buckets"
out=$(requests 60)
[ "$(grep -c FAILED <<<"$out")" -eq 0 ] || fail "requests failed with host 2 stopped: $out"
! grep -q "host 2" <<<"$out" || fail "host 2 served while stopped"
rctl 1 --host 198.18.1.2 stop
expect_rc 4 "stop again"
expect_err "is already stopped" "stop again"
note "stop: hosts 1 and 3 served all 60 requests; stop again: exit 4"
rctl 1 --host 198.18.1.2 --json start
expect_rc 0 "remote start of host 2"
check_json "r['ok'] and r['host'] == 2" "start"
all_converged() { states_are "$1" "1:converged,2:converged,3:converged"; }
for i in 1 2 3; do wait_until 10 "host $i: every host converged after start" all_converged "$i"; done
out=$(requests 60)
[ "$(grep -c FAILED <<<"$out")" -eq 0 ] || fail "requests failed after start: $out"
grep -q "host 2" <<<"$out" || fail "host 2 served none of 60 requests after start"
note "start: host 2 serves again"

# drainstop: the host ends stopped, and takes no traffic.
ctl 3 drainstop
expect_rc 0 "drainstop"
[ "$(head -n 1 <<<"$OUT")" = "host 3: drainstop ok" ] || fail "drainstop printed: $OUT"
host_state_is() { [ "$(control "$1" query | json "r['state']")" = "$2" ]; }
# Connections closed by the requests above stay tracked for the close delay (10 s) first.
wait_until 30 "host 3 stopped after drainstop" host_state_is 3 stopped
for i in 1 2; do
  wait_until 10 "host $i sees host 3 stopped" states_are "$i" "1:converged,2:converged,3:stopped"
done
out=$(requests 40)
[ "$(grep -c FAILED <<<"$out")" -eq 0 ] || fail "requests failed with host 3 drained: $out"
! grep -q "host 3" <<<"$out" || fail "host 3 served after drainstop"
ctl 3 drainstop
expect_rc 4 "drainstop of a stopped host"
ctl 3 start
expect_rc 0 "start host 3"
for i in 1 2 3; do wait_until 10 "host $i: every host converged" all_converged "$i"; done
note "drainstop: host 3 ended stopped and served nothing; started again"

# suspend: remote commands refused (5) but query, params, report and resume.
refused_before=$(report_of 1 "r['errors']['control_refused_remote']")
ctl 1 suspend
expect_rc 0 "suspend"
for cmd in start stop drainstop "disable 80" "enable 80" reload suspend; do
  # shellcheck disable=SC2086
  rctl 1 --host 198.18.1.1 $cmd
  expect_rc 5 "remote $cmd of a suspended host"
  expect_err "host 1: ${cmd%% *} refused: host 1 is suspended" "remote $cmd"
done
for cmd in query params report; do
  rctl 1 --host 198.18.1.1 --json $cmd
  expect_rc 0 "remote $cmd of a suspended host"
  check_json "r['ok'] and r['host'] == 1" "remote $cmd"
done
[ "$(report_of 1 "r['errors']['control_refused_remote']")" -eq $((refused_before + 7)) ] ||
  fail "control_refused_remote did not count the 7 refusals"
for i in 2 3; do
  wait_until 10 "host $i sees host 1 suspended" states_are "$i" "1:suspended,2:converged,3:converged"
done
out=$(requests 30)
[ "$(grep -c FAILED <<<"$out")" -eq 0 ] || fail "requests failed with host 1 suspended: $out"
! grep -q "host 1" <<<"$out" || fail "host 1 served while suspended"
rctl 1 --host 198.18.1.1 resume
expect_rc 0 "remote resume"
ctl 1 --json query
check_json "r['state'] == 'stopped'" "host 1 after resume"
rctl 1 --host 198.18.1.1 start
expect_rc 0 "remote start after resume"
for i in 1 2 3; do wait_until 10 "host $i: every host converged" all_converged "$i"; done
note "suspend: 7 remote commands refused (exit 5), reads answered, resume accepted remotely"
echo "PASS"
