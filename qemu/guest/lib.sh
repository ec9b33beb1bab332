# Helpers for the guest scenarios (busybox sh). Sourced by /init and by
# every scenario script.
#
# Results go to the host as JSON lines on /dev/ttyS1 (one object a line):
#   {"event":"check","name":N,"ok":true|false,"detail":S}
#   {"event":"metric","name":N,"value":X,"unit":U}
#   {"event":"note","name":N,"text":S}
# /init adds "boot", "start", "kmemleak" and "end" events.
#
# busybox's shell runs its own applets before PATH, so iproute2, kmod and the
# other real programs are called by full path.

IP=/usr/sbin/ip
RDMA=/usr/bin/rdma
MODPROBE=/usr/sbin/modprobe
RMMOD=/usr/sbin/rmmod
MOUNT_CIFS=/usr/sbin/mount.cifs
FIO=/usr/bin/fio
SHA256=/usr/bin/sha256sum

RESULTS=${RESULTS:-/dev/ttyS1}

# smbdrs.NAME=VALUE on the kernel command line (run.py --set NAME=VALUE).
param() {
	local a
	for a in $(cat /proc/cmdline); do
		case $a in smbdrs.$1=*) echo "${a#*=}"; return 0 ;; esac
	done
	echo "$2"
}
FAILED=/tmp/smbdrs.failed

SERVER_IP=192.0.2.1
CLIENT_IP=192.0.2.2
# IPv6 on the RDMA device's netdev (selftest conn-small6 uses it).
SERVER_IP6=fd00:5eed::1
SHARE_DIR=/srv/share
SMB_USER=smbuser
SMB_PASS=smbdrs-Passw0rd
MNT=/mnt

say() { echo "smbdrs: $*"; }

# JSON string literal of $1: escape backslash, quote, tab; newlines become
# \n; other control characters are dropped.
json_str() {
	printf '%s' "$1" | tr -d '\000-\010\013-\037' |
		awk 'BEGIN { ORS = ""; printf "\"" }
		{ gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t")
		  if (NR > 1) printf "\\n"; printf "%s", $0 }
		END { printf "\"" }'
}

emit() { printf '%s\n' "$1" >"$RESULTS"; }

# check NAME OK(0|1 or true/false) [DETAIL]
check() {
	local name=$1 ok=$2 detail=${3:-}
	case $ok in 0 | true | yes) ok=true ;; *) ok=false ;; esac
	emit "{\"event\":\"check\",\"name\":$(json_word "$name"),\"ok\":$ok,\"detail\":$(json_str "$detail")}"
	if [ $ok = true ]; then
		say "check $name: ok${detail:+ ($detail)}"
	else
		say "check $name: FAILED${detail:+ ($detail)}"
		echo "$name" >>"$FAILED"
	fi
}

# require NAME OK [DETAIL]: a check that ends the scenario when it fails.
require() {
	check "$@"
	case $2 in 0 | true | yes) return 0 ;; esac
	exit 1
}

# run_check NAME CMD...: run CMD, the check passes when it exits 0. The
# command's output (last 20 lines) is the detail.
run_check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && echo "$out"
	check "$name" $rc "$(echo "$out" | tail -n 20)"
	return $rc
}

# Quote a plain word without forking (forks are slow under TCG + KASAN).
json_word() {
	case $1 in
	*[!A-Za-z0-9_.:/+-]*) json_str "$1" ;;
	*) printf '"%s"' "$1" ;;
	esac
}

# metric NAME VALUE [UNIT]: VALUE must be a number, else it is sent as a
# string and the run's summary shows it as such.
metric() {
	local name=$1 value=$2 unit=${3:-}
	case $value in
	'' | *[!0-9.eE+-]* | *.*.* | [eE.+]* ) value=$(json_str "$value") ;;
	esac
	emit "{\"event\":\"metric\",\"name\":$(json_word "$name"),\"value\":$value,\"unit\":$(json_word "$unit")}"
	say "metric $name = $2 $unit"
}

note() {
	emit "{\"event\":\"note\",\"name\":$(json_str "$1"),\"text\":$(json_str "$2")}"
	say "note $1: $2"
}

# klog: the kernel log since the current part began (see part), all of
# it outside parts; checks read it so that one part's lines never satisfy
# another's.
klog() {
	if [ -n "${PART_MARK:-}" ]; then
		dmesg | sed -n "/$PART_MARK/,\$p"
	else
		dmesg
	fi
}

# klog_wait SECS PATTERN: waits up to SECS seconds for PATTERN (grep -E)
# in klog; its status says whether it came.
klog_wait() {
	local i
	for i in $(seq 1 "$1"); do
		klog | grep -qE "$2" && return 0
		sleep 1
	done
	klog | grep -qE "$2"
}

# part NAME CMD...: one part of a boot that runs several (make test's
# suites share a boot, and its kmemleak scan, between parts that used to
# boot alone). CMD runs in a subshell, so a failed require ends that part
# only; its failed checks still fail the scenario. Every part sets up and
# tears down its own links and modules.
part() {
	local name=$1 t0 rc
	shift
	say "part $name start"
	echo "smbdrs: part $name start" >/dev/kmsg
	t0=$(now)
	emit "{\"event\":\"part\",\"name\":$(json_word "$name"),\"phase\":\"start\",\"uptime\":$t0}"
	(
		export PART_MARK="smbdrs: part $name start"
		"$@"
	)
	rc=$?
	emit "{\"event\":\"part\",\"name\":$(json_word "$name"),\"phase\":\"end\",\"rc\":$rc,\"uptime\":$(now)}"
	say "part $name end rc=$rc ($(elapsed "$t0" "$(now)") s)"
	[ $rc -eq 0 ] || echo "part $name" >>"$FAILED"
	return 0
}

