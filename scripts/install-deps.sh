#!/usr/bin/env bash
# Install everything smbdirect-rs needs on a Debian 12 host, idempotently.
# Skips packages and tools that are already present.
set -euo pipefail

BINDGEN_VERSION=${BINDGEN_VERSION:-0.73.2}

pkgs=(
	linux-source-6.12 rustc-web rust-web-src
	clang-19 lld-19 llvm-19 libclang-19-dev
	flex bison bc libelf-dev libssl-dev cpio kmod xz-utils
	qemu-system-x86 busybox-static ksmbd-tools cifs-utils
	rdma-core ibverbs-utils ibverbs-providers rdmacm-utils perftest qperf
	libibverbs-dev librdmacm-dev
	fio iproute2 python3 python3-matplotlib jq gcc libc6-dev linux-perf
)

# apt_removals PKG...: the installed packages apt would remove to install
# PKG... (a dry run), on one line; empty when none.
apt_removals() {
	apt-get install -s --no-install-recommends "$@" 2>/dev/null |
		sed -n 's/^Remv \([^ ]*\).*/\1/p' | tr '\n' ' ' | sed 's/ $//'
}

# Sourced by the set-up test for apt_removals alone.
[ "${SMBDRS_DEPS_FUNCTIONS_ONLY:-}" = 1 ] && return 0

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Never remove a package of the user's to make room for ours (Debian's
	# samba and ksmbd-tools conflict, for one): ask apt first, and stop
	# with what it would remove.
	removals=$(apt_removals "${missing[@]}")
	if [ -n "$removals" ]; then
		cat >&2 <<EOF2
install-deps: installing ${missing[*]}
install-deps: would REMOVE these installed packages: $removals
install-deps: stopping; nothing was changed. smbdirect-rs needs ksmbd-tools
install-deps: (for the in-kernel server), which conflicts with them. Remove
install-deps: them yourself if you can do without them, or run smbdirect-rs
install-deps: on a machine or container without them, then run this again.
EOF2
		exit 1
	fi
	apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}"
else
	echo "install-deps: all Debian packages present"
fi

bindgen_bin=$HOME/.cargo/bin/bindgen
if [ -x "$bindgen_bin" ] && "$bindgen_bin" --version | grep -q " $BINDGEN_VERSION\$"; then
	echo "install-deps: bindgen $BINDGEN_VERSION present"
else
	echo "install-deps: building bindgen-cli $BINDGEN_VERSION (takes a few minutes)"
	cargo install --locked --version "$BINDGEN_VERSION" bindgen-cli
fi
