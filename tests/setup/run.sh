#!/usr/bin/env bash
# Set-up's own tests: install-deps never removes a user's package. Needs no
# network: apt's dry run reads the local package lists. Prints
# "setup: N passed, N failed".
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
result() { # NAME OK DETAIL
	if [ "$2" = ok ]; then
		passed=$((passed + 1))
		echo "setup: ok   $1: $3"
	else
		failed=$((failed + 1))
		echo "setup: FAIL $1: $3"
	fi
}

# shellcheck source=../../scripts/install-deps.sh
SMBDRS_DEPS_FUNCTIONS_ONLY=1 . "$repo/scripts/install-deps.sh"
set +e

# Debian's samba conflicts with ksmbd-tools, which set-up installs: asking
# for samba here must name ksmbd-tools as a removal (the dry run in the
# other direction is what install-deps does before installing).
if dpkg-query -W -f='${Status}' ksmbd-tools 2>/dev/null | grep -q 'install ok installed' &&
	apt-cache show samba >/dev/null 2>&1; then
	got=$(apt_removals samba)
	if [[ " $got " == *" ksmbd-tools "* ]]; then
		result conflict-detected ok "installing samba would remove: $got"
	else
		result conflict-detected fail "apt_removals samba gave '$got', expected ksmbd-tools"
	fi
else
	result conflict-detected ok "skipped: ksmbd-tools not installed or samba unknown to apt"
fi

# Nothing is removed for what set-up installs on this machine.
got=$(apt_removals ksmbd-tools cifs-utils rdma-core fio)
if [ -z "$got" ]; then
	result no-removal ok "our packages remove nothing here"
else
	result no-removal fail "our packages would remove: $got"
fi

# A second run changes nothing: every package present.
out=$("$repo/scripts/install-deps.sh" 2>&1)
if echo "$out" | grep -q 'all Debian packages present'; then
	result idempotent ok "$(echo "$out" | head -n 1)"
else
	result idempotent fail "$out"
fi

# The qemu the harness boots with runs, wherever it came from (the
# machine's, Debian's package, or unpacked into the cache when that package
# would have removed one of the user's): it starts a machine, which needs
# its firmware and option ROMs (-version alone passes without them), and
# is still running, paused, when the timeout ends it (124).
qemu=$(cd "$repo" && python3 -c 'import sys; sys.path.insert(0, "qemu"); import run; print(run.QEMU)')
ver=$("$qemu" -version 2>&1 | head -n 1)
out=$(timeout 3 "$qemu" -accel tcg -M pc -m 64 -display none -nodefaults -no-user-config -S 2>&1)
rc=$?
if [[ "$ver" == QEMU* ]] && [ $rc -eq 124 ]; then
	result qemu-runs ok "$qemu: $ver, a paused machine started"
else
	result qemu-runs fail "$qemu: $ver; a machine did not start (rc $rc): $out"
fi

echo "setup: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