# Monotonic seconds with centiseconds, from /proc/uptime.
now() { cut -d' ' -f1 /proc/uptime; }
# elapsed START END
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# mbps BYTES SECONDS -> MB/s (10^6 bytes)
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.01; printf "%.1f", b / s / 1e6 }'; }

# Load a module, recording a failure with modprobe's message.
load() {
	local out
	if out=$($MODPROBE "$@" 2>&1); then
		return 0
	fi
	check "modprobe $*" 1 "$out"
	return 1
}

# Every crypto module of the kernel: cifs and ksmbd allocate hmac(sha256),
# cmac(aes), gcm(aes), ccm(aes), hmac(md5), sha512 ... and fail the mount
# ("Could not allocate shash TFM") when the algorithm is not registered yet.
load_crypto() {
	local rel m n=0
	rel=$(uname -r)
	for m in $(find /lib/modules/"$rel"/kernel/crypto /lib/modules/"$rel"/kernel/lib/crypto \
		/lib/modules/"$rel"/kernel/fs/smb/common -name '*.ko*' 2>/dev/null); do
		m=${m##*/}
		m=${m%%.ko*}
		$MODPROBE "$m" 2>/dev/null && n=$((n + 1))
	done
	say "loaded $n crypto modules"
}

# Two veth ends in the init namespace. 6.12's cifs and ksmbd create their
# rdma_cm ids in init_net and rxe's UDP socket lives there too, so client and
# server cannot be split into network namespaces: the RDMA traffic is rxe's
# (or siw's) loopback on veth0, and no packet leaves the VM (-nic none).
#
# MTU 9000 (jumbo frames, as RoCE deployments use) lets rxe run with a 4096
# byte path MTU instead of 1024: a quarter of the packets, which is what
# bounds a soft device under TCG. TCP runs over the same MTU.
net_setup() {
	local mtu
	mtu=$(param mtu 9000)
	# Set up once a boot: a later part of a suite finds it there.
	$IP link show veth0 >/dev/null 2>&1 && return 0
	$IP link set lo up
	$IP link add veth0 mtu $mtu type veth peer name veth1 mtu $mtu || return 1
	$IP addr add $SERVER_IP/24 dev veth0
	$IP addr add $CLIENT_IP/24 dev veth1
	$IP -6 addr add $SERVER_IP6/64 dev veth0 nodad 2>/dev/null
	$IP link set veth0 up
	$IP link set veth1 up
}

# rdma_link TYPE NAME: rxe or siw device on veth0.
rdma_link() {
	local type=$1 name=$2 i out
	case $type in
	rxe) load rdma_rxe || return 1 ;;
	*) load "$type" || return 1 ;;
	esac
	load rdma_ucm
	load ib_uverbs
	# Left by an earlier part that could not delete it (device_quiet).
	if $RDMA link show "$name/1" >/dev/null 2>&1; then
		say "reusing $name"
		return 0
	fi
	out=$($RDMA link add "$name" type "$type" netdev veth0 2>&1) || {
		check "rdma link add $name" 1 "$out"
		return 1
	}
	for i in 1 2 3 4 5 6 7 8 9 10; do
		$RDMA link show "$name/1" 2>/dev/null | grep -q ACTIVE && break
		sleep 1
	done
	out=$($RDMA link show "$name/1" 2>&1)
	echo "$out"
	echo "$out" | grep -q ACTIVE
	check "rdma link $name active" $? "$out"
}

# ksmbd with one share on its own tmpfs, writable by the mapped user; its
# SMB Direct transport is $KSMBD_RDMA_IMPL (c unless set).
ksmbd_start() {
	ksmbd_setup && ksmbd_run
}

# ksmbd_setup: the module, the share and the user, without starting.
ksmbd_setup() {
	local out
	# The SMB Direct transport: upstream's C one unless the caller asks
	# (KSMBD_RDMA_IMPL=rust), read when the server starts.
	load ksmbd rdma_impl=${KSMBD_RDMA_IMPL:-c} || return 1
	echo "${KSMBD_RDMA_IMPL:-c}" >/sys/module/ksmbd/parameters/rdma_impl
	mkdir -p $SHARE_DIR /etc/ksmbd
	# A fresh share and user database each time (a suite's later part
	# sets up again).
	umount $SHARE_DIR 2>/dev/null
	rm -f /etc/ksmbd/ksmbdpwd.db
	mount -t tmpfs -o size=1g,mode=0777 smbshare $SHARE_DIR
	chmod 0777 $SHARE_DIR
	cat >/etc/ksmbd/ksmbd.conf <<EOF
[global]
	netbios name = SMBDRS
	server min protocol = SMB3_00
	server multi channel support = no
	smb2 max read = 8MB
	smb2 max write = 8MB
[share]
	path = $SHARE_DIR
	read only = no
	guest ok = no
EOF
	out=$(/usr/sbin/ksmbd.adduser -a $SMB_USER -p "$SMB_PASS" 2>&1) || {
		check "ksmbd.adduser" 1 "$out"
		return 1
	}
}

