#!/usr/bin/env bash
# Install everything smbdirect-rs needs on a Debian 12 host, idempotently.
# Skips packages and tools that are already present.
set -euo pipefail

BINDGEN_VERSION=${BINDGEN_VERSION:-0.73.2}

pkgs=(
	linux-source-6.12 rustc-web rust-web-src rust-web-clippy
	clang-19 lld-19 llvm-19 libclang-19-dev
	flex bison bc libelf-dev libssl-dev cpio kmod xz-utils
	busybox-static ksmbd-tools cifs-utils
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

# qemu_provider: how this machine gets qemu-system-x86_64: "path" (already
# there), "apt" (Debian's package installs cleanly) or "unpack" (it would
# remove a package of the user's, as Debian 12's qemu-system-common 7.2
# does to a backported qemu-utils 10: its packages are then unpacked into
# the cache instead, see install_qemu_unpacked).
qemu_provider() {
	if command -v qemu-system-x86_64 >/dev/null 2>&1; then
		echo path
	elif [ -z "$(apt_removals qemu-system-x86)" ]; then
		echo apt
	else
		echo unpack
	fi
}

# install_qemu_unpacked: Debian's qemu-system-x86, -common and -data
# unpacked under $SMBDRS_CACHE/qemu (dpkg does not know them, so nothing of
# the user's is touched), their libraries and firmware installed as usual
# (checked for removals like every package), and a wrapper,
# $SMBDRS_CACHE/qemu/bin/qemu-system-x86_64, that points qemu at its data.
install_qemu_unpacked() {
	local dir=$SMBDRS_CACHE/qemu deps removals deb
	local debs=(qemu-system-x86 qemu-system-common qemu-system-data)
	if [ -x "$dir/bin/qemu-system-x86_64" ] && "$dir/bin/qemu-system-x86_64" -version >/dev/null 2>&1; then
		echo "install-deps: qemu unpacked in $dir present"
		return 0
	fi
	echo "install-deps: Debian's qemu-system-x86 would remove $(apt_removals qemu-system-x86);"
	echo "install-deps: unpacking it into $dir instead (dpkg and the user's packages untouched)"
	deps=$(apt-cache show --no-all-versions "${debs[@]}" | sed -n 's/^Depends: //p' |
		tr ',' '\n' | sed 's/^ *//; s/[ |].*//' | grep -v '^qemu-' | sort -u)
	# shellcheck disable=SC2086 # one package name a word
	removals=$(apt_removals $deps)
	[ -z "$removals" ] || {
		echo "install-deps: qemu's libraries would REMOVE: $removals; stopping, nothing changed" >&2
		exit 1
	}
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends --no-remove $deps
	rm -rf "$dir.new"
	mkdir -p "$dir.new/debs" "$dir.new/bin"
	(cd "$dir.new/debs" && apt-get download "${debs[@]}") 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
	for deb in "$dir.new"/debs/*.deb; do
		dpkg-deb -x "$deb" "$dir.new/root"
	done
	# The data's relative links (to seabios, ipxe) point outside the
	# unpacked tree: make them absolute, to the installed packages.
	find "$dir.new/root/usr/share/qemu" -maxdepth 1 -type l | while read -r l; do
		case $(readlink "$l") in
		/*) ;;
		*) ln -sfn "$(realpath -m "/usr/share/qemu/$(readlink "$l")")" "$l" ;;
		esac
	done
	cat >"$dir.new/bin/qemu-system-x86_64" <<EOF2
#!/bin/sh
# Written by smbdirect-rs scripts/install-deps.sh: Debian's qemu, unpacked.
exec "$dir/root/usr/bin/qemu-system-x86_64" -L "$dir/root/usr/share/qemu" -L /usr/share/seabios "\$@"
EOF2
	chmod +x "$dir.new/bin/qemu-system-x86_64"
	rm -rf "$dir"
	mv "$dir.new" "$dir"
	"$dir/bin/qemu-system-x86_64" -version | head -n 1
}

# Sourced by the set-up test for apt_removals alone.
[ "${SMBDRS_DEPS_FUNCTIONS_ONLY:-}" = 1 ] && return 0

# culprits PKG...: which of PKG... would each remove something, as
# "PKG (removes X Y)" pieces.
culprits() {
	local p r
	for p in "$@"; do
		r=$(apt_removals "$p")
		[ -z "$r" ] || printf '%s (removes %s) ' "$p" "$r"
	done
}

SMBDRS_CACHE=${SMBDRS_CACHE:-$HOME/.cache/smbdirect-rs}
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
install-deps: stopping; nothing was changed. It is: $(culprits "${missing[@]}")
install-deps: (ksmbd-tools, for the in-kernel server, conflicts with Debian's
install-deps: samba). Remove them yourself if you can do without them, or run
install-deps: smbdirect-rs on a machine or container without them, then run
install-deps: this again.
EOF2
		exit 1
	fi
	apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}"
else
	echo "install-deps: all Debian packages present"
fi

case $(qemu_provider) in
path) echo "install-deps: $(command -v qemu-system-x86_64) present" ;;
apt)
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends --no-remove qemu-system-x86
	;;
unpack) install_qemu_unpacked ;;
esac

bindgen_bin=$HOME/.cargo/bin/bindgen
if [ -x "$bindgen_bin" ] && "$bindgen_bin" --version | grep -q " $BINDGEN_VERSION\$"; then
	echo "install-deps: bindgen $BINDGEN_VERSION present"
else
	echo "install-deps: building bindgen-cli $BINDGEN_VERSION (takes a few minutes)"
	cargo install --locked --version "$BINDGEN_VERSION" bindgen-cli
fi
