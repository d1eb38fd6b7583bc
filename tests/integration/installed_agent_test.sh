#!/usr/bin/env bash
# The packaged nlbd, started as its systemd unit starts it, joins a cluster with a build-tree
# nlbd in the namespace lab. The words of ExecStartPre, ExecStart and ExecStopPost are taken from
# the installed unit and run as they are; /etc/nlb/nlb.yaml (the conffile) holds the lab host's
# configuration meanwhile and is put back after. systemd's side is played by the test: a
# NOTIFY_SOCKET that must receive READY=1 and watchdog pets, WATCHDOG_USEC, STATE_DIRECTORY.
# Skipped (77) unless the nlb package is installed: tests/package/package_test.sh installs it
# and runs this test.
source "$(dirname "$0")/lib.sh"

unit=/lib/systemd/system/nlbd.service
dpkg-query -W -f='${Status}' nlb 2>/dev/null | grep -q "install ok installed" ||
  { echo "SKIP: the nlb package is not installed"; exit 77; }
words() { sed -n "s/^$1=//p" "$unit"; }
read -r -a start <<<"$(words ExecStart)"
read -r -a pre <<<"$(words ExecStartPre)"
read -r -a post <<<"$(words ExecStopPost)"
[ "${start[0]}" = /usr/sbin/nlbd ] && [ "${start[1]}" = --config ] && [ ${#start[@]} -eq 3 ] ||
  fail "unexpected ExecStart: ${start[*]}"
conffile=${start[2]}

lab_start 2
saved=$STATE/conffile.orig
cp -p "$conffile" "$saved"
restore_conffile() { cp -p "$saved" "$conffile"; }
trap 'rc=$?; restore_conffile || true; lab_teardown "$rc"' EXIT

host_config 1
host_config 2 >/dev/null
cp "$STATE/h2.yaml" "$conffile"

# systemd's notification socket, read for at most 60 s.
python3 - "$STATE/notify" "$STATE/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
end = time.time() + 60
with open(sys.argv[2], "a") as log:
    while time.time() < end:
        try:
            log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
            log.flush()
        except socket.timeout:
            pass
PY
echo $! >"$STATE/pids/notify"
wait_until 10 "the notify socket is bound" test -S "$STATE/notify"
# The environment systemd gives the unit's processes (for the installed nlbd only).
as_unit=(env NOTIFY_SOCKET="$STATE/notify" WATCHDOG_USEC=2000000 STATE_DIRECTORY="$STATE/var-unit")
mkdir -p "$STATE/var-unit"

in_host 2 "${as_unit[@]}" "${pre[@]}" >/dev/null ||
  fail "ExecStartPre refused: $(in_host 2 "${pre[@]}" 2>&1)"
# Not through in_host: $! must be nlbd itself (ip and env exec it), not a subshell.
ip netns exec "nlb-$RUN-h2" "${as_unit[@]}" "${start[@]}" >>"$STATE/logs/nlbd-h2.log" 2>&1 \
  </dev/null &
pid=$!
echo "$pid" >"$STATE/pids/nlbd-h2"
note "installed: ${start[*]} (pid $pid); build tree: $NLBD"
start_agent 1
wait_until 20 "host 1 converged with 1,2" members_are 1 "1,2"
wait_until 20 "host 2 converged with 1,2" members_are 2 "1,2"
wait_until 10 "READY=1 from the installed nlbd" grep -q "^READY=1" "$STATE/notify.log"
[ "$(grep -c "^READY=1" "$STATE/notify.log")" -eq 1 ] || fail "READY=1 sent more than once"
wait_until 10 "a watchdog pet" grep -q "^WATCHDOG=1" "$STATE/notify.log"
[ "$(control 2 report | json "r['errors']['systemd_notify_errors']")" -eq 0 ] ||
  fail "the installed nlbd counts failed watchdog pets"
note "converged 1,2; notify socket got: $(sort "$STATE/notify.log" | uniq -c | tr -s ' \n' ' ')"

# A crash, then what systemd runs after any stop: ExecStopPost leaves the interface clean.
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
wait_until 10 "the crashed nlbd is gone" bash -c "! kill -0 $pid"
in_host 2 "${as_unit[@]}" "${post[@]}" >/dev/null || fail "ExecStopPost failed"
in_host 2 nft list tables | grep -q nlb_ && fail "ExecStopPost left a table: $(in_host 2 nft list tables)"
wait_until 20 "host 1 alone after host 2's crash" members_are 1 "1"
note "after SIGKILL and ExecStopPost: host 2's table is gone, host 1 converged alone"
echo "PASS"