# ksmbd_run: start ksmbd.mountd (again) on the configuration ksmbd_start
# wrote, and wait until the kernel server listens.
ksmbd_run() {
	# In the foreground (-n) under our control, its log in /tmp/mountd.log.
	/usr/sbin/ksmbd.mountd -n >>/tmp/mountd.log 2>&1 &
	# mountd starts the kernel server through netlink; wait for it.
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		grep -q '^ksmbd' /proc/modules && [ -e /sys/class/ksmbd-control/kill_server ] &&
			netstat -ltn 2>/dev/null | grep -q ':445 ' && break
		sleep 1
	done
	netstat -ltn 2>/dev/null | grep -q ':445 '
	check "ksmbd listening" $? "$(netstat -ltn 2>&1 | grep -E ':445 |:5445 ')"
}

# device_quiet DEV TAG: waits up to 15 s for the last rdma_cm id on DEV
# to go; the check TAGno_cm_id_left fails with those left otherwise.
device_quiet() {
	local dev=$1 tag=$2 t0 left
	t0=$(now)
	while left=$($RDMA resource show cm_id 2>/dev/null | grep "link $dev/"); do
		if [ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -ge 15 ]; then
			check "${tag}no_cm_id_left" 1 "rdma_cm ids still on $dev (deleting it would wait for them forever):
$left
$(grep -E '^(smbdirect_rs|ksmbd|cifs) ' /proc/modules)"
			return 1
		fi
		sleep 1
	done
	check "${tag}no_cm_id_left" 0 "none on $dev"
}

# ksmbd_shutdown SECONDS: ksmbd.control -s (the kernel server stops its
# listeners, then waits for every connection to end); fails, with the
# blocked tasks on the console, if it has not returned within SECONDS.
ksmbd_shutdown() {
	local pid i=0
	/usr/sbin/ksmbd.control -s >/dev/null 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		if [ $i -ge "$1" ]; then
			dump_tasks >/dev/console 2>&1
			return 1
		fi
		sleep 1
		i=$((i + 1))
	done
	wait $pid
	return 0
}

ksmbd_stop() {
	/usr/sbin/ksmbd.control -s >/dev/null 2>&1
	sleep 1
	$RMMOD ksmbd 2>/dev/null
}

# cifs_mount OPTS: mount //SERVER/share on $MNT with the test user.
cifs_mount() {
	local extra=$1 out
	mkdir -p $MNT
	out=$($MOUNT_CIFS //$SERVER_IP/share $MNT \
		-o "vers=3.1.1,username=$SMB_USER,password=$SMB_PASS,cache=none$extra" 2>&1)
	local rc=$?
	[ -n "$out" ] && echo "$out"
	return $rc
}

cifs_umount() {
	umount $MNT 2>&1
}

