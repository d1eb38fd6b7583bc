#!/usr/bin/env python3
"""Traffic for the data path integration tests (Python 3 standard library only).

  http    N requests with `Connection: close`, request k from source address k % len(sources) and
          source port first_port + k, so every run offers the same flows (the hash is fixed);
          prints JSON: answered, failures, per-host and per-source counts (X-Nlb-Host header).
  udp     N datagrams, one socket each (source address k % len, port first_port + k), waits for
          the reply "<host> <length>"; then listens a little longer for duplicate replies.
  serve   a UDP echo service answering "<name> <received length>" from the address it was sent
          to (one socket per address, IP_FREEBIND), until killed.
  raw     malformed frames and junk to the cluster MAC and a VIP over AF_PACKET; prints JSON
          of how many of each kind it sent.

Every network operation has a timeout; counts are bounded by the caller.
"""
import argparse
import concurrent.futures
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import time

IP_FREEBIND = 15  # linux/in.h; socket module lacks it


def family_of(address):
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def plan(args):
    sources = args.sources.split(",")
    return [(sources[k % len(sources)], args.first_port + k) for k in range(args.count)]


def one_http(vip, port, source, sport, timeout):
    s = socket.socket(family_of(vip), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(timeout)
    try:
        s.bind((source, sport))
        s.connect((vip, port))
        host_header = "[%s]" % vip if ":" in vip else vip
        s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host_header).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        return None, "%s:%d %s" % (source, sport, e.__class__.__name__ + ": " + str(e))
    finally:
        s.close()
    head, _, _ = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    if not lines or " 200 " not in lines[0] + " ":
        return None, "%s:%d bad reply %r" % (source, sport, lines[:1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "x-nlb-host":
            return value.strip(), None
    return None, "%s:%d no X-Nlb-Host header" % (source, sport)


def summarise(results):
    out = {"answered": 0, "failures": [], "by_host": {}, "by_source": {}}
    for (source, sport), (host, error) in results:
        if error:
            out["failures"].append(error)
            continue
        out["answered"] += 1
        out["by_host"][host] = out["by_host"].get(host, 0) + 1
        per = out["by_source"].setdefault(source, {})
        per[host] = per.get(host, 0) + 1
    return out


def cmd_http(args):
    flows = plan(args)
    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        futures = [pool.submit(one_http, args.vip, args.port, s, p, args.timeout) for s, p in flows]
        results = [(flow, f.result()) for flow, f in zip(flows, futures)]
    print(json.dumps(summarise(results)))


def cmd_udp(args):
    flows = plan(args)
    payload = b"x" * args.size
    results = []
    socks = []
    for source, sport in flows:
        s = socket.socket(family_of(args.vip), socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(args.timeout)
        socks.append(s)
        try:
            s.bind((source, sport))
            s.connect((args.vip, args.port))  # only replies from the VIP count
            s.send(payload)
            reply = s.recv(65536).decode(errors="replace").split()
            if len(reply) != 2 or reply[1] != str(args.size):
                results.append(((source, sport), (None, "%s:%d bad reply %r" % (source, sport, reply))))
            else:
                results.append(((source, sport), (reply[0], None)))
        except OSError as e:
            results.append(((source, sport), (None, "%s:%d %s" % (source, sport, e))))
    # A second host answering the same datagram would show up here.
    time.sleep(args.linger)
    duplicates = 0
    for s in socks:
        s.setblocking(False)
        while True:
            try:
                s.recv(65536)
                duplicates += 1
            except OSError:
                break
        s.close()
    out = summarise(results)
    out["duplicates"] = duplicates
    print(json.dumps(out))


def cmd_serve(args):
    socks = []
    for address in args.addresses.split(","):
        for port in [int(p) for p in args.ports.split(",")]:
            s = socket.socket(family_of(address), socket.SOCK_DGRAM)
            try:
                s.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
            except OSError:
                pass  # the VIPs exist on nlb0 already when the tests start the service
            s.bind((address, port))
            socks.append(s)
    import selectors
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _ in sel.select():
            data, peer = key.fileobj.recvfrom(65536)
            key.fileobj.sendto(("%s %d" % (args.name, len(data))).encode(), peer)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ipv4_header(src, dst, proto, payload_len, ihl=5, version=4, total=None):
    total = 20 + payload_len if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, total, 0x1234, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:]


def tcp_header(sport, dport, offset_words=5):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, offset_words << 4, 0x02, 65535, 0, 0)


def cmd_raw(args):
    dst_mac = bytes.fromhex(args.dst_mac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.interface, 0))
    src_mac = s.getsockname()[4]
    eth = lambda ethertype: dst_mac + src_mac + struct.pack("!H", ethertype)
    src, vip = args.source, args.vip
    rng = random.Random(args.seed)
    kinds = {
        # IPv4 total length says 1000 bytes; the frame holds a bare header and 8 bytes.
        "bad_ipv4_total_length": lambda: eth(0x0800) + ipv4_header(src, vip, 6, 0, total=1000) + b"\0" * 8,
        # IHL 4 (16 bytes) is below the minimum; the addresses stay where the filter looks.
        "bad_ipv4_header_length": lambda: eth(0x0800) + ipv4_header(src, vip, 6, 20, ihl=4) + tcp_header(40000, 80),
        "bad_ipv4_version": lambda: eth(0x0800) + ipv4_header(src, vip, 6, 20, version=5) + tcp_header(40001, 80),
        # Data offset 3 words is below the 5-word minimum.
        "bad_tcp_header_length": lambda: eth(0x0800) + ipv4_header(src, vip, 6, 20) + tcp_header(40002, 80, 3),
        # The IP packet ends 6 bytes into the TCP header.
        "truncated_tcp": lambda: eth(0x0800) + ipv4_header(src, vip, 6, 6) + tcp_header(40003, 80)[:6],
        "truncated_udp": lambda: eth(0x0800) + ipv4_header(src, vip, 17, 4) + b"\x9c\x40\x00\x35",
    }
    sent = {}
    for name, build in kinds.items():
        for _ in range(args.each):
            s.send(build())
        sent[name] = args.each
    # Junk: random bytes after the cluster MAC, half of it shaped so that the capture filter passes
    # it (IPv4 ethertype and the VIP at the destination offset) and the parser must judge it.
    junk_vip = 0
    for i in range(args.junk):
        body = rng.randbytes(rng.randrange(20, 200))
        if i % 2 == 0:
            frame = bytearray(dst_mac + src_mac + b"\x08\x00" + body)
            frame[30:34] = socket.inet_aton(vip)
            junk_vip += 1
        else:
            frame = dst_mac + body
        s.send(bytes(frame))
    sent["junk"] = args.junk
    sent["junk_to_vip"] = junk_vip
    s.close()
    print(json.dumps(sent))


