#!/usr/bin/env bash
# make soak's fuzzing: every fuzz target of the engine crate (decode, engine,
# mr) for SOAK_FUZZ_RUNS executions each (default 10^8; a target finished
# in an earlier run with the same SMBDRS_FUZZ_LOGS is kept), as many targets at
# once as there are CPUs, from the committed seed corpus (new inputs go to
# fuzz/corpus-run, ignored by git). A crash leaves its input in
# fuzz/artifacts/TARGET and fails that target. Prints per target the
# executions, the seconds and the verdict, then "fuzz: N passed, N failed".
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"
fuzz=$repo/rust/smbdirect/fuzz
runs=${SOAK_FUZZ_RUNS:-100000000}
logdir=${SMBDRS_FUZZ_LOGS:-$repo/results/fuzz-$(date +%Y%m%d-%H%M%S)}
# The slowest first, so that two CPUs finish together.
targets=(mr engine decode)
mkdir -p "$logdir"

fuzz_ready || die "fuzz: cargo-fuzz or the nightly toolchain cannot be installed"

# Built once, before the clock starts.
(cd "$fuzz" && cargo +nightly fuzz build "${FUZZ_FLAGS[@]}") >"$logdir/build.log" 2>&1 ||
	die "fuzz: the targets do not build (see $logdir/build.log)"

# run_target NAME: one target, its log in $logdir/NAME.log.
run_target() {
	mkdir -p "$fuzz/corpus-run/$1"
	(cd "$fuzz" && cargo +nightly fuzz run "${FUZZ_FLAGS[@]}" "$1" "corpus-run/$1" "corpus/$1" -- \
		-runs="$runs" -print_final_stats=1) >"$logdir/$1.log" 2>&1
	echo $? >"$logdir/$1.rc"
}

# done_line NAME: libFuzzer's closing "Done N runs in S second(s)" of NAME.
done_line() {
	grep -E '^Done [0-9]+ runs in [0-9]+ second' "$logdir/$1.log" 2>/dev/null | tail -n 1
}

# executions NAME: the N of that line (0 without one).
executions() {
	local n
	n=$(done_line "$1" | sed -n 's/^Done \([0-9]*\) runs.*/\1/p')
	echo "${n:-0}"
}

# finished NAME: whether an earlier run with these logs completed NAME
# (make soak resumes with the same log directory).
finished() {
	[ "$(cat "$logdir/$1.rc" 2>/dev/null)" = 0 ] && [ "$(executions "$1")" -ge "$runs" ]
}

jobs=$(nproc)
pids=()
for t in "${targets[@]}"; do
	if finished "$t"; then
		log "fuzz: $t done in an earlier run"
		pids+=("")
		continue
	fi
	rm -f "$logdir/$t.rc"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		sleep 5
	done
	log "fuzz: $t, $runs executions"
	run_target "$t" &
	pids+=($!)
done

passed=0 failed=0
for i in "${!targets[@]}"; do
	t=${targets[$i]}
	[ -z "${pids[$i]}" ] || wait "${pids[$i]}"
	rc=$(cat "$logdir/$t.rc" 2>/dev/null || echo 1)
	n=$(executions "$t")
	secs=$(done_line "$t" | sed -n 's/.* in \([0-9]*\) second.*/\1/p')
	if [ "$rc" -eq 0 ] && [ "$n" -ge "$runs" ]; then
		passed=$((passed + 1))
		echo "fuzz-$t: ${n} executions in ${secs} s: ok"
	else
		failed=$((failed + 1))
		echo "fuzz-$t: FAILED (exit $rc, ${n:-0} of $runs executions); last lines of $logdir/$t.log:"
		tail -n 20 "$logdir/$t.log"
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