# The SMBDirect section of /proc/fs/cifs/DebugData as metrics (values are
# printed in hex there). PREFIX names them, e.g. rxe_.
smbdirect_metrics() {
	local prefix=$1 dd v k
	dd=$(cat /proc/fs/cifs/DebugData 2>&1)
	note "${prefix}debugdata" "$(echo "$dd" | grep -E 'SMBDirect|^Conn|Credits|^MR|Number of credits')"
	for k in protocol_version:'protocol version' receive_credit_max send_credit_target \
		max_send_size max_fragmented_recv_size max_fragmented_send_size max_receive_size:'max_receive_size' \
		max_readwrite_size rdma_readwrite_threshold send_credits receive_credits \
		receive_credit_target responder_resources max_frmr_depth; do
		local key=${k%%:*} pat=${k#*:}
		[ "$pat" = "$k" ] && pat=$key
		v=$(echo "$dd" | sed -n "s/.*$pat: *\([0-9a-fA-F]*\).*/\1/p" | head -n 1)
		[ -n "$v" ] && metric "$prefix$key" "$((0x$v))"
	done
}

# fio_run NAME RW FILE SIZE [BS]: O_DIRECT, BS blocks (1M), sync engine. A write
# job verifies what it wrote (sha256 headers in every block) after writing; a
# read job verifies the headers of an existing file. Prints MB/s.
fio_run() {
	local name=$1 rw=$2 file=$3 size=$4 bs=${5:-1M} out bw
	out=$($FIO --name="$name" --filename="$file" --rw="$rw" --bs="$bs" --size="$size" \
		--direct=1 --invalidate=0 --ioengine=psync --iodepth=1 --numjobs=1 --thread \
		--verify=sha256 --do_verify=1 --verify_fatal=1 --verify_dump=0 \
		--output-format=terse --terse-version=3 2>&1)
	local rc=$?
	echo "$out" | grep -v '^3;' >&2
	[ $rc -eq 0 ] || {
		echo "$out" | tail -n 20 >&2
		return $rc
	}
	# terse v3: field 7 = read bandwidth KiB/s, field 48 = write bandwidth KiB/s
	bw=$(echo "$out" | awk -F';' -v rw="$rw" '$1 == "3" {
		v = (rw ~ /write/) ? $48 : $7; printf "%.1f", v * 1024 / 1e6 }')
	echo "$bw"
}

# checksum_roundtrip TAG MiB [corrupt]: write a random file through the mount,
# compare sha256 of the source, of the share's backing file (read directly on
# the server side) and of the file read back through the mount (cache=none,
# so the read goes to the server). "corrupt" flips a byte of the backing file
# first: the harness's own test that a mismatch is caught.
checksum_roundtrip() {
	local tag=$1 mib=$2 corrupt=${3:-} t0 t1 src back thru
	dd if=/dev/urandom of=/tmp/payload bs=1M count="$mib" 2>/dev/null
	src=$($SHA256 /tmp/payload | cut -d' ' -f1)
	# 1 MiB requests: with cache=none every write(2) is one SMB2 WRITE, and
	# small ones go inline instead of through RDMA.
	t0=$(now)
	dd if=/tmp/payload of=$MNT/payload.bin bs=1M 2>/dev/null
	local wrc=$?
	t1=$(now)
	check "${tag}dd_write" $wrc "dd if=/tmp/payload of=$MNT/payload.bin bs=1M"
	metric "${tag}dd_write_MBps" "$(mbps $((mib * 1048576)) "$(elapsed "$t0" "$t1")")" MB/s
	if [ "$corrupt" = corrupt ]; then
		printf 'X' | dd of=$SHARE_DIR/payload.bin bs=1 seek=4097 conv=notrunc 2>/dev/null
		note "${tag}corrupt" "flipped byte 4097 of the backing file $SHARE_DIR/payload.bin"
	fi
	back=$($SHA256 $SHARE_DIR/payload.bin | cut -d' ' -f1)
	t0=$(now)
	thru=$(dd if=$MNT/payload.bin bs=1M 2>/dev/null | $SHA256 | cut -d' ' -f1)
	t1=$(now)
	metric "${tag}dd_read_MBps" "$(mbps $((mib * 1048576)) "$(elapsed "$t0" "$t1")")" MB/s
	[ "$src" = "$back" ]
	check "${tag}sha256_backing" $? "source $src backing $back"
	[ "$src" = "$thru" ]
	check "${tag}sha256_readback" $? "source $src read back $thru"
	rm -f $MNT/payload.bin /tmp/payload
}

# fio_roundtrip TAG SIZE [BS] [rand]: fio write with verify (SIZE in MiB, or
# with a k/M suffix), then a separate
# read job that verifies every block again (sequential, or random with
# "rand"); MB/s of both as metrics.
fio_roundtrip() {
	local tag=$1 mib=$2 bs=${3:-1M} how=${4:-} bw size
	case $mib in *[kKmM]) size=$mib ;; *) size=${mib}M ;; esac
	if bw=$(fio_run "${tag}write" ${how}write $MNT/fio.bin "$size" "$bs"); then
		check "${tag}fio_write_verify" 0 "fio ${how}write+verify $size in $bs blocks, sha256"
		metric "${tag}fio_write_MBps" "$bw" MB/s
	else
		check "${tag}fio_write_verify" 1 "fio write+verify failed"
	fi
	if bw=$(fio_run "${tag}read" ${how}read $MNT/fio.bin "$size" "$bs"); then
		check "${tag}fio_read_verify" 0 "fio ${how}read+verify $size in $bs blocks, sha256"
		metric "${tag}fio_read_MBps" "$bw" MB/s
	else
		check "${tag}fio_read_verify" 1 "fio read+verify failed"
	fi
	rm -f $MNT/fio.bin
}

# smb_baseline TYPE: upstream cifs client to upstream ksmbd over TYPE (rxe or
# siw), then the same over TCP. smbdrs.fio_mib / smbdrs.sha_mib on the kernel
# command line set the data sizes (64 and 32 MiB).
smb_baseline() {
	local type=$1 dev mib out t0 t1
	mib=$(param fio_mib 64)
	dev=${type}0
	load_crypto
	net_setup || require "veth setup" 1
	rdma_link "$type" "$dev" || exit 1
	ksmbd_start || exit 1
	$RDMA link show >&2

	t0=$(now)
	out=$(cifs_mount ",rdma,rdma_impl=c" 2>&1)
	local rc=$?
	t1=$(now)
	metric "${type}_mount_s" "$(elapsed "$t0" "$t1")" s
	[ $rc -eq 0 ] || tail -n 20 /tmp/mountd.log
	require "${type}_mount_rdma" $rc "$out
$(klog | grep -iE 'cifs|smbd|rdma|ksmbd' | tail -n 15)"
	grep " $MNT " /proc/mounts
	grep " $MNT " /proc/mounts | grep -q 'rdma'
	check "${type}_proc_mounts_rdma" $? "$(grep " $MNT " /proc/mounts)"
	grep -q 'SMBDirect (in hex) protocol version' /proc/fs/cifs/DebugData
	check "${type}_debugdata_smbdirect" $? "$(grep -A3 SMBDirect /proc/fs/cifs/DebugData)"
	smbdirect_metrics "${type}_"

	checksum_roundtrip "${type}_" "$(param sha_mib 32)"
	fio_roundtrip "${type}_rdma_" "$mib"
	# Counters after the I/O: the RDMA path was really used.
	note "${type}_debugdata_after" "$(grep -E 'SMBDirect|^Conn|Credits|^MR' /proc/fs/cifs/DebugData)"
	$RDMA statistic show link "$dev/1" 2>/dev/null | head -n 5 >&2
	out=$(cifs_umount)
	check "${type}_umount_rdma" $? "$out"

	out=$(cifs_mount "" 2>&1)
	require "${type}_mount_tcp" $? "$out"
	grep " $MNT " /proc/mounts | grep -qv 'rdma'
	check "${type}_tcp_mount_is_tcp" $? "$(grep " $MNT " /proc/mounts)"
	checksum_roundtrip "${type}_tcp_" "$(param sha_mib 32)"
	fio_roundtrip "${type}_tcp_" "$mib"
	out=$(cifs_umount)
	check "${type}_umount_tcp" $? "$out"

	ksmbd_stop
	$RDMA link delete "$dev" 2>/dev/null
}

