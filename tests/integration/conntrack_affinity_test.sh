#!/usr/bin/env bash
# An affinity change breaks no connection (docs/connection-tracking.md, "Affinity changes"), with
# real nlbd, nginx and curl. Slow downloads (2 MB at 200 kB/s, about 10 s each) from one client
# run while `nlbctl --cluster reload` changes rule web's affinity:
#   1. none -> single: the downloads were spread over the 3 hosts by client port; under single
#      they all hash into one bucket, so two thirds of them now fall in another host's bucket.
#      Every download ends whole, the other hosts hold web's buckets while their downloads run,
#      every host logs the change, and afterwards new connections all go to the one owner of the
#      client's bucket;
#   2. single -> none: the downloads all ran on that host; every one ends whole, and new
#      connections are spread over the 3 hosts again.
source "$(dirname "$0")/conntrack_lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

DOWNLOADS=12

rules_file() {  # rules_file AFFINITY
  { echo "  port_rules:"
    echo "    - { name: web, ports: 80, protocol: tcp, affinity: $1 }"
  } >"$STATE/rules-$1"
}
config() { host_config "$1" --period-ms 300 --tolerance 5 --rules "$STATE/rules-$2"; }
holding() { report_of "$1" "r['connections']['rules'][0]['moving_away_buckets']"; }
holds_nothing() { local i; for i in 1 2 3; do [ "$(holding "$i")" = 0 ] || return 1; done; }
# reload_affinity AFFINITY: every host's file gets web with AFFINITY, one reload --cluster.
reload_affinity() {
  local i
  rules_file "$1"
  for i in 1 2 3; do config "$i" "$1"; done
  ctl 1 --cluster reload
  expect_rc 0 "reload --cluster to affinity $1"
  for i in 1 2 3; do
    [ "$(control "$i" params | json "r['cluster']['port_rules'][0]['affinity']")" = "$1" ] ||
      fail "host $i's web affinity after the reload is not $1"
  done
}

lab_start 3
rules_file none
for i in 1 2 3; do config "$i" none; done
start_webs 1 2 3
for i in 1 2 3; do start_agent "$i"; done
wait_until 15 "3 hosts converged" converged_all 1,2,3
wait_until 10 "a request through the VIP" curl_ok
note "3 hosts converged, web affinity none"

# 1. none -> single while downloads run on every host
downloads single
sleep 2
reload_affinity single
wait_until 10 "converged on affinity single" converged_all 1,2,3
held=$(( $(holding 1) + $(holding 2) + $(holding 3) ))
[ "$held" -gt 0 ] || fail "no host holds a bucket of web after the affinity change: nothing moved"
for i in 1 2 3; do
  grep -q "reload changed the affinity of web (affinity none -> single)" \
    "$STATE/logs/nlbd-h$i.log" || fail "host $i did not log the affinity change"
done
note "affinity none -> single: hosts hold $held buckets of web with running downloads"
wait_until 90 "the downloads under the change finished" finished single
judge single
[ "$(broken single | tr ' ' '\n' | grep -c '^h')" -ge 2 ] ||
  fail "the downloads ran on fewer than 2 hosts: the change moved no connection ($(broken single))"
wait_until 30 "the holders let go of web's buckets" holds_nothing
out=$(quick 20)
grep -qx FAILED <<<"$out" && fail "a request failed under affinity single"
[ "$(sort -u <<<"$out" | wc -l)" -eq 1 ] ||
  fail "one client reached several hosts under affinity single: $(sort <<<"$out" | uniq -c | tr '\n' ' ')"
note "under affinity single every new connection of the client goes to host $(head -1 <<<"$out")"

# 2. single -> none while downloads run on the client's one host
downloads none
sleep 2
reload_affinity none
wait_until 10 "converged on affinity none" converged_all 1,2,3
wait_until 90 "the downloads under the change back finished" finished none
judge none
wait_until 30 "the holders let go of web's buckets" holds_nothing
out=$(quick 30)
grep -qx FAILED <<<"$out" && fail "a request failed under affinity none"
[ "$(sort -u <<<"$out" | wc -l)" -eq 3 ] ||
  fail "new connections not spread over 3 hosts under affinity none: $(sort <<<"$out" | uniq -c | tr '\n' ' ')"
note "affinity single -> none: downloads whole, new connections spread over hosts 1,2,3"
echo "PASS"
