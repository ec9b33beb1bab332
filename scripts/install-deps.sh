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
	fio iproute2 python3 jq gcc libc6-dev
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
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
