"""Summaries for tests/bench/datapath_bench.sh (run by it; not on its own).

  datapath_summary.py packets STEPS          per phase: loss-free rate, CPU and nlbd's context
                                             switches per packet step, ratios to phase nft
  datapath_summary.py wrk FILE TARGET REP [MODE]   one wrk output -> one JSON line
  datapath_summary.py http ROWS BASE T...    medians per target (and mode), ratios to BASE

Every ratio is of figures from the same run: the machine is shared and noisy, so only those
compare (docs/benchmarks.md).
"""
import json
import re
import statistics
import sys

# nft-xdp: the nft filter's steps while nlbd's XDP program is attached (xdp phase): on veth an XDP
# program moves the receive path into the veth's NAPI, so these are not the plain nft figure.
# "nlbd" (the since-retired kernel fast path) is gone.
PHASES = ("nft", "pcap", "bpf", "nft-xdp", "xdp")


def packets(path):
    steps = [json.loads(l) for l in open(path)]
    present = [p for p in PHASES if any(s["phase"] == p for s in steps)]

    def summary(phase):
        out = []
        for rep in sorted({s["rep"] for s in steps if s["phase"] == phase}):
            mine = sorted((s for s in steps if s["phase"] == phase and s["rep"] == rep),
                          key=lambda s: s["rate"])
            kept = mine[0]["reached"] / mine[0]["sent"]
            lossfree, best, cpu_at = 0, 0, None
            for s in mine:
                processed = s["steady_reached_pps"] / kept
                best = max(best, processed)
                ok = (s["reached"] >= 0.999 * kept * s["sent"]
                      and s["steady_reached_pps"] >= 0.99 * kept * s["offered_pps"])
                if ok and s["offered_pps"] > lossfree:
                    lossfree, cpu_at = s["offered_pps"], s
            top = mine[-1]
            nan = float("nan")
            out.append(dict(
                kept=kept, lossfree=lossfree, best=best, top_offered=top["offered_pps"],
                top_processed=top["steady_reached_pps"] / kept,
                cpu=cpu_at["cpu_ns_per_packet"] if cpu_at else nan,
                nlbd_cpu=cpu_at["nlbd_cpu_ns_per_packet"] if cpu_at else nan,
                # nlbd's context switches (all threads, voluntary + involuntary) per second of
                # sending: at the loss-free step and the median over every step.
                cs=cpu_at.get("nlbd_cs_per_s", nan) if cpu_at else nan,
                cs_all=statistics.median(s.get("nlbd_cs_per_s", nan) for s in mine),
                # The program's own run time per frame (host 1, kernel BPF statistics).
                prog=statistics.median(s.get("prog_ns_per_run", nan) for s in mine),
                # xdp-live: host 1's NAPI thread's CPU per frame at the loss-free step (all its
                # receive work), the frames its ring refused at the top step, the sender's time.
                rx=cpu_at.get("rx_cpu_ns_per_packet", nan) if cpu_at else nan,
                ring_full=top.get("ring_full", nan),
                sender=statistics.median(s.get("sender_ns_per_frame", nan) for s in mine)))
        med = lambda k: statistics.median(o[k] for o in out)
        return {k: med(k) for k in out[0]}, out

    res = {}
    for phase in present:
        m, all_reps = summary(phase)
        res[phase] = m
        print("%-7s kept %.3f | loss-free %s | best processed %s | at top offered %s: processed %s"
              " | cpu %.0f ns/pkt (nlbd %.0f) | nlbd cs/s at loss-free %.0f, all steps %.0f"
              "%s  [reps: loss-free %s]" % (
                  phase, m["kept"], int(m["lossfree"]), int(m["best"]), int(m["top_offered"]),
                  int(m["top_processed"]), m["cpu"], m["nlbd_cpu"], m["cs"], m["cs_all"],
                  ("" if m["prog"] != m["prog"] else " | program %.0f ns/frame" % m["prog"])
                  + ("" if m["rx"] != m["rx"] else
                     " | receiver %.0f ns/pkt (%.0f pkt per CPU-second), ring full at top %d%s"
                     % (m["rx"], 1e9 / m["rx"], m["ring_full"],
                        "" if m["sender"] != m["sender"] else
                        ", sender %.0f ns/frame" % m["sender"])),
                  [int(o["lossfree"]) for o in all_reps]))
    k = res["nft"]
    for phase in present[1:]:
        n = res[phase]
        print("ratio %s/nft: loss-free %.2f, best processed %.2f, cpu/pkt %.2f; under overload"
              " (top/best) %.2f, offered/loss-free %.1fx" % (
                  phase, n["lossfree"] / k["lossfree"], n["best"] / k["best"], n["cpu"] / k["cpu"],
                  n["top_processed"] / n["best"], n["top_offered"] / max(n["lossfree"], 1))
              + ("" if n["rx"] != n["rx"] else ", receiver cpu/pkt %.2f" % (n["rx"] / k["rx"])))
    # xdp-live: the receiver's CPU per frame falls as its batches grow with the rate, so the
    # phases compare step by step (median over reps at each asked rate), not at their own
    # loss-free steps.
    if any("rx_cpu_ns_per_packet" in s for s in steps):
        print("receiver CPU per frame by asked rate (median of reps; ratio to nft):")
        for rate in sorted({s["rate"] for s in steps}):
            med = {p: statistics.median(s["rx_cpu_ns_per_packet"] for s in steps
                                        if s["phase"] == p and s["rate"] == rate)
                   for p in present}
            print("  %7d/s: " % rate + ", ".join(
                "%s %.0f ns (%.2f)" % (p, med[p], med[p] / med["nft"]) for p in present))
    # XDP against the tc program, both nlbd's, same run.
    if "xdp" in res and "bpf" in res:
        n, t = res["xdp"], res["bpf"]
        print("ratio xdp/bpf: loss-free %.2f, best processed %.2f, cpu/pkt %.2f%s" % (
            n["lossfree"] / t["lossfree"], n["best"] / t["best"], n["cpu"] / t["cpu"],
            "" if n["rx"] != n["rx"] else ", receiver cpu/pkt %.2f" % (n["rx"] / t["rx"])))


