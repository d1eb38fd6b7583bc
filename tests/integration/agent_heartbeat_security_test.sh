#!/usr/bin/env bash
# Hostile heartbeats at real agents: a replayed real heartbeat, every truncation of one, bit-flipped
# copies, copies re-signed with a wrong key (one claiming a new host id), another cluster's name
# and random bytes, all broadcast on the heartbeat port from a client namespace. The agents must
# keep running, keep their membership, and count each class.
source "$(dirname "$0")/lib.sh"

lab_start 3
for i in 1 2 3; do host_config "$i" --period-ms 200 --tolerance 3; done
for i in 1 2 3; do start_agent "$i"; done
for i in 1 2 3; do wait_until 10 "host $i converged with 1,2,3" members_are "$i" "1,2,3"; done
generation=$(control 1 query | json "r['generation']")

in_client 1 python3 - <<'PY'
import hmac, hashlib, os, random, socket, time
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
rx.bind(("0.0.0.0", 2504))
rx.settimeout(5)
real, _ = rx.recvfrom(2048)  # a genuine heartbeat of one of the hosts
assert real[:4] == b"NLBH", real[:4]
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
dest = ("198.18.255.255", 2504)
rng = random.Random(7)
def send(b):
    tx.sendto(b, dest)
    time.sleep(0.0005)
for _ in range(5):
    send(real)                                   # replayed
for n in range(len(real)):
    send(real[:n])                               # every truncation
for _ in range(300):
    b = bytearray(real)
    b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    send(bytes(b))                               # bit flips
body = bytearray(real[:-32])
name_len = body[9]
host_id_offset = 10 + name_len
body[host_id_offset:host_id_offset + 2] = (77).to_bytes(2, "big")   # claims host id 77
wrong = hmac.new(os.urandom(32), bytes(body), hashlib.sha256).digest()
for _ in range(20):
    send(bytes(body) + wrong)                    # forged: signed with another key
for _ in range(300):
    send(os.urandom(rng.randrange(0, 1400)))     # junk
PY

sleep 1  # let the last datagrams drain through the agents
for i in 1 2 3; do
  members_are "$i" "1,2,3" || fail "host $i changed membership under hostile heartbeats"
  kill -0 "$(cat "$STATE/pids/nlbd-h$i")" || fail "nlbd on host $i died"
done
now=$(control 1 query | json "r['generation']")
[ "$now" = "$generation" ] || fail "hostile heartbeats caused a reconvergence ($generation -> $now)"
# The replayed heartbeat is its sender's own (counted there as looped back); the two others must
# each count the 5 replays.
saw_replays=0
for i in 1 2 3; do
  counts=$(control "$i" report | json "'%d %d %d' % (r['errors']['heartbeat_bad_hmac'], r['errors']['heartbeat_malformed'], r['errors']['heartbeat_replayed'])")
  read -r bad malformed replayed <<<"$counts"
  note "host $i counted bad_hmac=$bad malformed=$malformed replayed=$replayed"
  [ "$bad" -ge 300 ] || fail "host $i counted only $bad bad-HMAC heartbeats"
  [ "$malformed" -ge 250 ] || fail "host $i counted only $malformed malformed heartbeats"
  [ "$replayed" -ge 5 ] && saw_replays=$((saw_replays + 1))
done
[ "$saw_replays" -ge 2 ] || fail "only $saw_replays hosts counted the 5 replayed heartbeats"
echo "PASS"
