#!/usr/bin/env bash
# Style checks of our kernel-side sources: rustfmt with the kernel's settings,
# checkpatch.pl on our C files and patches, bash -n on our scripts.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"
"$repo/scripts/kernel.sh" prepare >/dev/null || die "kernel tree not prepared"
src=$SMBDRS_CACHE/src/linux-source-6.12
cd "$repo"

passed=0 failed=0
check() {
	local name=$1
	shift
	local out
	if out=$("$@" 2>&1); then
		echo "ok: $name"
		passed=$((passed + 1))
	else
		echo "FAIL: $name"
		printf '%s\n' "$out" | head -n 40
		failed=$((failed + 1))
	fi
}

mapfile -t rs < <(git ls-files 'rust/*.rs' ':!rust/smbdirect/*')
if [ ${#rs[@]} -gt 0 ]; then
	check "rustfmt (kernel settings) on ${#rs[@]} kernel-side Rust files" \
		rustfmt --check --edition 2021 --config-path "$src/.rustfmt.toml" "${rs[@]}"
fi

checkpatch() {
	"$src/scripts/checkpatch.pl" --no-tree --quiet --strict "$@"
}
mapfile -t cfiles < <(git ls-files '*.c' '*.h')
for f in "${cfiles[@]}"; do
	check "checkpatch $f" checkpatch -f "$f"
done
# Outside the git checkout: inside it, checkpatch reviews the .patch file as
# a tracked file instead of reading it as a patch.
# Patches to upstream files follow those files' own conventions (cifs names
# its mount options Opt_*, which checkpatch calls CamelCase).
checkpatch_patch() { (cd / && checkpatch --ignore CAMELCASE "$repo/$1"); }
for f in patches/*.patch; do
	[ -e "$f" ] && check "checkpatch $f" checkpatch_patch "$f"
done

mapfile -t sh < <(git ls-files '*.sh' .ci/run 'qemu/guest/*')
for f in "${sh[@]}"; do
	head -n1 "$f" | grep -q 'sh' || continue
	check "bash -n $f" bash -n "$f"
done

echo "style: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
