#!/usr/bin/env bash
# The main job: build the non-debug bench kernel, boot it once and, over
# soft-RoCE (rxe) and soft-iWARP (siw), mount SMB Direct with every client x
# server implementation pair (upstream's C and our Rust), beside SMB over TCP
# and the raw device; move data (fio, O_DIRECT), verify it in a pass apart
# (sha256 headers), check that each mount ran over the transport it names,
# and print MB/s, IOPS and latency side by side.
#
# It is one round of `make bench` at small sizes (scripts/bench.sh); more
# rounds and larger sizes give figures to quote (Documentation/benchmarks.md).
# Dependencies are installed by `make deps` before this runs.
#
#   DEMO_MIB=64 make demo    (sequential MiB per job; default 32)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh

out=$repo/results/demo-$(date +%Y%m%d-%H%M%S)
mkdir -p "$repo/results"
rc=0
BENCH_OUT=$out BENCH_ROUNDS=1 BENCH_MIB=${DEMO_MIB:-32} BENCH_SECS=2 BENCH_VERIFY_MIB=8 \
	scripts/bench.sh >"$out.log" 2>&1 || rc=$?
grep -E '^(vm:|bench:|\[)' "$out.log" || true
echo
# Debian's python3 has matplotlib; the brief table needs only python3.
py=/usr/bin/python3
[ -x $py ] || py=python3
$py tools/bench-report.py "$out" --brief || rc=1
echo
echo "full table: $out/report.txt; log: $out.log; results: $out/summary.json"
exit "$rc"
