#!/usr/bin/env bash
# The long runs kept out of `make test`: the client interop cells with the
# full count of mount cycles (50; make test runs 5). Ends with run.py's
# "N passed, N failed" line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh

cycles=${SOAK_CYCLES:-50}
out=${SMBDRS_SOAK_OUT:-$repo/results/soak-$(date +%Y%m%d-%H%M%S)}
scripts/kernel.sh all debug
qemu/mkinitramfs.sh debug
exec qemu/run.py --flavor debug --out "$out" --set "cycles=$cycles" \
	--scenario interop-rs-c-rxe --scenario interop-rs-c-siw
