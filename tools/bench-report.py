#!/usr/bin/env python3
"""The table, JSON and plots of a `make bench` run.

    tools/bench-report.py RUN_DIR [--plots DIR] [--json FILE]

RUN_DIR is qemu/run.py's output directory; the bench guest's measurements
are the "bench" events in RUN_DIR/bench/results.jsonl (see
qemu/guest/bench.sh). For every device, row (client-server pair, tcp, raw)
and job this prints the median and the min-max over the rounds, then the
ratios that answer the questions: Rust against C in each role, RDMA
against TCP, and SMB Direct against the raw device. Plots need
python3-matplotlib; without it they are skipped with a message.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

ROWS = ["c-c", "rs-c", "c-rs", "rs-rs", "tcp", "raw"]
ROW_NAMES = {
    "c-c": "SMB Direct, C client, C server",
    "rs-c": "SMB Direct, Rust client, C server",
    "c-rs": "SMB Direct, C client, Rust server",
    "rs-rs": "SMB Direct, Rust client, Rust server",
    "tcp": "SMB over TCP, C client, C server",
    "raw": "raw device (best of perftest and qperf) and TCP (qperf)",
}
SEQ_JOBS = ["seq-write-qd1", "seq-write-qd8", "seq-read-qd1", "seq-read-qd8"]
RAND_JOBS = ["rand-read-4k-qd1", "rand-write-4k-qd1", "rand-read-4k-qd16",
             "rand-write-4k-qd16"]
RAW_JOBS = ["rdma_write_bw", "rdma_read_bw", "rdma_lat", "tcp_bw", "tcp_lat"]
# The figure that matters for each job, and its unit.
MAIN = {j: ("MBps", "MB/s") for j in SEQ_JOBS}
MAIN.update({"rand-read-4k-qd1": ("lat_p50_us", "us p50"),
             "rand-write-4k-qd1": ("lat_p50_us", "us p50"),
             "rand-read-4k-qd16": ("iops", "IOPS"), "rand-write-4k-qd16": ("iops", "IOPS"),
             "rdma_write_bw": ("MBps", "MB/s"), "rdma_read_bw": ("MBps", "MB/s"),
             "tcp_bw": ("MBps", "MB/s"), "rdma_lat": ("lat_p50_us", "us typical"),
             "tcp_lat": ("lat_p50_us", "us")})


def load(run_dir, kind="bench"):
    """The KIND events ("bench" measurements, or "check" results) of
    run.py's RUN_DIR/bench, or of one scenario's directory (make test runs
    the bench as a part of a suite)."""
    path = Path(run_dir) / "results.jsonl"
    if not path.exists():
        path = Path(run_dir) / "bench" / "results.jsonl"
    events = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip().strip("\x00")
        if not line:
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("event") == kind:
            events.append(ev)
    return events


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def summarize(events):
    """{device: {row: {job: {figure: stats}}}} over the rounds."""
    out = {}
    for ev in events:
        out.setdefault(ev["device"], {}).setdefault(ev["row"], {}).setdefault(
            ev["job"], []).append(ev)
    summary = {}
    for dev, rows in out.items():
        for row, jobs in rows.items():
            for job, evs in jobs.items():
                figs = {}
                for k in ("MBps", "iops", "lat_p50_us", "lat_p99_us", "cpu_s", "bytes"):
                    s = stats([e.get(k) for e in evs])
                    if s:
                        figs[k] = s
                # CPU seconds per GiB moved, per round.
                per_gib = [e["cpu_s"] / (e["bytes"] / 2**30) for e in evs
                           if e.get("cpu_s") is not None and e.get("bytes")]
                s = stats(per_gib)
                if s:
                    figs["cpu_s_per_GiB"] = s
                summary.setdefault(dev, {}).setdefault(row, {})[job] = figs
    return summary


def fmt(s, digits=1):
    if not s:
        return "-"
    if s["n"] == 1 or s["min"] == s["max"]:
        return "%.*f" % (digits, s["median"])
    return "%.*f (%.*f-%.*f)" % (digits, s["median"], digits, s["min"], digits, s["max"])


def median(summary, dev, row, job, fig):
    s = summary.get(dev, {}).get(row, {}).get(job, {}).get(fig)
    return s["median"] if s else None


def ratios(summary):
    """(question, device, job, value) lines: Rust/C per role, RDMA/TCP,
    SMB Direct/raw device."""
    out = []
    for dev in sorted(summary):
        for job in SEQ_JOBS + RAND_JOBS:
            fig = MAIN[job][0]
            # Lower is better for latency: report C/Rust so > 1 means Rust wins.
            lower = fig.startswith("lat")
            for label, a, b in (("Rust/C client (vs C server)", "rs-c", "c-c"),
                                ("Rust/C server (C client)", "c-rs", "c-c"),
                                ("Rust/C both ends", "rs-rs", "c-c"),
                                ("RDMA (C/C)/TCP", "c-c", "tcp"),
                                ("RDMA (Rust/Rust)/TCP", "rs-rs", "tcp")):
                x, y = median(summary, dev, a, job, fig), median(summary, dev, b, job, fig)
                if x and y:
                    out.append((label, dev, job, (y / x) if lower else (x / y)))
        # An SMB write is the server's RDMA read of the client's buffer, an
        # SMB read its RDMA write.
        for job, raw in (("seq-write-qd8", "rdma_read_bw"), ("seq-read-qd8", "rdma_write_bw")):
            r = median(summary, dev, "raw", raw, "MBps")
            for row in ("c-c", "rs-rs"):
                x = median(summary, dev, row, job, "MBps")
                if x and r:
                    out.append(("%s/raw device" % row, dev, job, x / r))
    return out


def table(summary):
    lines = []
    for dev in sorted(summary):
        lines.append("")
        lines.append("== %s: median (min-max) over rounds" % dev)
        head = "%-6s %-20s %22s %22s %22s %18s" % ("row", "job", "main figure", "p99 us",
                                                   "CPU s/GiB", "")
        lines.append(head.rstrip())
        for row in ROWS:
            jobs = summary[dev].get(row)
            if not jobs:
                continue
            for job in SEQ_JOBS + RAND_JOBS + RAW_JOBS:
                figs = jobs.get(job)
                if not figs:
                    continue
                fig, unit = MAIN.get(job, ("MBps", "MB/s"))
                main = fmt(figs.get(fig), 0 if fig == "iops" else 1) + " " + unit
                lines.append("%-6s %-20s %22s %22s %22s" % (
                    row, job, main, fmt(figs.get("lat_p99_us"), 0),
                    fmt(figs.get("cpu_s_per_GiB"), 2)))
    return "\n".join(lines)


def plots(summary, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench-report: no matplotlib (python3-matplotlib): plots skipped", file=sys.stderr)
        return []
    outdir.mkdir(parents=True, exist_ok=True)
    made = []
    for name, jobs, fig, ylabel in (
            ("throughput", SEQ_JOBS, "MBps", "MB/s (1 MiB O_DIRECT)"),
            ("latency-4k", ["rand-read-4k-qd1", "rand-write-4k-qd1"], "lat_p50_us",
             "p50 latency, us (4 KiB, depth 1)"),
            ("iops-4k", ["rand-read-4k-qd16", "rand-write-4k-qd16"], "iops",
             "IOPS (4 KiB, depth 16)"),
            ("cpu-per-gib", SEQ_JOBS, "cpu_s_per_GiB", "guest CPU s per GiB")):
        devs = sorted(summary)
        f, axes = plt.subplots(1, len(devs), figsize=(6 * len(devs), 4), squeeze=False)
        for ax, dev in zip(axes[0], devs):
            rows = [r for r in ROWS[:5] if r in summary[dev]]
            width = 0.8 / max(1, len(rows))
            for i, row in enumerate(rows):
                med, lo, hi = [], [], []
                for job in jobs:
                    s = summary[dev][row].get(job, {}).get(fig)
                    med.append(s["median"] if s else 0)
                    lo.append(s["median"] - s["min"] if s else 0)
                    hi.append(s["max"] - s["median"] if s else 0)
                xs = [j + i * width for j in range(len(jobs))]
                ax.bar(xs, med, width, yerr=[lo, hi], capsize=3, label=row)
            ax.set_xticks([j + 0.4 - width / 2 for j in range(len(jobs))])
            ax.set_xticklabels(jobs, rotation=20, fontsize=8)
            ax.set_title(dev)
            ax.set_ylabel(ylabel)
            ax.legend(fontsize=7)
        f.tight_layout()
        path = outdir / ("%s.png" % name)
        f.savefig(path, dpi=100)
        plt.close(f)
        made.append(str(path))
    return made


def brief(summary, checks):
    """make demo's table: per device, each transport's 1 MiB throughput
    (depth 8), 4 KiB IOPS (depth 16) and latency (depth 1), and whether
    its data verified and it really ran over what it names."""
    ok = {}
    for c in checks:
        ok.setdefault(c["name"], []).append(bool(c.get("ok")))

    def passed(dev, row, what):
        results = [v for name, vs in ok.items() for v in vs
                   if name.startswith("bench_%s_%s_r" % (dev, row)) and name.endswith(what)]
        return "-" if not results else ("ok" if all(results) else "FAILED")

    lines = ["%-4s %-38s %9s %9s %9s %9s %9s %9s" % (
        "dev", "transport", "write", "read", "4K read", "4K read", "verified", "transport")]
    lines.append("%-4s %-38s %9s %9s %9s %9s %9s %9s" % (
        "", "", "MB/s", "MB/s", "IOPS", "p50 us", "(sha256)", "checked"))
    for dev in sorted(summary):
        for row in ROWS[:5]:
            if row not in summary[dev]:
                continue
            figs = [median(summary, dev, row, "seq-write-qd8", "MBps"),
                    median(summary, dev, row, "seq-read-qd8", "MBps"),
                    median(summary, dev, row, "rand-read-4k-qd16", "iops"),
                    median(summary, dev, row, "rand-read-4k-qd1", "lat_p50_us")]
            name = ROW_NAMES[row]
            lines.append("%-4s %-38s %9s %9s %9s %9s %9s %9s" % (
                dev, name[:38], *["-" if v is None else "%.0f" % v for v in figs],
                passed(dev, row, "_verified"), passed(dev, row, "_transport")))
        # An SMB write is the server's RDMA read, an SMB read its write.
        raw = [median(summary, dev, "raw", j, "MBps") for j in ("rdma_read_bw", "rdma_write_bw")]
        if any(raw):
            lines.append("%-4s %-38s %9s %9s" % (
                dev, "raw device: RDMA read / RDMA write", *["-" if v is None else "%.0f" % v
                                                             for v in raw]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir")
    ap.add_argument("--plots", type=Path, default=None, help="directory for PNG plots")
    ap.add_argument("--json", type=Path, default=None, help="write the summary here")
    ap.add_argument("--brief", action="store_true",
                    help="make demo's short table and the Rust/C ratios only")
    ap.add_argument("--require-all", action="store_true",
                    help="fail unless every row has every job on every device measured")
    args = ap.parse_args()
    events = load(args.run_dir)
    if not events:
        print("bench-report: no bench measurements in %s" % args.run_dir, file=sys.stderr)
        return 1
    summary = summarize(events)
    if args.brief:
        print(brief(summary, load(args.run_dir, "check")))
        print("\nRust/C (medians; > 1: Rust is faster; latency as C/Rust):")
        for label, dev, job, v in ratios(summary):
            if label.startswith("Rust/C") and job in ("seq-write-qd8", "seq-read-qd8",
                                                      "rand-read-4k-qd16", "rand-read-4k-qd1"):
                print("  %-28s %-4s %-20s %.2f" % (label, dev, job, v))
        return 0
    print("rows: " + "; ".join("%s = %s" % (r, ROW_NAMES[r]) for r in ROWS))
    print(table(summary))
    print("\nratios (medians; > 1 favours the first; latency as C/Rust):")
    for label, dev, job, v in ratios(summary):
        print("  %-28s %-4s %-20s %.2f" % (label, dev, job, v))
    made = plots(summary, args.plots) if args.plots else []
    for p in made:
        print("plot: %s" % p)
    missing = [(dev, row, job) for dev in sorted(summary) for row in ROWS
               for job in (RAW_JOBS if row == "raw" else SEQ_JOBS + RAND_JOBS)
               if MAIN[job][0] not in summary[dev].get(row, {}).get(job, {})]
    for dev, row, job in missing:
        print("bench-report: no figure for %s %s %s" % (dev, row, job), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "ratios": [
            {"question": q, "device": d, "job": j, "value": v} for q, d, j, v in ratios(summary)],
            "plots": made, "rounds": max(e["round"] for e in events)}, indent=2) + "\n")
    if args.require_all and missing:
        print("bench-report: %d figures missing" % len(missing))
        return 1
    print("bench-report: 1 passed, 0 failed" if args.require_all else "bench-report: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
