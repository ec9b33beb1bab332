#!/usr/bin/env bash
# The long runs kept out of `make test`, each scenario in its own boot:
# the shared connection's stream with every allocation-failure walk over
# both devices (make test walks over rxe only), the C/C cells with their
# TCP comparison, every interop cell with its long checks over both devices
# (make test runs them over rxe only) and the full count of mount cycles
# (170 a cell, 1,020 over the six cells with a Rust end; make test runs
# 5), the first-light and raw perftest scenarios, the
# hostile peers' whole catalogue, and faults under verified I/O (both
# roles, both devices, 28 rounds each); then every fuzz target of the engine
# for 10^8 executions (scripts/fuzz-soak.sh). Several hours on 2 cores.
# Ends with one "N passed, N failed" line for the scenarios and the targets.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh

cycles=${SOAK_CYCLES:-170}
out=${SMBDRS_SOAK_OUT:-$repo/results/soak-$(date +%Y%m%d-%H%M%S)}
scripts/kernel.sh all debug
qemu/mkinitramfs.sh debug
qemu/run.py --flavor debug --out "$out" --set "cycles=$cycles" --set full=1 \
	--scenario conn-stream-rxe --scenario conn-stream-siw \
	--scenario interop-c-c-rxe --scenario interop-c-c-siw \
	--scenario interop-rs-c-rxe --scenario interop-rs-c-siw \
	--scenario interop-c-rs-rxe --scenario interop-c-rs-siw \
	--scenario interop-rs-rs-rxe --scenario interop-rs-rs-siw \
	--scenario firstlight-client --scenario firstlight-server --scenario perftest-rxe \
	--scenario hostile-rxe --scenario hostile-siw \
	--scenario hostile-c-rxe --scenario hostile-c-siw \
	--scenario faults-rxe --scenario faults-siw 2>&1 | tee "$out.vm.log" || true
# The fuzz targets, 10^8 executions each (SOAK_FUZZ_RUNS), while no guest
# runs: they would share its two CPUs.
SMBDRS_FUZZ_LOGS="$out/fuzz" scripts/fuzz-soak.sh 2>&1 | tee "$out.fuzz.log" || true

# One line for both: the guests' scenarios and the fuzz targets.
vm=$(grep -hE '^vm: [0-9]+ passed, [0-9]+ failed' "$out.vm.log" 2>/dev/null | tail -n 1 || true)
fz=$(grep -hE '^fuzz: [0-9]+ passed, [0-9]+ failed' "$out.fuzz.log" 2>/dev/null | tail -n 1 || true)
[ -n "$vm" ] || vm="vm: 0 passed, 1 failed"
[ -n "$fz" ] || fz="fuzz: 0 passed, 1 failed"
p=$(( $(echo "$vm" | awk '{print $2}') + $(echo "$fz" | awk '{print $2}') ))
f=$(( $(echo "$vm" | awk '{print $4}') + $(echo "$fz" | awk '{print $4}') ))
echo "soak: $vm; $fz"
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
