#!/usr/bin/env bash
# Build the initramfs the VM scenarios boot:
#
#   qemu/mkinitramfs.sh FLAVOR   -> $SMBDRS_CACHE/out/FLAVOR/initramfs.cpio
#
# It holds the host's own binaries (busybox-static, iproute2, rdma-core
# providers, ksmbd-tools, mount.cifs, fio, perftest, qperf, kmod) with their
# shared libraries, the FLAVOR kernel's module tree and qemu/guest/ (init and
# the scenario scripts) plus tests/harness/scenarios/ (the harness's
# deliberate-failure scenarios). The archive is uncompressed: the kernel
# unpacks it with a memcpy, which under TCG is much faster than gunzip.
#
# A stamp over every input (file names, sizes, mtimes and our own scripts'
# contents) makes a second run a no-op that takes well under a second.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"

flavor=${1:?usage: $0 FLAVOR}
out=$SMBDRS_CACHE/out/$flavor
[ -f "$out/release" ] || die "no kernel in $out (run: scripts/kernel.sh all $flavor)"
release=$(cat "$out/release")
moddir=$out/lib/modules/$release
[ -d "$moddir" ] || die "no module tree $moddir"
image=$out/initramfs.cpio
stampfile=$out/initramfs.stamp

# Host programs: "destination-in-guest source-on-host". Destinations are fixed
# so the guest scripts can call them by full path (busybox's shell runs its own
# applets ahead of PATH, so a bare "ip" would be busybox's).
tools=(
	"/usr/bin/busybox /usr/bin/busybox"
	"/usr/sbin/ip /usr/bin/ip"
	"/usr/bin/rdma /usr/bin/rdma"
	"/usr/bin/kmod /usr/bin/kmod"
	"/usr/libexec/ksmbd.tools /usr/libexec/ksmbd.tools"
	"/usr/sbin/mount.cifs /usr/sbin/mount.cifs"
	"/usr/bin/fio /usr/bin/fio"
	"/usr/bin/ib_write_bw /usr/bin/ib_write_bw"
	"/usr/bin/ib_send_bw /usr/bin/ib_send_bw"
	"/usr/bin/ib_read_bw /usr/bin/ib_read_bw"
	"/usr/bin/ib_write_lat /usr/bin/ib_write_lat"
	"/usr/bin/ib_send_lat /usr/bin/ib_send_lat"
	"/usr/bin/ibv_devinfo /usr/bin/ibv_devinfo"
	"/usr/bin/qperf /usr/bin/qperf"
	"/usr/bin/sha256sum /usr/bin/sha256sum"
	"/usr/bin/stat /usr/bin/stat"
	"/usr/bin/xz /usr/bin/xz"
	"/usr/bin/tar /usr/bin/tar"
)
# perf (linux-perf) for make bench-profile, in the bench kernel's image
# only: its libraries add about 30 MB that every debug boot would unpack.
if [ "$flavor" = bench ]; then
	tools+=("/usr/bin/perf /usr/bin/perf")
fi
providers=(rxe siw)
libibverbs_dir=/usr/lib/x86_64-linux-gnu/libibverbs

host_inputs() {
	local t
	for t in "${tools[@]}"; do echo "${t#* }"; done
	for p in "${providers[@]}"; do
		echo "/etc/libibverbs.d/$p.driver"
		echo "$libibverbs_dir/lib$p-rdmav34.so"
	done
}

stamp() {
	{
		echo "release $release"
		host_inputs | xargs stat -L -c '%n %s %Y'
		find "$moddir" -printf '%P %s %T@\n' | sort
		sha256sum "$0"
		find "$repo/qemu/guest" "$repo/tests/harness/scenarios" -type f -print0 |
			sort -z | xargs -0 sha256sum
	} | sha256sum | cut -d' ' -f1
}

# Our own guest tools, built from tools/*.c into the cache (static: the
# guest needs no library for them).
guest_tools=(failnth)
mkdir -p "$out/tools"
for t in "${guest_tools[@]}"; do
	if [ ! -x "$out/tools/$t" ] || [ "$repo/tools/$t.c" -nt "$out/tools/$t" ]; then
		${CC:-cc} -O2 -Wall -Werror -static -o "$out/tools/$t" "$repo/tools/$t.c" ||
			die "cannot build tools/$t.c"
	fi
	tools+=("/usr/bin/$t $out/tools/$t")
