#!/usr/bin/env bash
# Mutation testing of the smbdirect engine crate (rust/smbdirect) with
# cargo-mutants: every mutant of the engine's code (an operator flipped, a
# body replaced by a default value, a match arm deleted) must make some test
# fail. Prints cargo-mutants' summary, the surviving mutants, and the
# mutation score, caught / (caught + missed); exits non-zero below
# MUTANTS_MIN_SCORE percent (default 95). Timeouts and unviable mutants
# count in neither term.
#
# Extra arguments go to cargo-mutants, e.g. to scope a run while iterating:
#   scripts/mutants.sh -f 'src/wire/*.rs'
#
# Environment: MUTANTS_JOBS (default 1) parallel builds, MUTANTS_MIN_SCORE,
# CARGO_BUILD_JOBS (default 1). A whole-crate run took 25 minutes on 2
# cores (712 mutants). Results stay in rust/smbdirect/target/mutants.out.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
crate=$repo/rust/smbdirect
version=27.1.0
min_score=${MUTANTS_MIN_SCORE:-95}
jobs=${MUTANTS_JOBS:-1}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
export CARGO_TERM_COLOR=never
# Every mutant is judged by the same property-test cases, and a failure
# seen under one mutant is not saved as a regression case, which would make
# the properties fail under every later mutant and hide what the other
# tests catch.
export PROPTEST_RNG_SEED=${PROPTEST_RNG_SEED:-20261130}
export PROPTEST_DISABLE_FAILURE_PERSISTENCE=1
# Debug info is most of the link time of each mutant's test binaries and
# nothing here reads it.
export CARGO_PROFILE_DEV_DEBUG=false CARGO_PROFILE_TEST_DEBUG=false

command -v jq >/dev/null ||
	{ echo "mutants: jq is needed to read the results (make deps installs it)" >&2; exit 1; }
if [ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $version" ]; then
	echo "installing cargo-mutants $version"
	cargo install --locked "cargo-mutants@$version" >/dev/null ||
		{ echo "mutants: cannot install cargo-mutants $version" >&2; exit 1; }
fi

out=$crate/target
cd "$crate" || exit 1
# cargo-mutants exits 2 when mutants were missed and 3 on timeouts: the
# score below decides, not its status. Its own configuration (exclusions,
# each with its reason) is rust/smbdirect/.cargo/mutants.toml.
cargo mutants --jobs "$jobs" --output "$out" --colors never "$@"
rc=$?
case $rc in
0 | 2 | 3) ;;
*)
	echo "mutants: cargo-mutants failed (exit $rc)" >&2
	exit 1
	;;
esac

outcomes=$out/mutants.out/outcomes.json
if [ ! -f "$outcomes" ]; then
	echo "mutants: no $outcomes" >&2
	exit 1
fi
read -r total caught missed timeout unviable < <(jq -r \
	'[.total_mutants, .caught, .missed, .timeout, .unviable] | @tsv' "$outcomes")
if [ -s "$out/mutants.out/missed.txt" ]; then
	echo "surviving mutants:"
	sed 's/^/  /' "$out/mutants.out/missed.txt"
fi
if [ $((caught + missed)) -eq 0 ]; then
	echo "mutants: no mutant was caught or missed (total $total)" >&2
	exit 1
fi
# Score in hundredths of a percent, integer arithmetic only.
score=$((caught * 10000 / (caught + missed)))
printf 'mutation score: %d.%02d%% (%d caught, %d missed, %d timeouts, %d unviable, %d mutants)\n' \
	$((score / 100)) $((score % 100)) "$caught" "$missed" "$timeout" "$unviable" "$total"
if [ "$score" -lt $((min_score * 100)) ]; then
	echo "mutants: score below ${min_score}%" >&2
	exit 1
fi
