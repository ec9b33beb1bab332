#!/usr/bin/env bash
# Every test of smbdirect-rs, in order: style, the engine crate, the debug
# kernel build, the VM scenarios, the harness's own failure detection.
# Each step prints "<step>: N passed, N failed"; this script adds them up and
# ends with one line "N passed, N failed". Exit status: 0 only if none failed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh

logdir=${SMBDRS_TEST_LOGS:-$repo/results/test-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$logdir"
passed=0 failed=0
steps=()

# run_step NAME CMD...: run a step, keep its output in the log dir, and add
# its "N passed, N failed" line to the totals. A step that dies without such
# a line counts as one failure.
run_step() {
	local name=$1
	shift
	local t0=$SECONDS rc line p f
	log "step $name: $*"
	"$@" >"$logdir/$name.log" 2>&1
	rc=$?
	line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$logdir/$name.log" | tail -n 1)
	if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	else
		p=0 f=1
		[ "$rc" -eq 0 ] && p=1 f=0
	fi
	passed=$((passed + p)) failed=$((failed + f))
	steps+=("$(printf '%-14s %4d passed %4d failed %5ds  %s' "$name" "$p" "$f" $((SECONDS - t0)) "$logdir/$name.log")")
	if [ "$f" -ne 0 ]; then
		log "step $name FAILED (exit $rc); last lines of $logdir/$name.log:"
		tail -n 30 "$logdir/$name.log" >&2
	fi
	return "$f"
}

run_step style scripts/check-style.sh
run_step setup tests/setup/run.sh
run_step engine scripts/engine-tests.sh
if run_step kernel scripts/kernel-test.sh debug; then
	run_step initramfs qemu/mkinitramfs.sh debug &&
		run_step vm qemu/run.py --flavor debug --out "$logdir/vm" \
			--set fio_mib=16 --set sha_mib=8 --set cycles=3 \
			--scenario suite-basics --scenario suite-rxe --scenario suite-siw
	# make bench's report over suite-siw's tiny bench part: every row and
	# job measured, the table and plots made.
	run_step bench-report /usr/bin/python3 tools/bench-report.py "$logdir/vm/suite-siw" \
		--require-all --json "$logdir/bench-tiny.json" --plots "$logdir/bench-tiny-plots"
	run_step harness tests/harness/run.sh
fi

echo
echo "summary (logs in $logdir):"
printf '  %s\n' "${steps[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
