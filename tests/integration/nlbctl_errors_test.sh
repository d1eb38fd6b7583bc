#!/usr/bin/env bash
# nlbctl's refusals end to end, each with its message and exit status, and the agent running on:
# a wrong cluster key (5, counted by the agent), no key file (2), a recorded TLS session replayed
# byte for byte (refused by TLS, no effect, counted), malformed requests on the local socket, an
# unknown command (2 from nlbctl; "invalid" from the agent), a host nobody answers for (6 within
# the timeout) and a host whose agent is not running (6, connection refused).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nlbctl_lib.sh"

lab_start 3   # host 3 has no agent
for i in 1 2; do host_config "$i" --period-ms 200 --tolerance 3; start_agent "$i"; done
host_config 3 --period-ms 200 --tolerance 3
for i in 1 2; do wait_until 15 "host $i converged with 1,2" members_are "$i" "1,2"; done

# raw_local I PY_BYTES: sends PY_BYTES (a Python bytes expression) to host I's local socket,
# half-closes, prints the reply line.
raw_local() {
  python3 - "/run/nlb/lab-$RUN-$1.sock" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
try:  # the agent may answer an over-long request and close before reading it all
    s.sendall(eval(sys.argv[2]))
    s.shutdown(socket.SHUT_WR)
except OSError:
    pass
data = b""
while not data.endswith(b"\n"):
    try:
        chunk = s.recv(65536)
    except ConnectionResetError:
        break
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
PY
}
remote_counter() { report_of 1 "r['errors']['$1']"; }

# A wrong cluster key: the handshake is refused, the agent counts it.
refused0=$(remote_counter remote_handshakes_refused)
(umask 077; head -c 32 /dev/urandom | base64 >"$STATE/wrong.key")
RC=0; OUT=$(in_client 1 "$NLBCTL" --host 198.18.1.1 --key "$STATE/wrong.key" start 2>"$STATE/ctl.err") || RC=$?
ERR=$(cat "$STATE/ctl.err")
expect_rc 5 "a wrong key"
expect_err "nlbctl: host 198.18.1.1:2505 refused the TLS handshake" "a wrong key"
expect_err "the cluster key differs from the agent's" "a wrong key"
[ "$(remote_counter remote_handshakes_refused)" -eq $((refused0 + 1)) ] ||
  fail "remote_handshakes_refused did not count the wrong key"
ctl 1 --json query
check_json "r['ok'] and r['host'] == 1 and r['converged']" "host 1 still answers"
note "wrong key: exit 5, refused handshake counted"

# No key file, and a key file others may read: nlbctl says which file and why, exit 2.
RC=0; OUT=$(in_client 1 "$NLBCTL" --host 198.18.1.1 --key "$STATE/absent.key" query 2>"$STATE/ctl.err") || RC=$?
ERR=$(cat "$STATE/ctl.err")
expect_rc 2 "no key file"
expect_err "$STATE/absent.key" "no key file"
cp "$STATE/cluster.key" "$STATE/open.key"; chmod 0644 "$STATE/open.key"
RC=0; OUT=$(in_client 1 "$NLBCTL" --host 198.18.1.1 --key "$STATE/open.key" query 2>"$STATE/ctl.err") || RC=$?
ERR=$(cat "$STATE/ctl.err")
expect_rc 2 "a key file others may read"
expect_err "$STATE/open.key" "a key file others may read"
note "no key file / readable key file: exit 2 naming the file"

