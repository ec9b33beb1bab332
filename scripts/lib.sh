# Shared settings for smbdirect-rs scripts. Sourced, not run.
# shellcheck shell=bash

# Build cache outside the clone, reused across runs.
SMBDRS_CACHE=${SMBDRS_CACHE:-$HOME/.cache/smbdirect-rs}
export SMBDRS_CACHE

# Only Debian's rustc-web (1.96, with its library source) can build kernel
# Rust; the rustup toolchain on PATH has no rust-src.
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}
KMAKE_VARS=(
	LLVM=-19
	RUSTC=/usr/bin/rustc
	BINDGEN="${BINDGEN:-$HOME/.cargo/bin/bindgen}"
)

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# How the fuzz targets are built: the engine crate forbids unsafe code, so
# AddressSanitizer (cargo fuzz's default, 3-12 times slower here) has
# nothing to find; debug assertions catch the arithmetic overflows that
# the kernel's CONFIG_RUST_OVERFLOW_CHECKS would.
FUZZ_FLAGS=(--sanitizer none --debug-assertions)

# fuzz_ready: the nightly toolchain and cargo-fuzz, installed if missing
# (the engine's fuzz targets need them); fails if they cannot be.
fuzz_ready() {
	rustup toolchain list 2>/dev/null | grep -q '^nightly' ||
		rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || return 1
	cargo +nightly fuzz --version >/dev/null 2>&1 && return 0
	echo "installing cargo-fuzz"
	cargo install --locked cargo-fuzz >/dev/null 2>&1 || return 1
	cargo +nightly fuzz --version >/dev/null 2>&1
}
