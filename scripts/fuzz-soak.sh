#!/usr/bin/env bash
# make soak's fuzzing: every fuzz target of the engine crate (decode, engine,
# mr) for SOAK_FUZZ_RUNS executions each (default 10^8), as many targets at
# once as there are CPUs, from the committed seed corpus (new inputs go to
# fuzz/corpus-run, ignored by git), in runs of SOAK_FUZZ_CHUNK executions
# (default 10^7) that add up: an interrupted soak resumes with the chunks
# logged in SMBDRS_FUZZ_LOGS, losing at most the one under way. A crash
# leaves its input in fuzz/artifacts/TARGET and fails that target (for
# good in that log directory). Prints per target the executions, the
# seconds and the verdict, then "fuzz: N passed, N failed".
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"
fuzz=$repo/rust/smbdirect/fuzz
runs=${SOAK_FUZZ_RUNS:-100000000}
chunk=${SOAK_FUZZ_CHUNK:-10000000}
logdir=${SMBDRS_FUZZ_LOGS:-$repo/results/fuzz-$(date +%Y%m%d-%H%M%S)}
# The slowest first, so that two CPUs finish together.
targets=(mr engine decode)
mkdir -p "$logdir"

fuzz_ready || die "fuzz: cargo-fuzz or the nightly toolchain cannot be installed"

# Built once, before the clock starts.
(cd "$fuzz" && cargo +nightly fuzz build "${FUZZ_FLAGS[@]}") >"$logdir/build.log" 2>&1 ||
	die "fuzz: the targets do not build (see $logdir/build.log)"

# Chunk K of target T logs to $logdir/T.K.log, its exit status to T.K.rc.

# chunk_sum T FIELD: over T's finished chunks, the sum of libFuzzer's
# closing "Done N runs in S second(s)": FIELD 2 for N, 5 for S.
chunk_sum() {
	local rc sum=0 n
	for rc in "$logdir/$1".*.rc; do
		[ -e "$rc" ] || continue
		n=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "${rc%.rc}.log" 2>/dev/null |
			tail -n 1 | awk -v f="$2" '{ print $f }')
		sum=$((sum + ${n:-0}))
	done
	echo $sum
}

# crashed T: the log of a chunk of T that ended in failure, if any.
crashed() {
	local rc
	for rc in "$logdir/$1".*.rc; do
		[ -e "$rc" ] || continue
		[ "$(cat "$rc")" = 0 ] || {
			echo "${rc%.rc}.log"
			return 0
		}
	done
	return 1
}

# run_target T: chunks of T until its executions reach $runs or one fails.
run_target() {
	local t=$1 k left
	mkdir -p "$fuzz/corpus-run/$t"
	while ! crashed "$t" >/dev/null; do
		left=$((runs - $(chunk_sum "$t" 2)))
		[ "$left" -gt 0 ] || return 0
		[ "$left" -gt "$chunk" ] && left=$chunk
		k=$(($(ls "$logdir/$t".*.rc 2>/dev/null | wc -l) + 1))
		(cd "$fuzz" && cargo +nightly fuzz run "${FUZZ_FLAGS[@]}" "$t" "corpus-run/$t" "corpus/$t" -- \
			-runs="$left" -print_final_stats=1) >"$logdir/$t.$k.log" 2>&1
		echo $? >"$logdir/$t.$k.rc"
	done
}

jobs=$(nproc)
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		sleep 5
	done
	log "fuzz: $t, $(chunk_sum "$t" 2) of $runs executions done before"
	run_target "$t" &
done
wait

passed=0 failed=0
for t in "${targets[@]}"; do
	n=$(chunk_sum "$t" 2)
	secs=$(chunk_sum "$t" 5)
	if bad=$(crashed "$t"); then
		failed=$((failed + 1))
		echo "fuzz-$t: FAILED after $n of $runs executions; last lines of $bad:"
		tail -n 20 "$bad"
	elif [ "$n" -ge "$runs" ]; then
		passed=$((passed + 1))
		echo "fuzz-$t: $n executions in $secs s: ok"
	else
		failed=$((failed + 1))
		echo "fuzz-$t: FAILED ($n of $runs executions)"
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