# Replay: a TCP proxy in the client records one real `disable 80` session; the recorded bytes
# played back to the agent (from another source address, so the throttle stays out of it) are
# refused by TLS and disable nothing.
ip netns exec "nlb-$RUN-c1" python3 - "$STATE/session.bin" >"$STATE/proxy.log" 2>&1 <<'PY' &
import socket, sys, threading
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("198.18.2.1", 2600))
listener.listen(1)
listener.settimeout(30)
client, _ = listener.accept()
server = socket.create_connection(("198.18.1.1", 2505), timeout=10)
recorded = []
def pump(src, dst, record):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if record is not None:
                record.append(data)
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
back = threading.Thread(target=pump, args=(server, client, None))
back.start()
pump(client, server, recorded)
back.join(10)
open(sys.argv[1], "wb").write(b"".join(recorded))
PY
proxy=$!   # ip netns exec execs python: this is the proxy's own PID
echo "$proxy" >"$STATE/pids/replay-proxy"
proxy_listens() { in_client 1 ss -Hltn 'sport = :2600' | grep -q 2600; }
wait_until 5 "the replay proxy listening" proxy_listens
rctl 1 --host 198.18.2.1:2600 disable 80
expect_rc 0 "disable 80 through the recording proxy"
wait_until 5 "the proxy wrote the session" test -s "$STATE/session.bin"
rule_state() { control 1 params | json "r['cluster']['port_rules'][0]['state']"; }
[ "$(rule_state)" = disabled ] || fail "disable through the proxy had no effect"
ctl 1 enable 80
expect_rc 0 "enable 80 locally"
refused0=$(remote_counter remote_handshakes_refused)
replay_reply=$(in_client 1 python3 - "$STATE/session.bin" <<'PY'
import socket, sys
session = open(sys.argv[1], "rb").read()
s = socket.create_connection(("198.18.1.1", 2505), timeout=6, source_address=("198.18.3.1", 0))
s.sendall(session)
got = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
except OSError:
    pass
print("%d bytes sent, %d received" % (len(session), len(got)))
PY
)
note "replayed the recorded session: $replay_reply"
replay_counted() { [ "$(remote_counter remote_handshakes_refused)" -eq $((refused0 + 1)) ]; }
wait_until 5 "the replay counted as a refused handshake" replay_counted
[ "$(rule_state)" = enabled ] || fail "the replayed 'disable 80' took effect"
disables=$(control 1 params | json "sum('disabled by operator' in e for e in r['events'])")
[ "$disables" -eq 1 ] || fail "host 1 logged $disables disables, want the 1 real one"
note "replay: refused by TLS, counted, the rule stays enabled"

# Malformed requests on the local socket: answered "invalid" and counted.
malformed0=$(report_of 1 "r['errors']['control_malformed']")
r_is() { printf '%s' "$reply" | json "r['ok'] is False and r['code'] == 'invalid' and $1" | grep -qx True; }
reply=$(raw_local 1 "b'q' * 5000 + b'\n'")
r_is "'longer than 4096' in r['error']" || fail "an over-long request: $reply"
reply=$(raw_local 1 "b'\n'")
r_is "'empty request' in r['error']" || fail "an empty request: $reply"
reply=$(raw_local 1 "b'query'")
r_is "'not terminated by a newline' in r['error']" || fail "a request without newline: $reply"
[ "$(report_of 1 "r['errors']['control_malformed']")" -eq $((malformed0 + 3)) ] ||
  fail "control_malformed did not count 3 malformed requests"
reply=$(raw_local 1 "b'frobnicate now\n'")
r_is "\"unknown command 'frobnicate'\" in r['error']" || fail "an unknown command word: $reply"
reply=$(raw_local 1 "b'enable 198.18.0.100:99999\n'")
r_is "'198.18.0.100:99999' in r['error']" || fail "a bad RULE: $reply"
note "malformed local requests: code invalid, counted; unknown word: invalid"

# An unknown command or bad RULE on nlbctl's command line: exit 2 before any connection.
ctl 1 frobnicate
expect_rc 2 "nlbctl frobnicate"
expect_err "nlbctl: unknown command 'frobnicate'" "nlbctl frobnicate"
expect_err "Usage: nlbctl" "nlbctl frobnicate"
ctl 1 enable 198.18.0.100:99999
expect_rc 2 "nlbctl enable 198.18.0.100:99999"
expect_err "bad RULE '198.18.0.100:99999'" "nlbctl enable 198.18.0.100:99999"
note "unknown command / bad RULE: exit 2 with a usage line"

# Nobody at the address: exit 6 within the timeout, not later.
t0=$(date +%s%N)
rctl 1 --host 198.18.1.99 --timeout-ms 1000 query
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_rc 6 "an unreachable host"
expect_err "198.18.1.99:2505 unreachable" "an unreachable host"
[ "$ms" -lt 2500 ] || fail "an unreachable host took $ms ms with --timeout-ms 1000"
# Host 3 exists but runs no agent: connection refused remotely, no socket locally; exit 6.
rctl 1 --host 198.18.1.3 query
expect_rc 6 "a host without agent"
expect_err "198.18.1.3:2505 unreachable: Connection refused" "a host without agent"
ctl 3 query
expect_rc 6 "a host without agent, locally"
expect_err "is nlbd running?" "a host without agent, locally"
note "unreachable (${ms} ms) and not running: exit 6 with the address"

# The agents ran through all of it.
for f in "$STATE"/pids/nlbd-h1 "$STATE"/pids/nlbd-h2; do kill -0 "$(cat "$f")" || fail "$f died"; done
for i in 1 2; do members_are "$i" "1,2" || fail "host $i lost its cluster"; done
rctl 1 --host 198.18.1.2 --json query
expect_rc 0 "a right key after the refusals"
check_json "r['host'] == 2" "host 2 after the refusals"
echo "PASS"
