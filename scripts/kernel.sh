#!/usr/bin/env bash
# Build the smbdirect-rs test kernel from Debian's linux-source-6.12.
#
#   scripts/kernel.sh prepare          unpack, overlay the repo, apply patches
#   scripts/kernel.sh config FLAVOR    tinyconfig + configs/base + configs/FLAVOR
#   scripts/kernel.sh build FLAVOR     bzImage + modules, installed under out/
#   scripts/kernel.sh all FLAVOR       all three
#   scripts/kernel.sh env              print the variables the kernel make needs
#
# FLAVOR is "debug" (KASAN, lockdep, kmemleak: the test kernel) or "bench".
# Everything lives under $SMBDRS_CACHE (default ~/.cache/smbdirect-rs), outside
# the clone, and is reused: a second run rebuilds only what changed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"

tarball=/usr/src/linux-source-6.12.tar.xz
src=$SMBDRS_CACHE/src/linux-source-6.12
overlay_dir=fs/smb/smbdirect_rs
patch_state=$src/.smbdrs-patches

kmake() {
	local flavor=$1
	shift
	make -C "$src" O="$SMBDRS_CACHE/build/$flavor" "${KMAKE_VARS[@]}" "$@"
}

prepare() {
	if [ ! -f "$src/.smbdrs-unpacked" ]; then
		log "unpacking $tarball"
		rm -rf "$src"
		mkdir -p "$SMBDRS_CACHE/src"
		tar -C "$SMBDRS_CACHE/src" -xf "$tarball"
		touch "$src/.smbdrs-unpacked"
	fi

	# The overlay: the whole repository appears as fs/smb/smbdirect_rs.
	# kbuild reads our Kbuild and Kconfig there; the link follows the clone.
	# make compares modification times, which say nothing once the link
	# points at another clone (its older file is still another file, and
	# objects built from the first clone would stay): moving the link
	# drops our objects in every flavor, so they rebuild.
	local was
	was=$(readlink "$src/$overlay_dir" 2>/dev/null || true)
	if [ -n "$was" ] && [ "$was" != "$repo" ]; then
		log "overlay moves from $was to $repo: rebuilding our objects"
		rm -rf "$SMBDRS_CACHE"/build/*/"$overlay_dir" \
			"$SMBDRS_CACHE"/build/*/fs/smb/client/smbdirect_shim.o \
			"$SMBDRS_CACHE"/build/*/fs/smb/server/transport_rdma_shim.o
	fi
	ln -sfn "$repo" "$src/$overlay_dir"
	# The shims live in the repository too, linked where kbuild builds
	# them into cifs.ko and ksmbd.ko (patches/ adds them to the Makefiles).
	ln -sfn "$repo/shim/cifs/smbdirect_shim.c" "$src/fs/smb/client/smbdirect_shim.c"
	ln -sfn "$repo/shim/ksmbd/transport_rdma_shim.c" "$src/fs/smb/server/transport_rdma_shim.c"

	apply_patches
}

# Apply patches/*.patch idempotently. A copy of each applied patch is kept so
# that an edited or removed patch is reversed before the new one goes on.
apply_patches() {
	mkdir -p "$patch_state"
	local p name
	for p in "$patch_state"/*.patch; do
		[ -e "$p" ] || continue
		name=$(basename "$p")
		if ! cmp -s "$p" "$repo/patches/$name"; then
			log "reversing changed or removed patch $name"
			patch -d "$src" -p1 -R -s --no-backup-if-mismatch <"$p"
			rm "$p"
		fi
	done
	for p in "$repo"/patches/*.patch; do
		[ -e "$p" ] || continue
		name=$(basename "$p")
		[ -f "$patch_state/$name" ] && continue
		log "applying $name"
		patch -d "$src" -p1 -N -s --no-backup-if-mismatch <"$p"
		cp "$p" "$patch_state/$name"
	done
}

config() {
	local flavor=$1 out=$SMBDRS_CACHE/build/$1
	local frags=("$repo/configs/base.config" "$repo/configs/$flavor.config")
	[ -f "${frags[1]}" ] || die "no configs/$flavor.config"
	mkdir -p "$out"

	local stamp
	stamp=$(cat "${frags[@]}" "$repo/Kconfig" | sha256sum | cut -d' ' -f1)
	if [ -f "$out/.config" ] && [ "$(cat "$out/.smbdrs-config" 2>/dev/null)" = "$stamp" ]; then
		return 0
	fi

	log "configuring $flavor kernel"
	kmake "$flavor" -s tinyconfig
	KCONFIG_CONFIG=$out/.config "$src/scripts/kconfig/merge_config.sh" \
		-m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
	kmake "$flavor" -s olddefconfig
	check_config "$out/.config" "${frags[@]}"
	echo "$stamp" >"$out/.smbdrs-config"
}

# Every option a fragment asks for must survive olddefconfig: a dependency
# that silently drops one (SLUB_TINY hides KASAN) must stop the build.
check_config() {
	local cfg=$1
	shift
	local bad=0 line sym val
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Z0-9_]+)=(.*)$ ]]; then
			sym=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
			if ! grep -qxF "$sym=$val" "$cfg"; then
				echo "config: $sym=$val requested, got: $(grep -E "^(# )?$sym[= ]" "$cfg" || echo unset)" >&2
				bad=1
			fi
		elif [[ $line =~ ^#\ (CONFIG_[A-Z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			if grep -qE "^$sym=" "$cfg"; then
				echo "config: $sym requested off, got: $(grep -E "^$sym=" "$cfg")" >&2
				bad=1
			fi
		fi
	done < <(cat "$@")
	[ $bad -eq 0 ] || die "kernel config does not hold what configs/ ask for"
}

build() {
	local flavor=$1 out=$SMBDRS_CACHE/build/$1 inst=$SMBDRS_CACHE/out/$1
	log "building $flavor kernel (make -j$(nproc))"
	local t0=$SECONDS
	kmake "$flavor" -j"$(nproc)" bzImage modules
	log "kernel build took $((SECONDS - t0)) s"

	rm -rf "$inst.new"
	mkdir -p "$inst.new"
	kmake "$flavor" -s INSTALL_MOD_PATH="$inst.new" INSTALL_MOD_STRIP=1 \
		DEPMOD=/sbin/depmod modules_install
	cp "$out/arch/x86/boot/bzImage" "$inst.new/bzImage"
	cp "$out/.config" "$inst.new/config"
	kmake "$flavor" -s kernelrelease >"$inst.new/release"
	rm -rf "$inst"
	mv "$inst.new" "$inst"
	log "installed $(cat "$inst/release") into $inst"
}

cmd=${1:-}
case $cmd in
prepare) prepare ;;
config) prepare && config "${2:?flavor}" ;;
build) build "${2:?flavor}" ;;
all) prepare && config "${2:?flavor}" && build "$2" ;;
env) printf '%s\n' "${KMAKE_VARS[@]}" ;;
*) die "usage: $0 prepare|config FLAVOR|build FLAVOR|all FLAVOR|env" ;;
esac
