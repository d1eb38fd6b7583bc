#!/usr/bin/env python3
"""A bounded SYN flood for the connection-tracking tests (Python 3 standard library only).

  syn_flood.py IFACE DST_MAC VIP PORT COUNT RATE [SOURCE_NET]

Sends COUNT TCP SYNs over AF_PACKET from IFACE to DST_MAC (the cluster MAC), each from a random
address of SOURCE_NET (default 198.19.0.0/16: inside the lab's 198.18.0.0/15 but off its on-link
/16, so the hosts' SYN-ACKs find no route and no neighbour entry is made for them) and a random
port, at most RATE per second and for at most COUNT / RATE * 1.5 + 5 seconds. Checksums are
correct, so the hosts' TCP stacks take the SYNs as real. Prints JSON: sent, seconds.
"""
import ipaddress
import json
import random
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    iface, dst_mac, vip, port, count, rate = sys.argv[1:7]
    net = ipaddress.ip_network(sys.argv[7] if len(sys.argv) > 7 else "198.19.0.0/16")
    port, count, rate = int(port), int(count), int(rate)
    assert 0 < count <= 500000 and 0 < rate <= 100000, "bounded loads only"
    rng = random.Random(0x4E4C42)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src_mac = s.getsockname()[4]
    eth = bytes.fromhex(dst_mac.replace(":", "")) + src_mac + b"\x08\x00"
    dst = socket.inet_aton(vip)
    base, size = int(net.network_address), net.num_addresses
    start = time.monotonic()
    deadline = start + count / rate * 1.5 + 5
    sent = 0
    while sent < count and time.monotonic() < deadline:
        # Pace in slices of 1/100 s: never ahead of RATE.
        due = min(count, int((time.monotonic() - start) * rate) + rate // 100)
        while sent < due:
            src = struct.pack("!I", base + rng.randrange(1, size - 1))
            sport = rng.randrange(1024, 65536)
            tcp = struct.pack("!HHIIBBHHH", sport, port, rng.getrandbits(32), 0, 5 << 4, 0x02,
                              64240, 0, 0)
            csum = checksum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
            tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), sent & 0xFFFF, 0, 64, 6, 0,
                             src, dst)
            ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
            s.send(eth + ip + tcp)
            sent += 1
        time.sleep(0.01)
    print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - start, 2)}))


if __name__ == "__main__":
    main()
