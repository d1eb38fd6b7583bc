#!/usr/bin/env bash
# nlbd refuses to start, with a message naming the problem, when the configuration is invalid,
# the interface is missing, the key file is missing or readable by others, or another nlbd runs
# the same cluster in the namespace; and on SIGTERM it exits 0 leaving nothing behind.
source "$(dirname "$0")/lib.sh"

lab_start 1
host_config 1

# expect_refusal DESCRIPTION WANT_EXIT WANT_TEXT CONFIG: nlbd exits WANT_EXIT saying WANT_TEXT.
expect_refusal() {
  local what=$1 want_rc=$2 want_text=$3 cfg=$4 rc=0
  out=$(in_host 1 timeout 10 "$NLBD" --config "$cfg" 2>&1) || rc=$?
  [ "$rc" -eq "$want_rc" ] || fail "$what: exit $rc, want $want_rc; said: $out"
  grep -qF -- "$want_text" <<<"$out" || fail "$what: message lacks '$want_text'; said: $out"
  note "$what: refused (exit $rc): $(head -n 1 <<<"$out")"
}

sed 's/protocol: tcp/protocol: tcpp/' "$STATE/h1.yaml" >"$STATE/bad.yaml"
expect_refusal "invalid YAML value" 2 "protocol: 'tcpp' is not valid" "$STATE/bad.yaml"

sed 's/interface: eth0/interface: eth9/' "$STATE/h1.yaml" >"$STATE/noif.yaml"
expect_refusal "missing interface" 1 "interface eth9 does not exist" "$STATE/noif.yaml"

sed "s|key_file: .*|key_file: $STATE/absent.key|" "$STATE/h1.yaml" >"$STATE/nokey.yaml"
expect_refusal "missing key file" 1 "absent.key" "$STATE/nokey.yaml"

cp "$STATE/cluster.key" "$STATE/open.key"; chmod 0644 "$STATE/open.key"
sed "s|key_file: .*|key_file: $STATE/open.key|" "$STATE/h1.yaml" >"$STATE/openkey.yaml"
expect_refusal "key readable by others" 1 "open.key" "$STATE/openkey.yaml"

start_agent 1
wait_until 10 "host 1 converged alone" members_are 1 "1"
expect_refusal "second nlbd for the cluster" 1 "another nlbd already runs cluster" "$STATE/h1.yaml"
members_are 1 "1" || fail "the refused second agent disturbed the first"

# SIGTERM: exit status 0, and the TUN device, nftables table and control socket are gone.
pid=$(cat "$STATE/pids/nlbd-h1")
in_host 1 ip link show nlb0 >/dev/null || fail "no TUN device nlb0 while running"
kill_agent 1 TERM
wait_until 10 "nlbd exits after SIGTERM" bash -c "! kill -0 $pid"
wait "$pid" 2>/dev/null || true
grep -q "stopping (SIGTERM)" "$STATE/logs/nlbd-h1.log" || fail "no clean-stop line in the log"
in_host 1 ip link show nlb0 >/dev/null 2>&1 && fail "TUN device nlb0 left behind"
in_host 1 nft list tables | grep -q nlb_ && fail "nftables table left behind: $(in_host 1 nft list tables)"
[ ! -e "/run/nlb/lab-$RUN-1.sock" ] || fail "control socket left behind"
note "SIGTERM: clean exit, nothing left behind"
echo "PASS"
