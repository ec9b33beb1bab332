#!/usr/bin/env python3
"""Boot the smbdirect-rs test kernel in QEMU, one guest per scenario.

    qemu/run.py --flavor debug --scenario module --scenario interop-c-c-rxe
    qemu/run.py --list

Each scenario boots $SMBDRS_CACHE/out/FLAVOR/{bzImage,initramfs.cpio} with
smbdrs.scenario=NAME on the kernel command line. The guest's /init runs the
scenario script and reports JSON lines on its second serial port; the console
(first serial port) is kept in OUT/NAME/console.log and scanned afterwards for
kernel reports (KASAN, UBSAN, lockdep, BUG/WARNING/Oops, kmemleak, hangs).

Statuses: pass, fail, timeout, and upstream-fail: a kernel report in a
scenario that runs only upstream code (the C client and server baselines,
"# smbdrs-kind: upstream" in the script) is recorded and shown but does not
fail the run. Anything in a scenario that loads smbdirect_rs always fails.

Writes OUT/summary.json, prints a table, and ends with the line
"vm: N passed, N failed". Exit status 0 only when nothing failed.
Only the Python standard library is used.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("SMBDRS_CACHE", Path.home() / ".cache" / "smbdirect-rs"))
SCENARIO_DIRS = {
    False: REPO / "qemu" / "guest" / "scenarios",  # the normal list
    True: REPO / "tests" / "harness" / "scenarios",  # deliberate failures
}


def _find_qemu():
    """SMBDRS_QEMU, else the machine's qemu, else the one install-deps
    unpacked into the cache (where Debian's package would have removed one
    of the user's)."""
    if os.environ.get("SMBDRS_QEMU"):
        return os.environ["SMBDRS_QEMU"]
    unpacked = CACHE / "qemu" / "bin" / "qemu-system-x86_64"
    if not shutil.which("qemu-system-x86_64") and unpacked.exists():
        return str(unpacked)
    return "qemu-system-x86_64"


QEMU = _find_qemu()
DEFAULT_TIMEOUT = 600
KVM_PROBE_SECONDS = 8

# ---------------------------------------------------------------- scenarios


class Scenario:
    def __init__(self, path, selftest):
        self.path = path
        self.name = path.stem
        self.selftest = selftest
        text = path.read_text()
        self.kind = _header(text, "kind", "ours")
        self.timeout = int(_header(text, "timeout", str(DEFAULT_TIMEOUT)))
        self.expect = _header(text, "expect", None)
        # "no": skip /init's closing kmemleak scans (about 30 s a boot under
        # TCG), for harness self-tests that check something else.
        self.kmemleak = _header(text, "kmemleak", "yes") != "no"


def _header(text, key, default):
    m = re.search(r"^# smbdrs-%s: *(\S+)" % key, text, re.M)
    return m.group(1) if m else default


def all_scenarios():
    out = {}
    for selftest, d in SCENARIO_DIRS.items():
        for p in sorted(d.glob("*.sh")):
            out[p.stem] = Scenario(p, selftest)
    return out


# ---------------------------------------------------------------- kernel reports

# (kind, regex) in priority order: a line is classified by the first match.
REPORT_PATTERNS = [
    ("kasan", r"BUG: KASAN: "),
    ("ubsan", r"UBSAN: "),
    ("kfence", r"BUG: KFENCE: "),
    ("lockdep", r"WARNING: (possible recursive locking detected|possible circular locking"
     r" dependency detected|inconsistent lock state|possible irq lock inversion"
     r" dependency detected|suspicious RCU usage|bad unlock balance detected|held lock freed"
     r"|lock held when returning to user space|Nested lock was not taken"
     r"|still has locks held|bad contention detected)"),
    ("lockdep", r"BUG: (MAX_LOCKDEP_|looking up invalid subclass|key .* has not been registered)"),
    ("sleep-in-atomic", r"BUG: (sleeping function called from invalid context|scheduling while atomic"
     r"|workqueue leaked|using smp_processor_id\(\) in preemptible)"),
    ("oops", r"BUG: unable to handle|BUG: kernel NULL pointer dereference|Oops: |"
     r"general protection fault|kernel BUG at"),
    ("soft-lockup", r"watchdog: BUG: soft lockup|watchdog: .*hard LOCKUP"),
    ("rcu-stall", r"rcu: INFO: .*detected stall|self-detected stall on CPU"),
    ("hung-task", r"INFO: task .* blocked for more than"),
    ("cifs-hang", r"has not responded in \d+ seconds"),
    ("list-corruption", r"list_(add|del) corruption"),
    ("debugobjects", r"ODEBUG: "),
    ("panic", r"Kernel panic - not syncing"),
    ("bug", r"BUG: "),
    ("warning", r"WARNING: "),
    ("stack-dump", r"Call Trace:"),
]
_REPORT_RES = [(k, re.compile(p)) for k, p in REPORT_PATTERNS]
KLINE = re.compile(r"^\[\s*(\d+\.\d+)\]\s?(?:\[\s*[TC]\d+\]\s?)?(.*)$")
END_TRACE = re.compile(r"---\[ end trace|---\[ end Kernel panic")
# A fault-injection scenario brackets its walk with these kernel lines
# (written to /dev/kmsg); inside, the allocation-failure warning that an
# injected failure itself prints (warn_alloc's stack dump) is expected.
FAULT_ON = re.compile(r"smbdrs: fault injection on")
FAULT_OFF = re.compile(r"smbdrs: fault injection off")
ALLOC_FAILURE = re.compile(r"vmalloc error: |page allocation failure: ")
EXCERPT_LINES = 45


def kernel_lines(text):
    """(timestamp, message) for every printk line in text; other lines are
    user space (the scenario's own output) and never count as reports."""
    out = []
    for line in text.splitlines():
        m = KLINE.match(line.rstrip("\r"))
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def classify(msg):
    for kind, rx in _REPORT_RES:
        if rx.search(msg):
            return kind
    return None


def scan_reports(*texts):
    """Kernel reports in the given logs, de-duplicated by (time, first line):
    the console and the dmesg dump hold the same printk lines."""
    lines = []
    seen = set()
    for text in texts:
        for ts, msg in kernel_lines(text):
            if (ts, msg) not in seen:
                seen.add((ts, msg))
                lines.append((float(ts), ts, msg))
    lines.sort(key=lambda x: x[0])
    reports = []
    covered_until = -1
    injecting = False
    for i, (_, ts, msg) in enumerate(lines):
        if FAULT_ON.search(msg):
            injecting = True
        elif FAULT_OFF.search(msg):
            injecting = False
        if i <= covered_until:
            continue
        kind = classify(msg)
        if not kind:
            continue
        end = i
        while end + 1 < len(lines) and end - i < EXCERPT_LINES:
            end += 1
            if END_TRACE.search(lines[end][2]):
                break
            # a stack dump ends at the first line that is no longer part of it
            if kind == "stack-dump" and not lines[end][2].startswith((" ", "?", "<")):
                end -= 1
                break
        start = max(0, i - 3) if kind == "stack-dump" else i
        excerpt = "\n".join("[%s] %s" % (t, m) for _, t, m in lines[start:end + 1])
        injected = (kind == "stack-dump" and injecting and
                    any(ALLOC_FAILURE.search(m) for _, _, m in lines[max(0, i - 3):i]))
        reports.append({"kind": kind, "time": float(ts), "line": msg, "excerpt": excerpt,
                        "injected": injected})
        covered_until = end
    return reports


def scan_kmemleak(console):
    """kmemleak reports that /init printed between its markers."""
    m = re.search(r"=== smbdrs kmemleak begin ===\n(.*?)=== smbdrs kmemleak end ===",
                  console.replace("\r", ""), re.S)
    if not m:
        return []
    body = m.group(1)
    out = []
    for chunk in re.split(r"(?=^unreferenced object 0x)", body, flags=re.M):
        if chunk.startswith("unreferenced object"):
            lines = chunk.strip().splitlines()
            out.append({"kind": "kmemleak", "time": None, "line": lines[0],
                        "excerpt": "\n".join(lines[:30])})
    return out


def mentions_ours(text):
    return "smbdirect_rs" in text or "smbdirect-rs" in text


# ---------------------------------------------------------------- qemu


def host_tsc_khz():
    """TCG's guest TSC ticks at the host's TSC rate; telling the guest that
    rate (tsc_early_khz=) keeps its cpu_khz, and so /proc/cpuinfo's cpu MHz
    that perftest reads, from depending on a PIT calibration under TCG."""
    env = os.environ.get("SMBDRS_TSC_KHZ")
    if env:
        return int(env)
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("cpu MHz"):
                return int(float(line.split(":")[1]) * 1000)
    except OSError:
        pass
    return None


_ACCEL = None


def probe_kvm(kernel):
    """Boot the kernel with KVM for a few seconds: a usable KVM prints the
    first kernel line almost at once. Here /dev/kvm exists but guests hang
    right after SeaBIOS, so a short probe decides. Cached for the process;
    SMBDRS_ACCEL=kvm|tcg skips it."""
    global _ACCEL
    if _ACCEL:
        return _ACCEL
    forced = os.environ.get("SMBDRS_ACCEL")
    if forced in ("kvm", "tcg"):
        _ACCEL = (forced, "forced by SMBDRS_ACCEL")
        return _ACCEL
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        _ACCEL = ("tcg", "no usable /dev/kvm")
        return _ACCEL
    cmd = [QEMU, "-accel", "kvm", "-m", "256M", "-smp", "1", "-nographic", "-no-reboot",
           "-nic", "none", "-monitor", "none", "-serial", "stdio", "-kernel", str(kernel),
           "-append", "console=ttyS0 panic=-1"]
    t0 = time.monotonic()
    verdict = ("tcg", "KVM probe: no kernel output within %d s" % KVM_PROBE_SECONDS)
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as e:
        _ACCEL = ("tcg", "KVM probe: %s" % e)
        return _ACCEL
    buf = b""
    try:
        while time.monotonic() - t0 < KVM_PROBE_SECONDS:
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                if re.search(rb"Linux version|\[\s*\d+\.\d+\]", buf):
                    verdict = ("kvm", "KVM probe: kernel printed after %.1f s"
                               % (time.monotonic() - t0))
                    break
        else:
            pass
        if p.poll() is not None and verdict[0] == "tcg":
            tail = buf.decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            verdict = ("tcg", "KVM probe: qemu exited %s: %s" % (p.returncode, tail[0]))
    finally:
        _kill(p)
    _ACCEL = verdict
    return _ACCEL


def _kill(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait()


MARKERS = [
    ("first_console", re.compile(r"^\[\s*\d+\.\d+\]")),
    ("kernel_init", re.compile(r"Run /init as init process")),
    ("init", re.compile(r"^smbdrs-init: start")),
    ("scenario_start", re.compile(r"^smbdrs-init: scenario \S+ start")),
    ("scenario_end", re.compile(r"^smbdrs-init: scenario \S+ end")),
    ("done", re.compile(r"^smbdrs-init: done")),
]


# The guests running now (with --jobs, several), killed if run.py is
# interrupted: each runs in its own session, out of Ctrl-C's reach.
_GUESTS = set()
_GUESTS_LOCK = threading.Lock()


def boot(scen, args, accel, outdir):
    """One guest for one scenario. Returns the raw outcome."""
    flav = CACHE / "out" / args.flavor
    console_path = outdir / "console.log"
    results_path = outdir / "results.jsonl"
    dmesg_path = outdir / "dmesg.txt"
    for f in (console_path, results_path, dmesg_path):
        if f.exists():
            f.unlink()
    results_path.touch()
    dmesg_path.touch()
    # A large log buffer: fault walks print a verdict per step, and the
    # scenarios count them in dmesg.
    append = ["console=ttyS0,115200", "panic=-1", "printk.time=1", "log_buf_len=8M",
              "smbdrs.scenario=%s" % scen.name, "smbdrs.cpus=%d" % args.smp]
    tsc = host_tsc_khz() if accel == "tcg" else None
    if tsc:
        append.append("tsc_early_khz=%d" % tsc)
        # A host busy with another guest delays a vCPU enough for the
        # clocksource watchdog to call the TSC unstable at boot; the guest
        # then keeps time in jiffies (4 ms), and fio's latencies read 0 or
        # 4014 us. TCG's TSC is the host's: trust it.
        append.append("tsc=reliable")
    if not scen.kmemleak:
        append.append("smbdrs.kmemleak=0")
    append += ["smbdrs.%s" % kv for kv in args.set]
    if args.append:
        append.append(args.append)
    cmd = [QEMU, "-accel", "tcg,thread=multi" if accel == "tcg" else "kvm",
           "-cpu", args.cpu, "-m", args.mem,
           # One CPU a socket: the kernel has no ACPI, so it counts CPUs in
           # SeaBIOS's MP table, which lists the first CPU of each socket
           # only. A bare "-smp 2" (one socket of two cores since QEMU 6.2)
           # booted every guest with one CPU.
           "-smp", "%d,sockets=%d,cores=1,threads=1" % (args.smp, args.smp),
           "-nographic", "-no-reboot", "-nic", "none", "-monitor", "none",
           "-kernel", str(flav / "bzImage"), "-initrd", str(flav / "initramfs.cpio"),
           "-append", " ".join(append),
           "-serial", "stdio",
           "-serial", "file:%s" % results_path,
           "-serial", "file:%s" % dmesg_path]
    (outdir / "qemu-cmdline.txt").write_text(" ".join(cmd) + "\n")
    timeout = args.timeout or scen.timeout
    marks = {}
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    with _GUESTS_LOCK:
        _GUESTS.add(p)

    def reader():
        with open(console_path, "w") as log:
            for raw in iter(p.stdout.readline, b""):
                line = raw.decode(errors="replace").rstrip("\r\n").replace("\r", "")
                now = time.monotonic() - t0
                log.write(line + "\n")
                log.flush()
                if args.verbose:
                    print("  %7.1f| %s" % (now, line), flush=True)
                for name, rx in MARKERS:
                    if name not in marks and rx.search(line):
                        marks[name] = round(now, 2)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    timed_out = False
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(p)
    except BaseException:
        _kill(p)  # qemu runs in its own session: Ctrl-C would not reach it
        raise
    finally:
        with _GUESTS_LOCK:
            _GUESTS.discard(p)
    th.join(5)
    return {
        "timed_out": timed_out,
        "timeout": timeout,
        "qemu_rc": p.returncode,
        "wall": round(time.monotonic() - t0, 2),
        "marks": marks,
        "cmdline": " ".join(append),
    }


# ---------------------------------------------------------------- judging


def read_events(path):
    events, bad = [], []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip().strip("\x00")
        if not line:
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            bad.append(line[:200])
    return events, bad


def judge(scen, raw, accel, outdir):
    console = (outdir / "console.log").read_text(errors="replace")
    dmesg = (outdir / "dmesg.txt").read_text(errors="replace")
    events, bad = read_events(outdir / "results.jsonl")
    metrics, notes, checks = {}, {}, []
    boot_ev = end_ev = done_ev = kml_ev = None
    for ev in events:
        e = ev.get("event")
        if e == "metric":
            metrics[ev.get("name")] = ev.get("value")
        elif e == "note":
            notes[ev.get("name")] = ev.get("text")
        elif e == "check":
            checks.append({k: ev.get(k) for k in ("name", "ok", "detail")})
        elif e == "boot":
            boot_ev = ev
        elif e == "end":
            end_ev = ev
        elif e == "scenario_done":
            done_ev = ev
        elif e == "kmemleak":
            kml_ev = ev

    reasons = []
    for c in checks:
        if not c["ok"]:
            reasons.append({"kind": "check", "message": "check %s failed" % c["name"],
                            "excerpt": c.get("detail") or ""})
    if bad:
        reasons.append({"kind": "guest", "message": "unparsable result lines",
                        "excerpt": "\n".join(bad[:5])})
    if raw["timed_out"]:
        reasons.append({"kind": "timeout",
                        "message": "guest did not finish within %d s; qemu killed" % raw["timeout"],
                        "excerpt": "\n".join(console.splitlines()[-15:])})
    elif end_ev is None:
        reasons.append({"kind": "guest", "message": "guest ended without an end event "
                        "(qemu rc %s)" % raw["qemu_rc"],
                        "excerpt": "\n".join(console.splitlines()[-15:])})
    elif end_ev.get("status") != "pass" and not any(r["kind"] == "check" for r in reasons):
        reasons.append({"kind": "check", "message": "scenario script exited %s"
                        % end_ev.get("rc"), "excerpt": ""})

    reports = scan_reports(console, dmesg) + scan_kmemleak(console)
    injected = [r for r in reports if r.get("injected")]
    reports = [r for r in reports if not r.get("injected")]
    if injected:
        notes["injected allocation failures"] = (
            "%d allocation-failure warnings printed by injected faults (expected, "
            "not reports)" % len(injected))
    ours_loaded = mentions_ours(console) or mentions_ours(dmesg)
    upstream_reports = []
    for r in reports:
        if scen.kind == "upstream" and not ours_loaded and not mentions_ours(r["excerpt"]):
            upstream_reports.append(r)
        else:
            reasons.append({"kind": "report", "message": "kernel report: %s: %s"
                            % (r["kind"], r["line"][:160]), "excerpt": r["excerpt"]})

    if any(r["kind"] == "report" for r in reasons):
        status = "fail" if not raw["timed_out"] else "timeout"
    elif upstream_reports:
        # The first upstream report explains what follows (a hang, a failed
        # check): record it all, do not fail the run.
        status = "upstream-fail"
    elif raw["timed_out"]:
        status = "timeout"
    elif reasons:
        status = "fail"
    else:
        status = "pass"

    parts = judge_parts(events, reports, raw["timed_out"])
    boot = dict(raw["marks"])
    if boot_ev:
        boot["guest_uptime_at_init"] = boot_ev.get("uptime")
        boot["guest_cpu_mhz"] = boot_ev.get("cpu_mhz")
    return {
        "name": scen.name,
        "kind": scen.kind,
        "selftest": scen.selftest,
        "expect": scen.expect,
        "status": status,
        "accelerator": accel,
        "duration_s": raw["wall"],
        "scenario_s": done_ev.get("seconds") if done_ev else None,
        "boot": boot,
        "metrics": metrics,
        "notes": notes,
        "checks": checks,
        "kmemleak": kml_ev,
        "reasons": reasons,
        "upstream_reports": upstream_reports,
        "parts": parts,
        "kernel_cmdline": raw["cmdline"],
        "logs": {k: str(outdir / f) for k, f in
                 (("console", "console.log"), ("results", "results.jsonl"),
                  ("dmesg", "dmesg.txt"))},
    }


def judge_parts(events, reports, timed_out):
    """Verdicts of the parts of a suite (`part` in lib.sh), one per part:
    its checks and metrics, the kernel reports printed while it ran (by
    timestamp; kmemleak's, found after every part, stay the suite's) and its
    exit status. A part that never ended failed, or timed out."""
    parts, cur = [], None
    for ev in events:
        e = ev.get("event")
        if e == "part" and ev.get("phase") == "start":
            cur = {"name": ev.get("name"), "start": ev.get("uptime"), "end": None,
                   "rc": None, "checks": [], "metrics": {}}
            parts.append(cur)
        elif e == "part" and cur is not None and ev.get("name") == cur["name"]:
            cur["end"], cur["rc"], cur = ev.get("uptime"), ev.get("rc"), None
        elif e == "check" and cur is not None:
            cur["checks"].append(ev)
        elif e == "metric" and cur is not None:
            cur["metrics"][ev.get("name")] = ev.get("value")
    out = []
    for p in parts:
        start = p["start"] or 0
        end = p["end"] if p["end"] is not None else float("inf")
        failed = [c.get("name") for c in p["checks"] if not c.get("ok")]
        reps = [r for r in reports if r.get("time") is not None and start <= r["time"] <= end]
        if p["end"] is None:
            status = "timeout" if timed_out else "fail"
        elif failed or reps or p["rc"] != 0:
            status = "fail"
        else:
            status = "pass"
        out.append({"name": p["name"], "status": status,
                    "seconds": round(p["end"] - start, 1) if p["end"] is not None else None,
                    "rc": p["rc"], "checks": len(p["checks"]), "failed_checks": failed,
                    "reports": ["%s: %s" % (r["kind"], r["line"][:160]) for r in reps],
                    "metrics": p["metrics"]})
    return out


def units(res):
    """What a result counts as in "N passed, N failed": each part of a
    suite (plus the suite itself when it failed outside its parts, e.g. a
    kmemleak report or a guest that never ended), or the scenario."""
    parts = res.get("parts") or []
    if not parts:
        return [(res["name"], res["status"])]
    out = [(res["name"] + "/" + p["name"], p["status"]) for p in parts]
    bad = ("fail", "timeout")
    if res["status"] in bad and not any(st in bad for _, st in out):
        out.append((res["name"], res["status"]))
    return out


# ---------------------------------------------------------------- main


def short_metrics(m, limit=4):
    keys = [k for k in m if k.endswith("MBps")] or list(m)
    return ", ".join("%s=%s" % (k, m[k]) for k in keys[:limit])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flavor", default="debug")
    ap.add_argument("--scenario", action="append", default=[],
                    help="scenario to run (repeatable); default: every normal scenario")
    ap.add_argument("--timeout", type=int, default=0,
                    help="hard timeout per guest in seconds (default: the scenario's own)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--list", action="store_true", help="list scenarios and exit")
    ap.add_argument("--cpu", default=os.environ.get("SMBDRS_CPU", "qemu64"))
    # 2 GiB: kmemleak's closing scans walk every struct page, 31 s a boot
    # under TCG where 4 GiB took 56 s; make bench passes 4G (its share
    # lives in the guest's memory).
    ap.add_argument("--mem", default="2G")
    # Two CPUs, each a socket (see boot()); SMBDRS_SMP or --smp changes it.
    ap.add_argument("--smp", type=int, default=int(os.environ.get("SMBDRS_SMP", "2")))
    ap.add_argument("--append", default="", help="extra kernel command line")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="scenario parameter, passed as smbdrs.NAME=VALUE (e.g. fio_mib=128)")
    ap.add_argument("--no-initramfs", action="store_true",
                    help="do not (re)build the initramfs first")
    ap.add_argument("-v", "--verbose", action="store_true", help="echo the console")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("SMBDRS_VM_JOBS", "1")),
                    help="guests at once, each scenario still in its own boot, started "
                    "in the order given (default 1, or SMBDRS_VM_JOBS)")
    args = ap.parse_args()

    scens = all_scenarios()
    if args.list:
        for s in scens.values():
            print("%-22s %-9s %s%s" % (s.name, s.kind, "timeout %ds" % s.timeout,
                                       "  [deliberate failure: %s]" % s.expect
                                       if s.selftest else ""))
        return 0
    names = args.scenario or [n for n, s in scens.items() if not s.selftest]
    unknown = [n for n in names if n not in scens]
    if unknown:
        print("run.py: unknown scenario(s): %s (see --list)" % " ".join(unknown),
              file=sys.stderr)
        return 2

    flav = CACHE / "out" / args.flavor
    if not (flav / "bzImage").exists():
        print("run.py: no kernel at %s (scripts/kernel.sh all %s)" % (flav, args.flavor),
              file=sys.stderr)
        return 2
    if not args.no_initramfs:
        subprocess.run([str(REPO / "qemu" / "mkinitramfs.sh"), args.flavor], check=True)
    if not shutil.which(QEMU):
        print("run.py: %s not found" % QEMU, file=sys.stderr)
        return 2

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or REPO / "results" / "vm" / stamp
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.monotonic()
    accel, why = probe_kvm(flav / "bzImage")
    print("vm: accelerator %s (%s), probe took %.1f s" % (accel, why, time.monotonic() - t0),
          flush=True)

    printing = threading.Lock()

    def run_one(n):
        scen = scens[n]
        d = out / n
        d.mkdir(parents=True, exist_ok=True)
        with printing:
            print("vm: %s ..." % n, flush=True)
        raw = boot(scen, args, accel, d)
        res = judge(scen, raw, accel, d)
        with printing:
            print("vm: %-22s %-13s %6.1f s  %s" % (n, res["status"], res["duration_s"],
                                                    short_metrics(res["metrics"])), flush=True)
            for p in res["parts"]:
                print("vm:   %-20s %-13s %6s s  %s" % (
                    p["name"], p["status"], p["seconds"] if p["seconds"] is not None else "-",
                    "; ".join(p["failed_checks"][:3] + p["reports"][:2])
                    or short_metrics(p["metrics"])), flush=True)
            for r in res["reasons"][:3]:
                print("      %s: %s" % (r["kind"], r["message"]), flush=True)
        return res

    if args.jobs <= 1:
        results = [run_one(n) for n in names]
    else:
        pool = concurrent.futures.ThreadPoolExecutor(args.jobs)
        try:
            results = list(pool.map(run_one, names))
        except BaseException:
            with _GUESTS_LOCK:
                for p in list(_GUESTS):
                    _kill(p)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()

    counted = [u for r in results for u in units(r)]
    passed = sum(st == "pass" for _, st in counted)
    n_failed = sum(st in ("fail", "timeout") for _, st in counted)
    upstream = [r for r in results if r["status"] == "upstream-fail"]
    failed = [r for r in results if r["status"] in ("fail", "timeout")]
    summary = {
        "flavor": args.flavor,
        "release": (flav / "release").read_text().strip(),
        "accelerator": accel,
        "accelerator_reason": why,
        "started_utc": stamp,
        "duration_s": round(time.monotonic() - t0, 1),
        "counts": {"passed": passed, "failed": n_failed, "upstream_failed": len(upstream),
                   "total": len(counted), "scenarios": len(results)},
        "scenarios": results,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    print()
    print("%-22s %-13s %8s %8s %8s  %s" % ("scenario", "status", "total s", "boot s",
                                           "scen s", "metrics"))
    for r in results:
        print("%-22s %-13s %8.1f %8s %8s  %s" % (
            r["name"], r["status"], r["duration_s"], r["boot"].get("scenario_start", "-"),
            r["scenario_s"] if r["scenario_s"] is not None else "-",
            short_metrics(r["metrics"], 6)))
        for p in r["parts"]:
            print("  %-20s %-13s %8s %8s %8s  %s" % (
                p["name"], p["status"], "", "", p["seconds"] if p["seconds"] is not None else "-",
                short_metrics(p["metrics"], 6)))
    for r in failed + upstream:
        print("\n--- %s: %s" % (r["name"], r["status"]))
        for reason in r["reasons"] + [{"kind": "upstream-report", "message": u["line"],
                                       "excerpt": u["excerpt"]} for u in r["upstream_reports"]]:
            print("  %s: %s" % (reason["kind"], reason["message"]))
            for line in (reason.get("excerpt") or "").splitlines()[:25]:
                print("    | " + line)
    print("\nvm: summary in %s" % (out / "summary.json"))
    if upstream:
        print("vm: %d upstream-failed (upstream code only, not counted as failures): %s"
              % (len(upstream), ", ".join(r["name"] for r in upstream)))
    print("vm: %d passed, %d failed" % (passed, n_failed))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