# hang_panics SECONDS: a task blocked that long panics the guest with its
# stack, so a hang fails the scenario at once instead of at its timeout.
hang_panics() {
	echo "$1" >/proc/sys/kernel/hung_task_timeout_secs
	echo 1 >/proc/sys/kernel/hung_task_panic
}

FAULT_ATTRS="failslab fail_page_alloc"

# filter_attrs: the fault attributes a per-task walk (fail-nth) counts: the
# allocators' and, once smbdirect_rs is loaded, its DMA mappings'. A stack
# filter must reach all of them, or an unfiltered point takes the step.
filter_attrs() {
	echo $FAULT_ATTRS
	[ -d /sys/kernel/debug/fail_smbdrs_dma ] && echo fail_smbdrs_dma
}

# fault_setup: every allocation of a task with fail-nth armed is eligible
# (GFP_KERNEL included, any order), and injections print nothing.
fault_setup() {
	local f
	for f in $FAULT_ATTRS; do
		echo N >/sys/kernel/debug/$f/ignore-gfp-wait
	done
	for f in $(filter_attrs); do
		echo 0 >/sys/kernel/debug/$f/verbose
	done
	echo 0 >/sys/kernel/debug/fail_page_alloc/min-order
}

# symbol_after ADDR: the address of the first symbol in /proc/kallsyms
# above ADDR (hex, without 0x). One pass, no sort: sorting /proc/kallsyms
# costs half a minute under TCG.
symbol_after() {
	awk -v s="$1" '$1 > s && (n == "" || $1 < n) { n = $1 } END { if (n != "") print n }' /proc/kallsyms
}

# symbol_range NAME: "0xSTART 0xEND" of a kernel or module function, from
# /proc/kallsyms (END is the next symbol's address); nothing if not found.
symbol_range() {
	local from to
	from=$(grep -w "$1" /proc/kallsyms | awk '{print $1}' | head -n 1)
	[ -n "$from" ] || return 1
	to=$(symbol_after "$from")
	[ -n "$to" ] || return 1
	echo "0x$from 0x$to"
}

# module_text_range MODULE: "0xSTART 0xEND" around MODULE's functions (C
# and Rust), END being the address of the next symbol after its last.
module_text_range() {
	local first last next
	awk -v m="[$1]" '$4 == m && ($2 == "t" || $2 == "T") { print $1 }' /proc/kallsyms |
		sort >/tmp/module-text
	first=$(head -n 1 /tmp/module-text)
	last=$(tail -n 1 /tmp/module-text)
	rm -f /tmp/module-text
	[ -n "$first" ] || return 1
	next=$(symbol_after "$last")
	[ -n "$next" ] || return 1
	echo "0x$first 0x$next"
}

# fault_filter require|reject START END: only fail allocations whose stack
# passes through (require) or never through (reject) START..END.
fault_filter() {
	local f
	for f in $(filter_attrs); do
		echo "$2" >/sys/kernel/debug/$f/$1-start
		echo "$3" >/sys/kernel/debug/$f/$1-end
	done
}

# fault_reject_upstream TYPE: allocation sites inside the soft devices that
# upstream mishandles when they fail, kept out of any injection (see
# Documentation/known-bugs.md): rxe hangs on a failed rd_atomic allocation
# in rxe_qp_from_attr; siw (6.12.117) leaks its page list when
# siw_mr_add_mem fails inside siw_alloc_mr (the error path frees the MR,
# and mr->mem, the only pointer to the list, is still NULL).
fault_reject_upstream() {
	local range
	case $1 in
	rxe) range=$(symbol_range rxe_qp_from_attr) && fault_filter reject $range ;;
	siw) range=$(symbol_range siw_mr_add_mem) && fault_filter reject $range ;;
	esac
}

# fault_reset: no stack filter, nothing armed (the defaults).
fault_reset() {
	local f
	for f in $(filter_attrs); do
		echo 0 >/sys/kernel/debug/$f/probability
		echo 1 >/sys/kernel/debug/$f/times
	done
	fault_filter require 0 0xffffffffffffffff
	fault_filter reject 0 0
}