def cmd_vlan_syn(args):
    """Tagged SYNs (802.1Q, --vid) to VIP:port from --count source ports; counts SYN-ACKs back."""
    dst_mac = bytes.fromhex(args.dst_mac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((args.interface, 0))
    s.settimeout(0.2)
    src_mac = s.getsockname()[4]
    src, vip = args.source, args.vip
    ports = set(range(args.first_port, args.first_port + args.count))
    for sport in sorted(ports):
        tcp = tcp_header(sport, args.port)
        pseudo = socket.inet_aton(src) + socket.inet_aton(vip) + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
        tag = struct.pack("!HH", 0x8100, args.vid & 0x0FFF)
        s.send(dst_mac + src_mac + tag + struct.pack("!H", 0x0800) + ipv4_header(src, vip, 6, len(tcp)) + tcp)
    answered = set()
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        try:
            frame, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        at = 14
        while struct.unpack("!H", frame[at - 2:at])[0] in (0x8100, 0x88A8):
            at += 4
        if struct.unpack("!H", frame[at - 2:at])[0] != 0x0800 or frame[at + 9] != 6:
            continue
        if socket.inet_ntoa(frame[at + 12:at + 16]) != vip:
            continue
        l4 = at + (frame[at] & 0x0F) * 4
        sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
        flags = frame[l4 + 13]
        if sport == args.port and dport in ports and flags & 0x12 == 0x12:
            answered.add(dport)
    s.close()
    print(json.dumps({"sent": args.count, "answered": len(answered)}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("http", "udp"):
        c = sub.add_parser(name)
        c.add_argument("--vip", required=True)
        c.add_argument("--port", type=int, default=80)
        c.add_argument("--sources", required=True, help="comma-separated client addresses")
        c.add_argument("--count", type=int, required=True)
        c.add_argument("--first-port", type=int, default=20000)
        c.add_argument("--timeout", type=float, default=3.0)
        c.add_argument("--parallel", type=int, default=8)
        c.add_argument("--size", type=int, default=32)
        c.add_argument("--linger", type=float, default=0.5)
    c = sub.add_parser("serve")
    c.add_argument("--name", required=True)
    c.add_argument("--addresses", required=True)
    c.add_argument("--ports", required=True)
    c = sub.add_parser("raw")
    c.add_argument("--interface", default="eth0")
    c.add_argument("--dst-mac", required=True)
    c.add_argument("--source", required=True)
    c.add_argument("--vip", required=True)
    c.add_argument("--each", type=int, default=20)
    c.add_argument("--junk", type=int, default=200)
    c.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("vlan_syn")
    c.add_argument("--interface", default="eth0")
    c.add_argument("--dst-mac", required=True)
    c.add_argument("--source", required=True)
    c.add_argument("--vip", required=True)
    c.add_argument("--port", type=int, default=80)
    c.add_argument("--vid", type=int, required=True)
    c.add_argument("--count", type=int, default=20)
    c.add_argument("--first-port", type=int, default=41000)
    c.add_argument("--wait", type=float, default=2.0)
    args = p.parse_args()
    {"http": cmd_http, "udp": cmd_udp, "serve": cmd_serve, "raw": cmd_raw,
     "vlan_syn": cmd_vlan_syn}[args.cmd](args)


if __name__ == "__main__":
    main()