done
# smbd-hostile (tools/smbd-hostile/), the hostile MS-SMBD peer: linked
# against the host's libibverbs and librdmacm (copied with it by ldd),
# not static, since libibverbs loads its device providers with dlopen.
make -s -C "$repo/tools/smbd-hostile" O="$out/tools" CC="${CC:-cc}" ||
	die "cannot build tools/smbd-hostile (run scripts/install-deps.sh)"
tools+=("/usr/bin/smbd-hostile $out/tools/smbd-hostile")

want=$(stamp)
if [ -f "$image" ] && [ "$(cat "$stampfile" 2>/dev/null)" = "$want" ]; then
	log "initramfs up to date: $image"
	exit 0
fi

t0=$SECONDS
stage=$(mktemp -d "$out/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# mktemp makes the directory 0700 and it becomes the guest's "/": ksmbd walks
# the share path with the mapped user's fsuid, which could not pass it.
chmod 0755 "$stage"

# Merged-/usr layout, so any library path ldd prints resolves in the guest.
mkdir -p "$stage"/usr/{bin,sbin,lib,lib64,libexec} \
	"$stage"/{dev,proc,sys,tmp,run,mnt,srv,root,etc/ksmbd,etc/libibverbs.d,var}
ln -s usr/bin "$stage/bin"
ln -s usr/sbin "$stage/sbin"
ln -s usr/lib "$stage/lib"
ln -s usr/lib64 "$stage/lib64"
ln -s ../run "$stage/var/run"
chmod 1777 "$stage/tmp"

# Copy a host file to the same path under the stage, dereferencing links.
put() {
	local src=$1 dst=${2:-$1}
	[ -e "$stage$dst" ] && return 0
	mkdir -p "$stage$(dirname "$dst")"
	cp -L "$src" "$stage$dst"
}

# Shared libraries of an ELF file (ldd prints "name => path (addr)" or
# "/path (addr)"; the vdso has no path).
put_libs() {
	local lib
	for lib in $(ldd "$1" 2>/dev/null | awk '/=> \// {print $3} /^\t\// {print $1}'); do
		put "$lib"
	done
}

for t in "${tools[@]}"; do
	dst=${t% *} src=${t#* }
	[ -e "$src" ] || die "missing host program $src (run scripts/install-deps.sh)"
	put "$src" "$dst"
	put_libs "$src"
done
for p in "${providers[@]}"; do
	put "/etc/libibverbs.d/$p.driver"
	put "$libibverbs_dir/lib$p-rdmav34.so"
	put_libs "$libibverbs_dir/lib$p-rdmav34.so"
done

# Multi-call binaries.
for n in ksmbd.mountd ksmbd.control ksmbd.adduser ksmbd.addshare; do
	ln -s ../libexec/ksmbd.tools "$stage/usr/sbin/$n"
done
ln -s mount.cifs "$stage/usr/sbin/mount.smb3"
# kmod: the kernel's request_module() runs /sbin/modprobe.
for n in modprobe insmod rmmod lsmod depmod modinfo; do
	ln -s ../bin/kmod "$stage/usr/sbin/$n"
done
# busybox for every applet that no real program above provides.
for a in $("$stage/usr/bin/busybox" --list-full); do
	[ -e "$stage/$a" ] || [ -L "$stage/$a" ] || ln -s /usr/bin/busybox "$stage/$a"
done

# Users: ksmbd maps the SMB user to a local account.
cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
smbuser:x:1000:1000:smb test user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
smbuser:x:1000:
nogroup:x:65534:
EOF
printf "passwd: files\ngroup: files\nshadow: files\nhosts: files\n" >"$stage/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n192.0.2.1 smbdrs-server\n192.0.2.2 smbdrs-client\n' \
	>"$stage/etc/hosts"

# Kernel modules (already depmod'ed by scripts/kernel.sh).
mkdir -p "$stage/usr/lib/modules"
cp -a "$moddir" "$stage/usr/lib/modules/"

# Guest scripts.
mkdir -p "$stage/smbdrs/scenarios" "$stage/smbdrs/selftest"
cp "$repo/qemu/guest/init" "$stage/init"
cp "$repo"/qemu/guest/*.sh "$stage/smbdrs/"
cp "$repo"/qemu/guest/scenarios/*.sh "$stage/smbdrs/scenarios/"
cp "$repo"/tests/harness/scenarios/*.sh "$stage/smbdrs/selftest/"
chmod 0755 "$stage/init"
echo "$release" >"$stage/smbdrs/release"

(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet) >"$image.tmp"
mv "$image.tmp" "$image"
echo "$want" >"$stampfile"
log "initramfs $image: $(du -h "$image" | cut -f1), built in $((SECONDS - t0)) s"
