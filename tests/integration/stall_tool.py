#!/usr/bin/env python3
"""Client side of agent_stall_test.sh (Python 3 standard library only).

  stream   --vip V --count N --rate R [--timeout T] [--source S]
           N fresh HTTP connections (`Connection: close`), one started every 1/R s whatever the
           others do, each bounded by T seconds; prints JSON: per connection its start (wall
           clock ns), connect and total times (ms), the answering host (X-Nlb-Host) or the error.
  synacks  FILE
           Reads a pcap of the client's traffic and prints JSON: SYNs, SYN-ACKs, and every SYN that
           was answered from more than one MAC address (two hosts took it: "two owners"). A SYN is
           named by client address, port and initial sequence number; a SYN-ACK answers the SYN
           whose sequence number is its acknowledgement number less one.

Every network operation has a timeout; counts and times are bounded by the caller.
"""
import argparse
import json
import socket
import struct
import sys
import threading
import time


def one_connection(vip, source, timeout, out):
    start = time.time_ns()
    rec = {"start_ns": start}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect((vip, 80))
        rec["connect_ms"] = (time.time_ns() - start) / 1e6
        s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % vip).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        rec["total_ms"] = (time.time_ns() - start) / 1e6
        head = data.partition(b"\r\n\r\n")[0].decode(errors="replace").split("\r\n")
        if not head or " 200 " not in head[0] + " ":
            rec["error"] = "bad reply %r" % head[:1]
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "x-nlb-host":
                rec["host"] = value.strip()
        if "host" not in rec and "error" not in rec:
            rec["error"] = "no X-Nlb-Host header"
    except OSError as e:
        rec["error"] = "%s: %s" % (e.__class__.__name__, e)
        rec["total_ms"] = (time.time_ns() - start) / 1e6
    finally:
        s.close()
    out.append(rec)


def cmd_stream(args):
    out = []
    threads = []
    t0 = time.monotonic()
    for k in range(args.count):
        delay = t0 + k / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=one_connection, args=(args.vip, args.source, args.timeout, out))
        t.start()
        threads.append(t)
    for t in threads:
        t.join(args.timeout + 5)
    print(json.dumps(sorted(out, key=lambda r: r["start_ns"])))


def packets(path):
    """Yields (ethernet source MAC, frame bytes after the Ethernet header) from a pcap file."""
    with open(path, "rb") as f:
        header = f.read(24)
        if len(header) < 24:
            return
        magic = struct.unpack("<I", header[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        linktype = struct.unpack(endian + "I", header[20:24])[0]
        if linktype != 1:
            sys.exit("pcap link type %d, expected Ethernet (1)" % linktype)
        while True:
            record = f.read(16)
            if len(record) < 16:
                return
            incl = struct.unpack(endian + "IIII", record)[2]
            frame = f.read(incl)
            if len(frame) < 14:
                continue
            ethertype = struct.unpack("!H", frame[12:14])[0]
            if ethertype == 0x0800:
                yield frame[6:12].hex(":"), frame[14:]


def cmd_synacks(args):
    syns = set()
    answers = {}  # (client address, client port, client ISN) -> set of answering MACs
    synacks = 0
    for mac, ip in packets(args.file):
        if len(ip) < 20 or ip[9] != 6:
            continue
        ihl = (ip[0] & 0x0F) * 4
        tcp = ip[ihl:]
        if len(tcp) < 14:
            continue
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        flags = tcp[13]
        if flags & 0x12 == 0x02:  # SYN
            syns.add((src, sport, seq))
        elif flags & 0x12 == 0x12:  # SYN-ACK: answers (dst, dport, ack - 1)
            synacks += 1
            answers.setdefault((dst, dport, (ack - 1) & 0xFFFFFFFF), set()).add(mac)
    twice = [
        {"client": "%s:%d" % (a, p), "isn": isn, "macs": sorted(macs)}
        for (a, p, isn), macs in sorted(answers.items())
        if len(macs) > 1
    ]
    print(json.dumps({
        "syns": len(syns),
        "answered_syns": len(answers),
        "synacks": synacks,
        "answered_from": sorted({m for macs in answers.values() for m in macs}),
        "two_owners": twice,
    }))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("stream")
    c.add_argument("--vip", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--rate", type=float, required=True)
    c.add_argument("--timeout", type=float, default=20.0)
    c.add_argument("--source", default="")
    c = sub.add_parser("synacks")
    c.add_argument("file")
    args = p.parse_args()
    {"stream": cmd_stream, "synacks": cmd_synacks}[args.cmd](args)


if __name__ == "__main__":
    main()
