#!/usr/bin/env bash
# The log lines an operator relies on (issue 14, point 8), read from real nlbd logs (stderr to a
# file, so each line is timestamped): nlbd --log-level and `nlbctl log-level` (bad levels refused,
# exit 2); a remote command logged with its source address; a reload refused through nlbctl
# logged as an error like a refused SIGHUP; a finished drainstop logged as that, not also as
# "stopped by operator".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

lab_start 2
host_config 1 --period-ms 250 --tolerance 12
host_config 2 --period-ms 250 --tolerance 12
start_agent 1
# Host 2 by hand, to give it --log-level; its PID file lets the lab's teardown stop it.
log2=$STATE/logs/nlbd-h2.log
in_host 2 "$NLBD" --config "$STATE/h2.yaml" --log-level warning >>"$log2" 2>&1 </dev/null &
echo $! >"$STATE/pids/nlbd-h2"
for i in 1 2; do wait_until 15 "host $i converged with 1,2" members_are "$i" "1,2"; done
log1=$STATE/logs/nlbd-h1.log

# Levels: host 2 at warning wrote no NOTICE line (not even "started"); log-level changes that.
grep -q "NOTICE" "$log2" && fail "host 2 at --log-level warning wrote notices: $(cat "$log2")"
grep -q "started on eth0" "$log1" || fail "host 1 at the default level did not log its start"
ctl 2 log-level verbose
expect_rc 2 "log-level with a bad level"
expect_err "'verbose' is not a log level" "log-level verbose"
ctl 2 log-level notice
expect_rc 0 "log-level notice"
ctl 2 stop
expect_rc 0 "stop host 2"
grep -q "log level notice (was warning) by operator" "$log2" || fail "no log-level line: $(cat "$log2")"
grep -q "host stopped by operator" "$log2" || fail "host 2 at notice did not log its stop"
ctl 2 start
expect_rc 0 "start host 2"
note "--log-level warning kept notices out; nlbctl log-level notice let them in; 'verbose' refused"

# Timestamps: stderr is a file, not the journal.
bad=$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (ERROR|WARN|NOTICE|INFO|DEBUG) +[a-z]+: ' "$log1" || true)
[ "$bad" -eq 0 ] || fail "$bad lines of host 1's log lack a timestamp and level: $(head -n 5 "$log1")"
note "every line of a file log starts with a UTC timestamp and the level"

# A remote command names where it came from.
rctl 1 --host 198.18.1.1 stop
expect_rc 0 "remote stop of host 1"
grep -qE "control: remote request 'stop' from 198\.18\.2\.[0-9]+" "$log1" ||
  fail "the remote stop is not logged with its source: $(tail -n 5 "$log1")"
rctl 1 --host 198.18.1.1 start
expect_rc 0 "remote start of host 1"
(umask 077; head -c 32 /dev/urandom | base64 >"$STATE/wrong.key")
RC=0
OUT=$(in_client 1 "$NLBCTL" --host 198.18.1.1 --key "$STATE/wrong.key" query 2>"$STATE/ctl.err") || RC=$?
ERR=$(cat "$STATE/ctl.err")
expect_rc 5 "a wrong key"
note "a wrong key says: $ERR"
wait_until 10 "the refused handshake is logged with its source" \
  grep -qE "refused remote control handshake from 198\.18\.2\.[0-9]+" "$log1"
note "remote commands and refused handshakes logged with the client's address"

# A reload refused through nlbctl is an error line, like a refused SIGHUP.
cp "$STATE/h1.yaml" "$STATE/h1.good.yaml"
sed -i 's/ports: 80/ports: 70000/' "$STATE/h1.yaml"
ctl 1 reload
expect_rc 2 "reload of a broken file"
grep -qE "ERROR +reload: nlbctl reload: reload refused.*" "$log1" ||
  fail "the refused nlbctl reload is not logged: $(tail -n 5 "$log1")"
kill_agent 1 HUP
wait_until 10 "the refused SIGHUP is logged" grep -qE "ERROR +reload: SIGHUP: reload refused" "$log1"
grep -q "70000 is not a port" "$log1" || fail "the refusal's reason is not logged"
cp "$STATE/h1.good.yaml" "$STATE/h1.yaml"
note "refused reloads logged as errors, through nlbctl and on SIGHUP alike"

# A drainstop that finishes (no connections) is logged as that, and not as an operator's stop.
wait_until 15 "host 1 back with 1,2" members_are 1 "1,2"
stops_before=$(grep -c "host stopped by operator" "$log1" || true)
ctl 1 drainstop
expect_rc 0 "drainstop of host 1"
wait_until 15 "host 1's drainstop completes" grep -q "drainstop complete" "$log1"
sleep 0.5
stops_after=$(grep -c "host stopped by operator" "$log1" || true)
[ "$stops_after" -eq "$stops_before" ] ||
  fail "a finished drainstop was also logged as 'host stopped by operator'"
ctl 1 --json params
check_json "sum('stopped by operator' in e for e in r['events']) == $stops_before" "events"
note "a finished drainstop: one 'drainstop complete' line, no 'stopped by operator'"
echo "PASS"
