#!/usr/bin/env bash
# Build the kernel of FLAVOR as a test: the build succeeds, our modules are
# installed, and our own sources compile without a single warning, clippy's
# included. Our
# objects are removed first so that their warnings are seen on every run.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"
flavor=${1:-debug}
build=$SMBDRS_CACHE/build/$flavor
out=$SMBDRS_CACHE/out/$flavor
log=$(mktemp)
trap 'rm -f "$log"' EXIT

passed=0 failed=0
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok: $name"
		passed=$((passed + 1))
	else
		echo "FAIL: $name"
		failed=$((failed + 1))
	fi
}

rm -rf "$build/fs/smb/smbdirect_rs"
t0=$SECONDS
"$repo/scripts/kernel.sh" all "$flavor" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
echo "kernel.sh all $flavor: exit $rc after $((SECONDS - t0)) s"

check "kernel ($flavor) builds and installs" test "$rc" -eq 0
check "smbdirect_rs.ko is installed" \
	test -n "$(find "$out/lib/modules" -name smbdirect_rs.ko 2>/dev/null)"
# rustc and clang warnings name the file; ours live under fs/smb/smbdirect_rs.
warnings=$(grep -E -A3 '^(warning|error)(\[[A-Za-z0-9_:]+\])?:|: (warning|error):' "$log" |
	grep -B1 -A2 'smbdirect_rs' || true)
no_warnings() {
	[ -z "$warnings" ] && return 0
	printf '%s\n' "$warnings"
	return 1
}
check "our sources build without warnings" no_warnings

# Clippy (Debian's, matching rustc-web) over our crate alone: the build's
# own rustc command for it, run through clippy-driver with its outputs in a
# scratch directory (a kbuild CLIPPY=1 build would rebuild the kernel's
# Rust crates and vmlinux twice a run). Its lints count as warnings here.
clippy_warnings() {
	local cmdfile=$build/fs/smb/smbdirect_rs/rust/kmod/.smbdrs.o.cmd cmd out tmp
	[ -x /usr/bin/clippy-driver ] || {
		echo "no /usr/bin/clippy-driver (rust-web-clippy; scripts/install-deps.sh)"
		return 1
	}
	cmd=$(sed -n 's/^savedcmd_[^ ]* := //p' "$cmdfile" 2>/dev/null)
	[[ "$cmd" == *" /usr/bin/rustc "* ]] || {
		echo "no rustc command for our crate in $cmdfile"
		return 1
	}
	tmp=$(mktemp -d)
	cmd=${cmd/ \/usr\/bin\/rustc / /usr/bin/clippy-driver }
	cmd=$(printf '%s' "$cmd" | sed "s#--out-dir [^ ]*#--out-dir $tmp#;
		s#--emit=dep-info=[^ ]*#--emit=dep-info=$tmp/smbdrs.d#;
		s#--emit=obj=[^ ]*#--emit=metadata=$tmp/smbdrs.rmeta#")
	out=$(cd "$build" && export RUSTC_BOOTSTRAP=1 \
		CLIPPY_CONF_DIR="$SMBDRS_CACHE/src/linux-source-6.12" && eval "$cmd" 2>&1)
	rm -rf "$tmp"
	out=$(printf '%s\n' "$out" | grep -E -A6 '^(warning|error)(\[[A-Za-z0-9_:]+\])?:' |
		grep -v 'warnings\? emitted' || true)
	[ -z "$out" ] && return 0
	printf '%s\n' "$out" | head -n 60
	return 1
}
check "clippy finds nothing in our crate" clippy_warnings

echo "kernel: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
