#!/usr/bin/env bash
# The long runs kept out of `make test`, each scenario in its own boot.
# First what issue 12 counts: the six interop cells with a Rust end, 170
# mount / verified I/O / unmount cycles each (1,020; make test runs 5) with
# their long checks over both devices; faults under verified I/O (both
# roles, both devices, every kind 4 times); every fuzz target of the engine for
# 10^8 executions (scripts/fuzz-soak.sh). Then the rest: the shared
# connection's stream with every allocation-failure walk over both devices,
# the ib layer's own walk, the C/C cells, first light, raw perftest, and
# the hostile catalogues against ours and against upstream's C. Many hours
# on 2 cores.
#
# Resumable: the state lives in $SOAK_DIR (default
# $SMBDRS_CACHE/soak/<hash of the code under test>), one verdict file per
# step; an interrupted `make soak` run again on the same code skips the
# steps already judged (the fuzz chunks are kept apart, by the engine's
# hash; see fuzz_step). SOAK_FRESH=1 starts over. Ends with one
# "N passed, N failed" line over every step, the earlier ones included.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh

cycles=${SOAK_CYCLES:-170}
# The code under test: what the guests and fuzz targets run, not the docs.
code=$(git rev-parse HEAD:rust HEAD:patches HEAD:configs HEAD:qemu HEAD:tools HEAD:scripts |
	sha256sum | cut -c1-16)
if ! git diff --quiet HEAD -- rust patches configs qemu tools scripts; then
	code=$code-dirty-$(git diff HEAD -- rust patches configs qemu tools scripts | sha256sum | cut -c1-8)
fi
dir=${SOAK_DIR:-$SMBDRS_CACHE/soak/$code-c$cycles}
[ "${SOAK_FRESH:-0}" = 1 ] && rm -rf "$dir"
mkdir -p "$dir"
log "soak: state in $dir (run again on the same code to resume)"

required=(interop-rs-c-rxe interop-rs-c-siw interop-c-rs-rxe interop-c-rs-siw
	interop-rs-rs-rxe interop-rs-rs-siw faults-rxe faults-siw)
rest=(conn-stream-rxe conn-stream-siw ib-hardening interop-c-c-rxe interop-c-c-siw
	firstlight-client firstlight-server perftest-rxe
	hostile-rxe hostile-siw hostile-c-rxe hostile-c-siw)

# The kernel and initramfs, built before the first boot this sitting needs.
built=
ensure_built() {
	[ -n "$built" ] && return 0
	scripts/kernel.sh all debug
	qemu/mkinitramfs.sh debug
	built=1
}

# vm_step SCENARIO: one boot, its verdict line kept in $dir/SCENARIO.verdict.
vm_step() {
	local s=$1 line
	if [ -s "$dir/$s.verdict" ]; then
		echo "soak: $s: $(cat "$dir/$s.verdict") (from an earlier run)"
		return 0
	fi
	ensure_built
	qemu/run.py --flavor debug --no-initramfs --out "$dir/vm" --set "cycles=$cycles" \
		--set full=1 --scenario "$s" >"$dir/$s.log" 2>&1 || true
	grep -E '^vm: +[a-z]' "$dir/$s.log" | grep -v 'accelerator\| \.\.\.$' || true
	line=$(grep -hE '^vm: [0-9]+ passed, [0-9]+ failed' "$dir/$s.log" | tail -n 1)
	[ -n "$line" ] || line="vm: 0 passed, 1 failed"
	echo "${line#vm: }" >"$dir/$s.verdict"
	echo "soak: $s: ${line#vm: }"
}

# The fuzz targets run while no guest does: they would share its CPUs.
# They test the engine crate alone, so their chunks are kept by the hash of
# that crate and the fuzz script: a change elsewhere keeps them.
fuzz_code=$(git rev-parse HEAD:rust/smbdirect HEAD:scripts/fuzz-soak.sh HEAD:scripts/lib.sh |
	sha256sum | cut -c1-16)
if ! git diff --quiet HEAD -- rust/smbdirect scripts/fuzz-soak.sh scripts/lib.sh; then
	fuzz_code=$fuzz_code-dirty-$(git diff HEAD -- rust/smbdirect scripts/fuzz-soak.sh scripts/lib.sh |
		sha256sum | cut -c1-8)
fi
fuzz_step() {
	if [ -s "$dir/fuzz.verdict" ]; then
		echo "soak: fuzz: $(cat "$dir/fuzz.verdict") (from an earlier run)"
		return 0
	fi
	local logs=$SMBDRS_CACHE/soak/fuzz-$fuzz_code-r${SOAK_FUZZ_RUNS:-100000000}
	[ "${SOAK_FRESH:-0}" = 1 ] && rm -rf "$logs"
	SMBDRS_FUZZ_LOGS=$logs scripts/fuzz-soak.sh 2>&1 |
		tee "$dir/fuzz.log" || true
	line=$(grep -hE '^fuzz: [0-9]+ passed, [0-9]+ failed' "$dir/fuzz.log" | tail -n 1)
	[ -n "$line" ] || line="fuzz: 0 passed, 1 failed"
	echo "${line#fuzz: }" >"$dir/fuzz.verdict"
}

# SOAK_STEPS="fuzz faults-rxe ..." runs just those steps this sitting (to
# spread a soak over several); the summary still counts every verdict.
wanted() {
	[ -z "${SOAK_STEPS:-}" ] || [[ " $SOAK_STEPS " == *" $1 "* ]]
}

t0=$(date +%s)
for s in "${required[@]}"; do wanted "$s" && vm_step "$s"; done
wanted fuzz && fuzz_step
for s in "${rest[@]}"; do wanted "$s" && vm_step "$s"; done

passed=0 failed=0
for v in "$dir"/*.verdict; do
	read -r p _ f _ <"$v"
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "soak: this sitting $(($(date +%s) - t0)) s; per step: $(cd "$dir" && for v in *.verdict; do
	printf '%s=%s ' "${v%.verdict}" "$(tr -d '\n' <"$v" | sed 's/ passed, /p\//; s/ failed/f/')"
done)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