# fault_walk TEST PREFIX MAX: tools/failnth fails the 1st, 2nd, ... fault
# point of self test TEST's task in turn, until a run has none left (at most
# MAX steps). Every run the test reached must print one PASS or FAIL line;
# metrics and checks are named PREFIXfault_... (fault_setup and any stack
# filter come first; the caller checks a clean run afterwards).
fault_walk() {
	local test=$1 p=$2 max=$3 run=/sys/module/smbdirect_rs/parameters/run
	local before t0 t1 rc steps injected results passes fails reached
	before=$(klog | grep -c "smbdirect_rs: selftest $test:")
	t0=$(now)
	echo "smbdrs: fault injection on" >/dev/kmsg
	/usr/bin/failnth $run "$test" "$max" >/tmp/walk-$test.log 2>&1
	rc=$?
	echo "smbdrs: fault injection off" >/dev/kmsg
	t1=$(now)
	tail -n 1 /tmp/walk-$test.log
	check "${p}fault_walk_completed" $rc "$(tail -n 1 /tmp/walk-$test.log)"
	steps=$(sed -n 's/^failnth: steps=\([0-9]*\).*/\1/p' /tmp/walk-$test.log)
	injected=$(sed -n 's/.* injected=\([0-9]*\) .*/\1/p' /tmp/walk-$test.log | tail -n 1)
	metric "${p}fault_steps" "${steps:-0}"
	metric "${p}faults_injected" "${injected:-0}"
	metric "${p}fault_walk_s" "$(elapsed "$t0" "$t1")" s
	results=$(klog | grep "smbdirect_rs: selftest $test:" | tail -n +$((before + 1)))
	passes=$(echo "$results" | grep -c ': PASS ')
	fails=$(echo "$results" | grep -c ': FAIL ')
	metric "${p}fault_runs_passed" "$passes"
	metric "${p}fault_runs_failed_cleanly" "$fails"
	# The steps the self test itself reached (the rest failed in the write
	# before it) each print exactly one verdict.
	reached=$(grep -c 'write=OK' /tmp/walk-$test.log)
	[ $((passes + fails)) -eq "$reached" ]
	check "${p}every_reached_run_reported" $? "reached=$reached pass=$passes fail=$fails"
	echo "$results" | grep ': FAIL ' | sed 's/.*: FAIL \([^:]*\):.*/\1/' | sort | uniq -c | sort -rn | head -n 40
	[ "${injected:-0}" -gt 0 ]
	check "${p}faults_were_injected" $? "injected=$injected"
}

