#!/usr/bin/env bash
# Every check of the smbdirect engine crate (rust/smbdirect), in order:
# rustfmt, clippy, the no_std builds (bare-metal target and the kernel's
# way of including the crate as a module), cargo test, and a short run of
# each fuzz target. Ends with one line "engine: N passed, N failed", where N
# counts the individual cargo tests plus one per other step. Exit status: 0
# only if nothing failed.
#
# Environment: ENGINE_FUZZ_SECONDS (default 10) per fuzz target, 0 to skip.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"
crate=$repo/rust/smbdirect
fuzz_seconds=${ENGINE_FUZZ_SECONDS:-10}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
export CARGO_TERM_COLOR=never

passed=0 failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# step NAME CMD...: run a step that counts as one check.
step() {
	local name=$1
	shift
	echo "== $name: $*"
	if (cd "$crate" && "$@") >"$log/$name.log" 2>&1; then
		echo "ok: $name"
		passed=$((passed + 1))
	else
		echo "FAIL: $name"
		tail -n 40 "$log/$name.log"
		failed=$((failed + 1))
	fi
}

step fmt sh -c 'cargo fmt --check && cargo fmt --check --manifest-path fuzz/Cargo.toml'
step clippy cargo clippy --all-targets -- -D warnings

# no_std, no alloc: build for a target that has no std at all, if rustup
# can provide it.
if ! rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-none; then
	rustup target add x86_64-unknown-none >/dev/null 2>&1 || true
fi
if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-none; then
	step no-std-target cargo build --lib --target x86_64-unknown-none
else
	echo "note: x86_64-unknown-none is not available; the kernel-module check below still proves no_std"
fi

# The kernel includes lib.rs as a module of its own crate with
# `#[path = ".../rust/smbdirect/src/lib.rs"] pub mod smbdirect;`, under
# `--cfg CONFIG_RUST`, no_std and with missing docs as warnings. Build
# exactly that, warnings as errors: any `crate::` path, `std` or `alloc`
# use, or undocumented public item fails here.
kmod_check() {
	local dir
	dir=$(mktemp -d)
	cat >"$dir/kmod.rs" <<-EOF
		//! Stand-in for the kernel crate that embeds the engine.
		#![no_std]
		#[path = "$crate/src/lib.rs"]
		pub mod smbdirect;
	EOF
	rustc --edition 2021 --crate-type rlib --crate-name kmod --cfg CONFIG_RUST \
		-D warnings -D missing_docs -D unreachable_pub -D rust_2018_idioms \
		--out-dir "$dir" "$dir/kmod.rs"
	local rc=$?
	rm -rf "$dir"
	return $rc
}
step kernel-module-include kmod_check

# cargo test: count the individual tests.
echo "== cargo test"
(cd "$crate" && cargo test 2>&1) >"$log/test.log"
test_rc=$?
t_pass=0 t_fail=0
while read -r p f; do
	t_pass=$((t_pass + p))
	t_fail=$((t_fail + f))
done < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$log/test.log")
if [ "$test_rc" -ne 0 ] && [ "$t_fail" -eq 0 ]; then
	# The build failed or a test binary crashed before its summary.
	t_fail=1
fi
echo "cargo test: $t_pass passed, $t_fail failed"
if [ "$t_fail" -ne 0 ]; then
	grep -E "^test .* FAILED|panicked|^error" "$log/test.log" | head -n 40
	tail -n 20 "$log/test.log"
fi
passed=$((passed + t_pass))
failed=$((failed + t_fail))

# Fuzzing: a short bounded run of each target on nightly, from the
# committed seed corpus. New inputs go to fuzz/corpus-run (ignored by git).
if [ "$fuzz_seconds" -eq 0 ]; then
	echo "note: fuzzing skipped (ENGINE_FUZZ_SECONDS=0)"
elif ! fuzz_ready; then
	echo "note: fuzzing skipped: cargo-fuzz or the nightly toolchain cannot be installed"
else
	for target in decode engine mr; do
		mkdir -p "$crate/fuzz/corpus-run/$target"
		step "fuzz-$target" sh -c "cd fuzz && cargo +nightly fuzz run ${FUZZ_FLAGS[*]} $target \
			corpus-run/$target corpus/$target -- -max_total_time=$fuzz_seconds"
		grep -E '^Done [0-9]+ runs' "$log/fuzz-$target.log" | sed "s/^/fuzz-$target: /"
	done
fi

echo "engine: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
