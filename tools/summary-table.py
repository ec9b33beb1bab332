#!/usr/bin/env python3
"""Print the RDMA-vs-TCP table of a qemu/run.py summary.json.

    tools/summary-table.py RESULTS/summary.json

One row per transport measured: SMB Direct over rxe and siw (upstream C
client and server for now), SMB over TCP on the same veth, and the raw
device ceiling from perftest. Checksums column: every sha256 and fio verify
check of that transport passed.
"""

import json
import sys


def fmt(v):
    return "%8.1f" % v if isinstance(v, (int, float)) else "%8s" % "-"


def main(path):
    with open(path) as f:
        summary = json.load(f)
    rows = []
    upstream_failures = []
    for sc in summary["scenarios"]:
        m = sc.get("metrics", {})
        checks = sc.get("checks", [])
        if sc["status"] == "upstream-fail":
            upstream_failures.append(sc["name"])

        def verified(prefix):
            relevant = [c for c in checks if c["name"].startswith(prefix) and
                        ("sha256" in c["name"] or "verify" in c["name"])]
            if not relevant:
                return "-"
            return "ok" if all(c["ok"] for c in relevant) else "MISMATCH"

        for dev in ("rxe", "siw"):
            if "%s_rdma_fio_write_MBps" % dev in m or "%s_dd_write_MBps" % dev in m:
                rows.append(("SMB Direct over %s (C client, C server)" % dev,
                             m.get("%s_rdma_fio_write_MBps" % dev), m.get("%s_rdma_fio_read_MBps" % dev),
                             m.get("%s_dd_write_MBps" % dev), m.get("%s_dd_read_MBps" % dev),
                             "%s (%s)" % (verified(dev + "_rdma_"), verified(dev + "_sha256")),
                             sc["status"]))
            if "%s_tcp_fio_write_MBps" % dev in m:
                rows.append(("SMB over TCP, same veth (run with %s)" % dev,
                             m.get("%s_tcp_fio_write_MBps" % dev), m.get("%s_tcp_fio_read_MBps" % dev),
                             m.get("%s_tcp_dd_write_MBps" % dev), m.get("%s_tcp_dd_read_MBps" % dev),
                             "%s (%s)" % (verified(dev + "_tcp_fio"), verified(dev + "_tcp_sha256")),
                             sc["status"]))
        if "perftest_write_MBps" in m or "perftest_read_MBps" in m:
            rows.append(("raw rxe device (perftest ib_write_bw/ib_read_bw)",
                         m.get("perftest_write_MBps"), m.get("perftest_read_MBps"),
                         None, None, "-", sc["status"]))
        if "qperf_rc_rdma_write_bw_MBps" in m:
            rows.append(("raw rxe device (qperf rc_rdma_write_bw/read_bw)",
                         m.get("qperf_rc_rdma_write_bw_MBps"), m.get("qperf_rc_rdma_read_bw_MBps"),
                         None, None, "-", sc["status"]))
        if "qperf_tcp_bw_MBps" in m:
            rows.append(("raw TCP on the same veth (qperf tcp_bw)",
                         m.get("qperf_tcp_bw_MBps"), None, None, None, "-", sc["status"]))
    print("accelerator: %s, kernel %s (%s)" % (summary.get("accelerator"), summary.get("release"),
                                               summary.get("flavor")))
    print("%-50s %8s %8s %8s %8s  %-22s %s" % ("transport (MB/s; fio 1 MiB O_DIRECT)", "write", "read",
                                               "dd wr", "dd rd", "checksums (fio, sha256)", "status"))
    for r in rows:
        print("%-50s %s %s %s %s  %-22s %s" % (r[0], fmt(r[1]), fmt(r[2]), fmt(r[3]), fmt(r[4]), r[5], r[6]))
    if upstream_failures:
        print("upstream failures (recorded, not ours): %s" % ", ".join(upstream_failures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