# kv LINE KEY: the value of "KEY=value" in a self test's result line.
kv() { echo "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

# perftest_bw BINARY DEVICE SIZE ITERS [FLAGS]: perftest's average bandwidth (MB/s)
# between the veth ends over rdma_cm (-R, which iWARP needs), server in the
# background; empty if it failed.
perftest_bw() {
	local bin=$1 dev=$2 size=$3 n=$4 extra=${5:-} out
	timeout 300 /usr/bin/$bin -d "$dev" -R -F -s "$size" -n "$n" $extra >/tmp/$bin.server 2>&1 &
	local spid=$!
	sleep 2
	out=$(timeout 300 /usr/bin/$bin -d "$dev" -R -F -s "$size" -n "$n" $extra $SERVER_IP 2>&1)
	wait $spid
	echo "$bin $size: $out" >&2
	echo "$out" | awk -v s="$size" '$1 == s && NF >= 4 { print $4 }' | tail -n 1
}

# conn_stream TYPE [walk|walks] [perftest]: the shared connection's self
# test over an rxe or siw device: two connections of ours (active and
# passive) in this kernel, 8 sender threads a side, messages of random sizes
# up to past the maximum, every byte checked; "walk": the allocation-failure
# walk of the active side (conn_fault_walk), "walks": of both sides;
# "perftest": the raw perftest ceiling of the same boot; then the device
# deleted under traffic.
conn_stream() {
	local type=$1 dev=${1}0 line side walk= perftest=
	shift
	for a in "$@"; do
		case $a in
		walk) walk=active ;;
		walks) walk=passive ;;
		perftest) perftest=1 ;;
		esac
	done
	net_setup || require "veth setup" 1
	rdma_link "$type" "$dev" || exit 1
	load rdma_cm || exit 1
	out=$($MODPROBE smbdirect_rs selftest_addr=$SERVER_IP 2>&1)
	require "load" $? "$out"
	hang_panics 60
	echo conn >/sys/module/smbdirect_rs/parameters/run
	line=$(klog | grep "smbdirect_rs: selftest conn:" | grep -E ': (PASS|FAIL) ' | tail -n 1)
	echo "$line"
	echo "$line" | grep -q ': PASS '
	check "conn_messages_checked" $? "$line"
	# The SMB Direct port of the device's transport, on both sides.
	local want=445
	[ "$type" = siw ] && want=5445
	[ "$(kv "$line" port)" = $want ]
	check "conn_smbd_port_$want" $? "port=$(kv "$line" port)"
	[ -n "$(kv "$line" client_sent)" ] && [ "$(kv "$line" client_sent)" = "$(kv "$line" server_received)" ] &&
		[ "$(kv "$line" server_sent)" = "$(kv "$line" client_received)" ]
	check "conn_every_message_arrived" $? "$line"
	[ "$(kv "$line" refused_oversize)" -gt 0 ] 2>/dev/null
	check "conn_oversized_refused" $? "refused_oversize=$(kv "$line" refused_oversize)"
	# ECONNRESET (104): the passive side saw the active side disconnect.
	[ "$(kv "$line" server_end)" = "Some(Error(104))" ]
	check "conn_peer_saw_disconnect" $? "server_end=$(kv "$line" server_end)"
	# RDMA through pooled fast-registration regions, both ways round: each
	# side registered 1 MiB + 3 pages and the other wrote and read it.
	local r
	r=$(klog | grep 'smbdirect_rs: selftest conn: rdma ' | tail -n 1)
	echo "$r"
	[ "$(kv "$r" exchanges)" = 2 ] && [ "$(kv "$r" bytes)" -ge $((4 * 1048576)) ] 2>/dev/null
	check "conn_rdma_both_ways_checked" $? "$r"
	metric conn_rdma_bytes "$(kv "$r" bytes)" B
	metric conn_rdma_descriptors "$(kv "$r" descriptors)"
	# The mover cut the regions into 16 KiB descriptors: one operation had
	# more of them than the 16 RDMA read/write credits a connection has at
	# most (IRD/ORD), as Windows clients do; it had to wait, not deadlock.
	[ "$(kv "$r" most_in_one_op)" -gt 16 ] 2>/dev/null
	check "conn_rdma_more_descriptors_than_credits" $? "$r"
	for side in client server; do
		local s
		s=$(klog | grep "smbdirect_rs: selftest conn: $side " | tail -n 1)
		echo "$s"
		[ "$(kv "$s" spans_mapped)" -gt 0 ] 2>/dev/null
		check "conn_${side}_payload_zero_copy" $? "$s"
		[ "$(kv "$s" receives_recycled)" -gt 0 ] 2>/dev/null
		check "conn_${side}_receives_recycled" $? "$s"
		[ "$(kv "$s" post_errors)" = 0 ]
		check "conn_${side}_no_post_errors" $? "$s"
		# Every work request context came from the preallocated pool.
		[ "$(kv "$s" context_misses)" = 0 ]
		check "conn_${side}_no_allocation_on_data_path" $? "context_misses=$(kv "$s" context_misses)"
		[ "$(kv "$s" softirq_completions)" -gt 0 ] 2>/dev/null
		check "conn_${side}_completions_in_softirq" $? "softirq_completions=$(kv "$s" softirq_completions)"
		metric "conn_${side}_deferred_pumps" "$(kv "$s" deferred_pumps)"
		for k in registrations remote_invalidations local_invalidations rdma_reads rdma_writes; do
			[ "$(kv "$s" $k)" -gt 0 ] 2>/dev/null
			check "conn_${side}_$k" $? "$k=$(kv "$s" $k)"
		done
		metric "conn_${side}_fragments_sent" "$(kv "$s" fragments_sent)"
		metric "conn_${side}_keepalives_sent" "$(kv "$s" keepalives_sent)"
		metric "conn_${side}_credit_waits" "$(kv "$s" credit_waits)"
	done
	metric conn_loopback_MBps "$(awk -v k="$(kv "$line" loopback_kBps)" 'BEGIN { printf "%.2f", k / 1000 }')" MB/s
	metric conn_elapsed_ms "$(kv "$line" elapsed_ms)" ms
	metric conn_bytes "$(($(kv "$line" client_bytes) + $(kv "$line" server_bytes)))" B
	# The raw ceiling of this boot's device (perftest, which speaks iWARP
	# too): sends of our fragment size, and 1 MiB RDMA writes.
	if [ -n "$perftest" ]; then
		metric "raw_send_bw_1364_MBps" "$(perftest_bw ib_send_bw "$dev" 1364 2000)" MB/s
		metric "raw_write_bw_1M_MBps" "$(perftest_bw ib_write_bw "$dev" 1048576 20)" MB/s
	fi

	[ -n "$walk" ] && conn_fault_walk "$type" "$walk"

	# A device that loses completions (debugfs smbdirect_rs/lose_sends,
	# debug kernels; siw did with two CPUs): three sends of a short run are
	# taken and never reach the device. The run fails on a timeout, its
	# teardown completes them as flushed and says so, nothing leaks
	# (kmemleak at the end) and the next run passes.
	local lose=/sys/kernel/debug/smbdirect_rs/lose_sends
	if [ -w $lose ]; then
		echo 3 >$lose
		echo conn-small >/sys/module/smbdirect_rs/parameters/run
		echo 0 >$lose
		line=$(klog | grep 'the device never completed' | tail -n 1)
		echo "$line"
		[ -n "$line" ]
		check "conn_lost_sends_flushed" $? "${line:-no lost work request was flushed}"
		echo conn-small >/sys/module/smbdirect_rs/parameters/run
		line=$(klog | grep 'smbdirect_rs: selftest conn-small:' | tail -n 1)
		echo "$line" | grep -q ': PASS '
		check "conn_small_after_lost_sends" $? "$line"
	fi

	# A queue pair reset with sends in flight (known-bugs entry 14; debugfs
	# smbdirect_rs/error_qp_after_sends, debug kernels): the 8th send of a
	# short run, a fragment of its 9000-byte message with the rest queued
	# behind it, is posted, then the queue pair goes to error, so that
	# send, the ones after it and every posted receive complete as
	# flushed. The flushed completions must end the connection at once:
	# the run fails with ECONNRESET (104), not on its 20-second timeout
	# (110), with no report and nothing leaked (kmemleak at the end), and
	# the next run passes.
	local qp_error=/sys/kernel/debug/smbdirect_rs/error_qp_after_sends hook
	if [ -w $qp_error ]; then
		echo 8 >$qp_error
		echo conn-small >/sys/module/smbdirect_rs/parameters/run
		echo 0 >$qp_error
		hook=$(klog | grep 'test hook: queue pair put in error' | tail -n 1)
		line=$(klog | grep 'smbdirect_rs: selftest conn-small:' | tail -n 1)
		echo "$hook"
		echo "$line"
		[ -n "$hook" ] && echo "$line" | grep -q ': FAIL .*Error(104)'
		check "conn_qp_error_with_sends_in_flight_fails_cleanly" $? "${hook:-the hook never fired}; $line"
		echo conn-small >/sys/module/smbdirect_rs/parameters/run
		line=$(klog | grep 'smbdirect_rs: selftest conn-small:' | tail -n 1)
		echo "$line" | grep -q ': PASS '
		check "conn_small_after_qp_error" $? "$line"
	fi

	# Completion queues polled from the workqueue instead of softirq
	# (cq_workqueue, the comparison of make bench-profile's "-wq" rows):
	# a short run still passes.
	local cq_wq=/sys/module/smbdirect_rs/parameters/cq_workqueue
	echo Y >$cq_wq
	echo conn-small >/sys/module/smbdirect_rs/parameters/run
	echo N >$cq_wq
	line=$(klog | grep 'smbdirect_rs: selftest conn-small:' | tail -n 1)
	echo "$line" | grep -q ': PASS '
	check "conn_small_completions_on_workqueue" $? "$line"

	# The device goes away in the middle of the traffic: every connection
	# must end with an error, the deletion must finish (rdma_cm waits for
	# every identifier on the device to be destroyed), and the module must
	# unload.
	local before t0 t1 pid
	before=$(klog | grep -c 'smbdirect_rs: selftest conn: \(PASS\|FAIL\)')
	echo conn >/sys/module/smbdirect_rs/parameters/run &
	pid=$!
	sleep "$(param conn_delete_after 4)"
	t0=$(now)
	out=$($RDMA link delete "$dev" 2>&1)
	check "conn_link_delete_during_traffic" $? "$out"
	t1=$(now)
	wait $pid
	metric conn_link_delete_s "$(elapsed "$t0" "$t1")" s
	line=$(klog | grep 'smbdirect_rs: selftest conn: \(PASS\|FAIL\)' | tail -n +$((before + 1)) | tail -n 1)
	echo "$line"
	echo "$line" | grep -q ': FAIL .*Error('
	check "conn_device_removal_ends_connections" $? "$line"
	out=$($RMMOD smbdirect_rs 2>&1)
	check "conn_unload" $? "$out"
}