def wrk(path, target, rep, mode="keepalive", nlbd_cs=None, machine_cs=None):
    t = open(path).read()
    unit = {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}

    def ms(v):  # wrk's "724.00us", "1.05ms", "2.00s", "1.00m"; anything else is kept as NaN
        m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
        if not m:
            print("datapath_summary: %s: cannot read wrk's latency %r" % (path, v), file=sys.stderr)
            return float("nan")
        return float(m.group(1)) * unit[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = re.search(r"Latency\s+(\S+)", t).group(1)
    p99 = re.search(r"99%\s+(\S+)", t).group(1)
    errors = re.search(r"Socket errors: (.*)", t)
    row = dict(target=target, rep=int(rep), mode=mode, rps=rps, mean_ms=ms(lat), p99_ms=ms(p99),
               errors=errors.group(1) if errors else "none")
    if nlbd_cs is not None:  # context switches per second during the run: nlbd's, the machine's
        row.update(nlbd_cs=int(nlbd_cs), machine_cs=int(machine_cs))
    print(json.dumps(row))


def http(path, base, *targets):
    rows = [json.loads(l) for l in open(path)]
    for mode in sorted({r.get("mode", "keepalive") for r in rows}):
        mine = [r for r in rows if r.get("mode", "keepalive") == mode]
        med = lambda t, k: statistics.median(r[k] for r in mine if r["target"] == t)
        print("%s:" % mode)
        for t in (base,) + targets:
            cs = ""
            if all("nlbd_cs" in r for r in mine if r["target"] == t):
                cs = ", context switches/s: nlbd %d, machine %d" % (med(t, "nlbd_cs"), med(t, "machine_cs"))
            print("  %-6s median %.0f requests/s, mean latency %.3f ms, p99 %.3f ms%s" % (
                t, med(t, "rps"), med(t, "mean_ms"), med(t, "p99_ms"), cs))
        # Each rep's runs are back to back: their ratio cancels the machine's slow load changes.
        pairs = {}
        for r in mine:
            pairs.setdefault(r["rep"], {})[r["target"]] = r
        for t in targets:
            rps = sorted(p[t]["rps"] / p[base]["rps"] for p in pairs.values())
            lat = sorted(p[t]["mean_ms"] / p[base]["mean_ms"] for p in pairs.values())
            print("  %s/%s: ratio of medians %.3f (overhead %.1f%%), mean latency %.2fx;"
                  " per-rep requests/s %s -> median %.3f; mean latency median %.2fx" % (
                      t, base, med(t, "rps") / med(base, "rps"),
                      100 * (1 - med(t, "rps") / med(base, "rps")),
                      med(t, "mean_ms") / med(base, "mean_ms"),
                      " ".join("%.2f" % x for x in rps), statistics.median(rps),
                      statistics.median(lat)))


if __name__ == "__main__":
    {"packets": packets, "wrk": wrk, "http": http}[sys.argv[1]](*sys.argv[2:])
