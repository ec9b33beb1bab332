#!/usr/bin/env bash
# The long runs kept out of `make test`, each scenario in its own boot:
# the shared connection's stream with every allocation-failure walk over
# both devices (make test walks over rxe only), the C/C cells with their
# TCP comparison, every interop cell with its long checks over both devices
# (make test runs them over rxe only) and the full count of mount cycles
# (170 a cell, 1,020 over the six cells with a Rust end; make test runs
# 5), the first-light and raw perftest scenarios, the
# hostile peers' whole catalogue, and faults under verified I/O (both
# roles, both devices, 28 rounds each).
# Ends with run.py's "N passed, N failed" line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh

cycles=${SOAK_CYCLES:-170}
out=${SMBDRS_SOAK_OUT:-$repo/results/soak-$(date +%Y%m%d-%H%M%S)}
scripts/kernel.sh all debug
qemu/mkinitramfs.sh debug
exec qemu/run.py --flavor debug --out "$out" --set "cycles=$cycles" --set full=1 \
	--scenario conn-stream-rxe --scenario conn-stream-siw \
	--scenario interop-c-c-rxe --scenario interop-c-c-siw \
	--scenario interop-rs-c-rxe --scenario interop-rs-c-siw \
	--scenario interop-c-rs-rxe --scenario interop-c-rs-siw \
	--scenario interop-rs-rs-rxe --scenario interop-rs-rs-siw \
	--scenario firstlight-client --scenario firstlight-server --scenario perftest-rxe \
	--scenario hostile-rxe --scenario hostile-siw \
	--scenario hostile-c-rxe --scenario hostile-c-siw \
	--scenario faults-rxe --scenario faults-siw
