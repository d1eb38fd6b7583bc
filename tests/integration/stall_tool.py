#!/usr/bin/env python3
"""Client side of agent_stall_test.sh and conntrack_flood_join_test.sh (Python 3 standard
library only).

  stream   --vip V --count N --rate R [--timeout T] [--source S] [--first-port P]
           N fresh HTTP connections (`Connection: close`), one started every 1/R s whatever the
           others do, each bounded by T seconds; prints JSON: per connection its start (wall
           clock ns), client port, connect and total times (ms), the answering host (X-Nlb-Host)
           or the error. With --first-port, connection k uses client port P + k (no two share a
           4-tuple); otherwise the kernel picks the port, and may reuse one soon after a close.
  synacks  FILE [--vip V]
           Reads a pcap of the client's traffic and prints JSON: SYNs, SYN-ACKs, every SYN that
           was answered from more than one MAC address (two hosts took it: "two owners"), every
           SYN answered with more than one server sequence number ("two_isns": two sockets took
           it, behind two MACs or one), and with --vip every RST sent from V ("resets"). A SYN
           is named by client address, port and initial sequence number; a SYN-ACK answers the
           SYN whose sequence number is its acknowledgement number less one. A retransmitted
           SYN-ACK (same MAC, same sequence number) is one answer.
  selftest Writes a pcap with one SYN answered by two MACs, one answered with two sequence
           numbers by one MAC, one answered once (its SYN-ACK retransmitted), one RST from the
           VIP and one from the client; reads it back as `synacks` does and fails unless it
           finds exactly those: the checker can fail.

Every network operation has a timeout; counts and times are bounded by the caller.
"""
import argparse
import json
import socket
import struct
import sys
import tempfile
import threading
import time


def one_connection(vip, source, port, timeout, out):
    start = time.time_ns()
    rec = {"start_ns": start}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source or port:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((source, port))
        s.connect((vip, 80))
        rec["port"] = s.getsockname()[1]
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
        port = args.first_port + k if args.first_port else 0
        t = threading.Thread(target=one_connection,
                             args=(args.vip, args.source, port, args.timeout, out))
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


def analyse(path, vip=""):
    syns = set()
    answers = {}  # (client address, client port, client ISN) -> set of answering MACs
    isns = {}  # the same key -> set of server sequence numbers
    resets = []
    synacks = 0
    for mac, ip in packets(path):
        if len(ip) < 20 or ip[9] != 6:
            continue
        ihl = (ip[0] & 0x0F) * 4
        tcp = ip[ihl:]
        if len(tcp) < 14:
            continue
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        flags = tcp[13]
        if flags & 0x04 and src == vip:  # RST from the VIP to a client
            resets.append({"client": "%s:%d" % (dst, dport), "from": mac, "port": sport})
        if flags & 0x12 == 0x02:  # SYN
            syns.add((src, sport, seq))
        elif flags & 0x12 == 0x12:  # SYN-ACK: answers (dst, dport, ack - 1)
            synacks += 1
            key = (dst, dport, (ack - 1) & 0xFFFFFFFF)
            answers.setdefault(key, set()).add(mac)
            isns.setdefault(key, set()).add(seq)
    twice = [
        {"client": "%s:%d" % (a, p), "isn": isn, "macs": sorted(macs)}
        for (a, p, isn), macs in sorted(answers.items())
        if len(macs) > 1
    ]
    two_isns = [
        {"client": "%s:%d" % (a, p), "isn": isn, "server_isns": sorted(seqs)}
        for (a, p, isn), seqs in sorted(isns.items())
        if len(seqs) > 1
    ]
    return {
        "syns": len(syns),
        "answered_syns": len(answers),
        "synacks": synacks,
        "answered_from": sorted({m for macs in answers.values() for m in macs}),
        "two_owners": twice,
        "two_isns": two_isns,
        "resets": resets,
    }


def cmd_synacks(args):
    print(json.dumps(analyse(args.file, args.vip)))


def frame(src_mac, src, dst, sport, dport, seq, ack, flags):
    """An Ethernet + IPv4 + TCP frame (checksums left 0: the reader does not check them)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    eth = b"\x01\x02\x03\x04\x05\x06" + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00"
    return eth + ip + tcp


def cmd_selftest(args):
    vip, client = "198.18.0.100", "198.18.0.200"
    cm, h1, h2 = "02:00:00:00:00:c8", "02:00:00:00:00:01", "02:00:00:00:00:02"
    syn, synack, rst = 0x02, 0x12, 0x14
    frames = [
        frame(cm, client, vip, 40001, 80, 1000, 0, syn),  # answered once, SYN-ACK retransmitted
        frame(h1, vip, client, 80, 40001, 7000, 1001, synack),
        frame(h1, vip, client, 80, 40001, 7000, 1001, synack),
        frame(cm, client, vip, 40002, 80, 2000, 0, syn),  # two MACs
        frame(h1, vip, client, 80, 40002, 8000, 2001, synack),
        frame(h2, vip, client, 80, 40002, 9000, 2001, synack),
        frame(cm, client, vip, 40003, 80, 3000, 0, syn),  # one MAC, two server ISNs
        frame(h1, vip, client, 80, 40003, 5000, 3001, synack),
        frame(h1, vip, client, 80, 40003, 6000, 3001, synack),
        frame(h2, vip, client, 80, 40001, 7001, 0, rst),  # a reset of a client's connection
        frame(cm, client, vip, 40004, 80, 4000, 0, rst),  # the client's own RST: not counted
    ]
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for data in frames:
            f.write(struct.pack("<IIII", 0, 0, len(data), len(data)) + data)
        f.flush()
        r = analyse(f.name, vip)
    got = (r["syns"], r["answered_syns"], [x["client"] for x in r["two_owners"]],
           [x["client"] for x in r["two_isns"]], [x["client"] for x in r["resets"]])
    # Two hosts answer with two sequence numbers too: 40002 is in both lists.
    want = (3, 3, [client + ":40002"], [client + ":40002", client + ":40003"], [client + ":40001"])
    if got != want:
        sys.exit("the SYN-ACK checker is wrong on a forged pcap: got %s, want %s" % (got, want))
    print(json.dumps({"ok": True, "two_owners": 1, "two_isns": 2, "resets": 1}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("stream")
    c.add_argument("--vip", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--rate", type=float, required=True)
    c.add_argument("--timeout", type=float, default=20.0)
    c.add_argument("--source", default="")
    c.add_argument("--first-port", type=int, default=0)
    c = sub.add_parser("synacks")
    c.add_argument("file")
    c.add_argument("--vip", default="")
    sub.add_parser("selftest")
    args = p.parse_args()
    {"stream": cmd_stream, "synacks": cmd_synacks, "selftest": cmd_selftest}[args.cmd](args)


if __name__ == "__main__":
    main()
