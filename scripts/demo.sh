#!/usr/bin/env bash
# The main job: build the test kernel, boot it, mount SMB over RDMA (rxe and
# siw) and over TCP, move checksummed data, and print MB/s side by side.
# Dependencies are installed by `make deps` before this runs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh

out=$repo/results/demo-$(date +%Y%m%d-%H%M%S)
scripts/kernel.sh all debug
qemu/mkinitramfs.sh debug
rc=0
qemu/run.py --flavor debug --out "$out" \
	--scenario module --scenario ib-selftest \
	--scenario interop-c-c-rxe --scenario interop-c-c-siw --scenario perftest-rxe || rc=$?
echo
tools/summary-table.py "$out/summary.json"
echo "full results: $out/summary.json"
exit "$rc"