# conn_fault_walk TYPE [active|passive]: fail the 1st, 2nd, ... allocation of selftest
# conn-small (connect, messages both ways, a registration and RDMA, the
# shutdown) in turn, one per run, until a run has none left to fail. Every
# run must end with PASS or a FAIL line naming its error, with no report
# (KASAN, lockdep, WARN ...) and nothing leaked (kmemleak at the end), and a
# clean run must pass afterwards. Workers (the acceptor, completions) are
# not the walked task: their allocations are not failed.
conn_fault_walk() {
	local run=/sys/module/smbdirect_rs/parameters/run line
	fault_setup
	fault_reject_upstream "$1"
	[ "$1" = siw ] && note "fault_filter" "siw_mr_add_mem kept out of the walk (upstream siw PBL leak)"
	fault_walk conn-small conn_ "$(param conn_fault_max 3000)"
	if [ "${2:-}" = passive ]; then
		# The passive side's connect path (accept, its pools, its queue
		# pair) walked too (make soak; make test walks the active side).
		fault_walk conn-small-passive conn_passive_ "$(param conn_fault_max 3000)"
		echo conn-small-passive >$run
		line=$(klog | grep 'smbdirect_rs: selftest conn-small-passive:' | tail -n 1)
		echo "$line" | grep -q ': PASS '
		check "conn_small_passive_passes_after_fault_walk" $? "$line"
	fi
	echo conn-small >$run
	line=$(klog | grep 'smbdirect_rs: selftest conn-small:' | tail -n 1)
	echo "$line" | grep -q ': PASS '
	check "conn_small_passes_after_fault_walk" $? "$line"
	# The same over IPv6.
	echo conn-small6 >$run
	line=$(klog | grep 'smbdirect_rs: selftest conn-small6:' | tail -n 1)
	echo "$line"
	echo "$line" | grep -q ': PASS .*addr=fd00:5eed::1'
	check "conn_ipv6" $? "$line"
}

# dump_tasks: the kernel stack of every task sleeping in the kernel, and the
# SMB Direct state, on the console: what a hang looks like from inside.
dump_tasks() {
	local p
	echo "=== smbdrs task dump ($(now)) ==="
	for p in /proc/[0-9]*; do
		case $(cat $p/stat 2>/dev/null | cut -d' ' -f3) in
		S | D) ;;
		*) continue ;;
		esac
		grep -qE 'cifs|smbd|smbdrs|ksmbd|rdma|ib_|netfs|_rw|iter|fs_' $p/stack 2>/dev/null || continue
		echo "--- ${p#/proc/} $(cat $p/comm 2>/dev/null)"
		cat $p/stack 2>/dev/null
	done
	sed -n '/SMBDirect/,/Number of credits/p' /proc/fs/cifs/DebugData 2>/dev/null
	echo "=== smbdrs task dump end ==="
}

# watchdog SECONDS: dump_tasks once if the calling scenario step is still
# running after SECONDS; prints the watchdog's pid (kill it when done).
watchdog() {
	(sleep "$1" && dump_tasks >/dev/console 2>&1) >/dev/null 2>&1 &
	echo $!
}
