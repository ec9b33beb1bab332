# Faults under verified I/O (issue 12): a mount of the Rust client against
# upstream ksmbd, or against ksmbd with the Rust transport, keeps a writer
# and a reader busy while one fault at a time strikes: allocation
# failures injected into smbdirect_rs only, the link taken down, the
# server's address removed, the RDMA device deleted, ksmbd restarted, a
# forced unmount, an attempt to unload the module. After each, the
# mount must come back by itself and every write that was acknowledged
# (dd's fsync returned) must read back intact; no read may ever return
# wrong bytes. Sourced after lib.sh and interop.sh.

FAULT_KINDS="server alloc dma umount link unload addr device"
FAULT_SRC=/tmp/fault-src
FAULT_STOP=/tmp/fault-stop
FAULT_ACKED=/tmp/fault-acked
FAULT_BAD=/tmp/fault-bad-reads
FAULT_GSI=/tmp/fault-gsi
FAULT_STUCK=/tmp/fault-stuck

# fault_arm TIMES PERCENT: from now on, up to TIMES allocations (slab and
# page, any task or context) whose stack passes through smbdirect_rs fail,
# each with PERCENT probability.
fault_arm() {
	local f
	for f in $FAULT_ATTRS; do
		echo N >/sys/kernel/debug/$f/task-filter
		echo 32 >/sys/kernel/debug/$f/stacktrace-depth
		echo 1 >/sys/kernel/debug/$f/interval
		echo 0 >/sys/kernel/debug/$f/space
		echo "$1" >/sys/kernel/debug/$f/times
		echo "$2" >/sys/kernel/debug/$f/probability
	done
}

# fault_times_left: the armed failures not injected yet, all attributes.
fault_times_left() {
	local f left=0
	for f in $FAULT_ATTRS; do
		left=$((left + $(cat /sys/kernel/debug/$f/times)))
	done
	echo $left
}

# fault_armed_wait SECONDS: until every armed failure was injected, at most
# SECONDS.
fault_armed_wait() {
	local i=0
	while [ $i -lt "$1" ] && [ "$(fault_times_left)" -gt 0 ]; do
		sleep 1
		i=$((i + 1))
	done
}

# fault_disarm TIMES: stops injecting; prints how many of the 2 x TIMES
# armed failures were injected.
fault_disarm() {
	local f left
	for f in $FAULT_ATTRS; do
		echo 0 >/sys/kernel/debug/$f/probability
	done
	left=$(fault_times_left)
	for f in $FAULT_ATTRS; do
		echo 1 >/sys/kernel/debug/$f/times
	done
	echo $((2 * $1 - left))
}

# dma_fault TIMES PERCENT SECONDS: up to TIMES of our module's DMA mappings
# (receive and header buffers, zero-copy sends, registrations) fail, each
# with PERCENT probability, for at most SECONDS; prints how many failed.
dma_fault() {
	local d=/sys/kernel/debug/fail_smbdrs_dma i=0
	[ -d $d ] || {
		echo 0
		return
	}
	echo N >$d/task-filter
	echo 1 >$d/interval
	echo 0 >$d/space
	echo "$1" >$d/times
	echo "$2" >$d/probability
	while [ $i -lt "$3" ] && [ "$(cat $d/times)" -gt 0 ]; do
		sleep 1
		i=$((i + 1))
	done
	echo 0 >$d/probability
	echo $(($1 - $(cat $d/times)))
	echo 1 >$d/times
}

# fault_sources: the files the writer copies, by size: 1 MiB (the RDMA
# channel), 64 KiB (RDMA too) and 3000 bytes (inline in a send).
fault_sources() {
	dd if=/dev/urandom of=$FAULT_SRC.0 bs=1M count=1 2>/dev/null
	dd if=/dev/urandom of=$FAULT_SRC.1 bs=64k count=1 2>/dev/null
	dd if=/dev/urandom of=$FAULT_SRC.2 bs=3000 count=1 2>/dev/null
	dd if=/dev/urandom of=$FAULT_SRC.ref bs=1M count=2 2>/dev/null
}

# fault_io_start: a writer (a new file each time, from a source in turn,
# written and fsynced by dd; its name and source listed in FAULT_ACKED only
# when dd succeeded) and a reader (the 2 MiB reference file read whole
# again and again; a read that succeeded with other bytes is listed in
# FAULT_BAD), both until FAULT_STOP exists. Their pids in FAULT_PIDS.
fault_io_start() {
	rm -f $FAULT_STOP $FAULT_BAD
	: >$FAULT_ACKED
	(
		i=$FAULT_SEQ
		while [ ! -e $FAULT_STOP ]; do
			i=$((i + 1))
			s=$((i % 3))
			dd if=$FAULT_SRC.$s of=$MNT/fault/$i bs=1M conv=fsync 2>/dev/null &&
				echo "$i $s" >>$FAULT_ACKED
		done
	) &
	FAULT_PIDS=$!
	(
		ref=$($SHA256 <$FAULT_SRC.ref | cut -d' ' -f1)
		while [ ! -e $FAULT_STOP ]; do
			if dd if=$MNT/fault/ref of=/tmp/fault-read bs=1M 2>/dev/null; then
				got=$($SHA256 </tmp/fault-read | cut -d' ' -f1)
				[ "$got" = "$ref" ] || echo "read $got, expected $ref" >>$FAULT_BAD
			else
				sleep 1
			fi
		done
		rm -f /tmp/fault-read
	) &
	FAULT_PIDS="$FAULT_PIDS $!"
}

# fault_io_stop SECONDS: tells the writer and reader to stop and waits up to
# SECONDS for them (each may be inside a system call waiting for cifs's
# reconnect); fails if one is still running then.
fault_io_stop() {
	local t0 p alive
	touch $FAULT_STOP
	t0=$(now)
	while :; do
		alive=
		for p in $FAULT_PIDS; do
			kill -0 "$p" 2>/dev/null && alive="$alive $p"
		done
		[ -z "$alive" ] && return 0
		[ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -ge "$1" ] && break
		sleep 1
	done
	dump_tasks >/dev/console 2>&1
	return 1
}

# fault_mount_back SECONDS: waits until the share answers again (a stat
# may itself wait for the reconnect); fails after SECONDS.
fault_mount_back() {
	local t0
	t0=$(now)
	until stat $MNT/fault/ref >/dev/null 2>&1; do
		[ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -ge "$1" ] && return 1
		sleep 1
	done
}

# fault_verify: every acknowledged file read back through the mount and
# compared with its source; prints "ACKED LOST" and lists the lost ones.
fault_verify() {
	local name s want got acked=0 lost=0
	while read -r name s; do
		acked=$((acked + 1))
		want=$($SHA256 <$FAULT_SRC.$s | cut -d' ' -f1)
		got=$(dd if=$MNT/fault/$name bs=1M 2>/dev/null | $SHA256 | cut -d' ' -f1)
		if [ "$got" != "$want" ]; then
			lost=$((lost + 1))
			echo "lost: $name (source $s): read $got" >>/tmp/fault-lost
		fi
	done <$FAULT_ACKED
	echo "$acked $lost"
}

# rxe_gsi_recover TYPE KIND: upstream rxe (6.12) moves its GSI queue pair
# (QP1, which carries the connection manager's messages) to the error state
# when it sends while the port is down, and nothing brings it back: no
# connection can be made on the device again. An administrator adds the
# device again; so does this, after a link or address fault over rxe that
# left QP1 in error (counted in FAULT_GSI, noted by the campaign).
rxe_gsi_recover() {
	local out
	[ "$1" = rxe ] || return 0
	sleep 3
	$RDMA resource show qp 2>/dev/null | grep -q 'type GSI state ERR' || return 0
	echo "$2" >>$FAULT_GSI
	say "rxe0's GSI QP is in error after the $2 fault (upstream rxe): adding the device again" >&2
	out=$($RDMA link delete rxe0 2>&1) || say "rdma link delete: $out" >&2
	out=$($RDMA link add rxe0 type rxe netdev veth0 2>&1) || say "rdma link add: $out" >&2
}

# fault_strike KIND TYPE: one fault of KIND, under the running I/O; prints
# the number of faults injected (allocation failures count one each).
fault_strike() {
	local kind=$1 type=$2 out rc n port=445
	[ "$type" = siw ] && port=5445
	case $kind in
	alloc)
		# A burst into our module's allocations: the data path while
		# it lasts, then the reconnect's connect path.
		n=$(param fault_alloc_times 12)
		fault_arm "$n" "$(param fault_alloc_percent 25)"
		fault_armed_wait "$(param fault_alloc_secs 10)"
		fault_disarm "$n"
		;;
	dma)
		dma_fault "$(param fault_dma_times 8)" "$(param fault_dma_percent 20)" \
			"$(param fault_dma_secs 10)"
		;;
	link)
		$IP link set veth0 down
		sleep 3
		$IP link set veth0 up
		rxe_gsi_recover "$type" link
		echo 1
		;;
	addr)
		$IP addr del $SERVER_IP/24 dev veth0
		sleep 3
		$IP addr add $SERVER_IP/24 dev veth0
		rxe_gsi_recover "$type" addr
		echo 1
		;;
	device)
		out=$($RDMA link delete "${type}0" 2>&1) || say "rdma link delete: $out" >&2
		sleep 2
		out=$($RDMA link add "${type}0" type "$type" netdev veth0 2>&1) ||
			say "rdma link add: $out" >&2
		echo 1
		;;
	server)
		if ! ksmbd_shutdown 90; then
			echo stuck >$FAULT_STUCK
			echo 1
			return
		fi
		sleep 2
		ksmbd_run >&2
		echo 1
		;;
	umount)
		# The user gives up on the share: umount -f aborts what waits
		# on the server (it may say busy: the files are open); the
		# share is unmounted once the I/O ends, and mounted again.
		out=$(umount -f $MNT 2>&1)
		say "umount -f: rc=$? $out" >&2
		echo 1
		;;
	unload)
		out=$($RMMOD smbdirect_rs 2>&1)
		rc=$?
		if [ $rc -eq 0 ] || ! grep -q '^smbdirect_rs ' /proc/modules; then
			echo "smbdirect_rs went while in use: $out" >>/tmp/fault-unloaded
		fi
		echo 1
		;;
	esac
}

# fault_campaign TAG ROLE TYPE ROUNDS [KINDS]: ROUNDS faults, KINDS in turn
# (default FAULT_KINDS; device faults over rxe only unless
# smbdrs.fault_device=1), under verified I/O, for ROLE client (our Rust
# client against upstream ksmbd) or server (ksmbd with our Rust transport,
# mounted by our Rust client, or upstream's C one with
# smbdrs.fault_server_peer=c) over TYPE. Checks and metrics TAG...
fault_campaign() {
	local tag=$1 role=$2 type=$3 rounds=$4 kinds=${5:-$FAULT_KINDS} opts
	local r k n range t0 acked lost line injected=0 total_acked=0 total_lost=0
	local hung=0 unrecovered=0 bad=0 per_kind= dog out netfault= skipped=0 peer=
	local dma_rounds=0 dma_failed=0
	cell_setup "$type"
	case $role in
	client)
		ksmbd_start || exit 1
		load smbdirect_rs || exit 1
		opts=",rdma,rdma_impl=rust"
		;;
	server)
		# The peer: our Rust client (smbdrs.fault_server_peer=c for
		# upstream's, whose reconnect hangs when a send of its waits
		# for credits as the server goes: Documentation/faults.md).
		rs_server_start "$type"
		peer=$(param fault_server_peer rust)
		opts=",rdma,rdma_impl=$peer"
		;;
	esac
	if [ "$type" != rxe ] && [ "$(param fault_device 0)" != 1 ]; then
		# Deleting siw0 under a C client that reconnects to it can
		# leave an rdma_cm id behind in upstream cifs: rxe only.
		kinds=$(echo "$kinds" | sed 's/device//')
	fi
	if [ "$role" = server ] && [ "$peer" = c ] && [ "$type" = rxe ] &&
		[ "$(param fault_rxe_server_alloc 0)" != 1 ]; then
		# Over rxe an injected failure can hit the connection manager's
		# message for our disconnection (ib_create_send_mad under
		# rdma_disconnect); ib_cm then gives the DREQ up, and upstream's
		# C client, which learns of the end only from its retries, never
		# reconnects (Documentation/faults.md). iWARP (siw) has no such
		# message: the server role's allocation faults run there.
		kinds=$(echo "$kinds" | sed 's/alloc//')
		note "${tag}alloc_over_siw_only" "no allocation faults against the C client over rxe (its hang on a lost DREQ)"
	fi
	fault_setup
	range=$(module_text_range smbdirect_rs)
	require "${tag}module_text_found" $? "smbdirect_rs text $range"
	fault_filter require $range
	fault_reject_upstream "$type"
	fault_sources
	out=$(cifs_mount "$opts" 2>&1)
	require "${tag}mounted" $? "$out"
	# In a directory of the share: once it is unmounted (umount -f), a
	# write finds no directory instead of landing on the local /mnt.
	mkdir -p $MNT/fault && dd if=$FAULT_SRC.ref of=$MNT/fault/ref bs=1M conv=fsync 2>/dev/null
	require "${tag}reference_written" $? "2 MiB reference file"
	rm -f /tmp/fault-lost /tmp/fault-unloaded $FAULT_GSI $FAULT_STUCK
	FAULT_SEQ=0
	set -- $kinds
	for r in $(seq 1 "$rounds"); do
		k=$(eval echo "\${$(((r - 1) % $# + 1))}")
		# Upstream ksmbd (6.12) cannot stop once a link, address or
		# device fault left one of its connections waiting in
		# smb_direct_read for a disconnection the connection manager
		# never reports: ksmbd.control -s waits for it forever
		# (Documentation/faults.md). Against upstream's server, only
		# the first restart, before any such fault, is made.
		if [ "$role" = client ] && [ "$k" = server ] && [ -n "$netfault" ]; then
			k=alloc
			skipped=$((skipped + 1))
		fi
		case $k in link | addr | device) netfault=1 ;; esac
		say "fault round $r: $k"
		dog=$(watchdog 300)
		fault_io_start
		sleep 3
		t0=$(now)
		n=$(fault_strike "$k" "$type")
		if [ -s $FAULT_STUCK ]; then
			kill "$dog" 2>/dev/null
			touch $FAULT_STOP
			say "fault round $r ($k): ksmbd did not stop within 90 s; the campaign ends"
			break
		fi
		injected=$((injected + ${n:-0}))
		per_kind="$per_kind $k:${n:-0}"
		if [ "$k" = dma ]; then
			dma_rounds=$((dma_rounds + 1))
			dma_failed=$((dma_failed + ${n:-0}))
		fi
		sleep 2
		fault_io_stop 180 || {
			hung=$((hung + 1))
			say "fault round $r ($k): I/O still blocked after 180 s"
		}
		if [ "$k" = umount ]; then
			grep -q " $MNT " /proc/mounts && { umount $MNT 2>/dev/null || umount -l $MNT; }
			out=$(cifs_mount "$opts" 2>&1) || say "mount after umount -f: $out"
		fi
		if ! fault_mount_back 150; then
			unrecovered=$((unrecovered + 1))
			say "fault round $r ($k): the share did not answer within 150 s"
		fi
		line=$(fault_verify)
		acked=${line% *}
		lost=${line#* }
		total_acked=$((total_acked + acked))
		total_lost=$((total_lost + lost))
		[ -s $FAULT_BAD ] && bad=$((bad + $(wc -l <$FAULT_BAD)))
		metric "${tag}round${r}_${k}_recovery_s" "$(elapsed "$t0" "$(now)")" s
		say "fault round $r ($k): injected ${n:-0}, acknowledged writes $acked, lost $lost"
		FAULT_SEQ=$((FAULT_SEQ + 1000))
		rm -f $MNT/fault/[0-9]*
		kill "$dog" 2>/dev/null
	done
	metric "${tag}fault_rounds" "$rounds"
	metric "${tag}faults_injected" "$injected"
	metric "${tag}acknowledged_writes_verified" "$total_acked"
	note "${tag}faults_per_round" "$per_kind"
	[ -s $FAULT_GSI ] && note "${tag}rxe_gsi_qp_lost" \
		"upstream rxe left QP1 in error after $(wc -l <$FAULT_GSI) fault(s): $(sort $FAULT_GSI | uniq -c | tr '\n' ' ')(device added again)"
	[ "$skipped" -gt 0 ] && note "${tag}server_restarts_replaced" \
		"$skipped restarts of upstream ksmbd after a network fault made allocation faults instead (upstream ksmbd cannot stop then)"
	if [ -s $FAULT_STUCK ]; then
		check "${tag}ksmbd_stopped_within_90s" 1 "ksmbd.control -s blocked (tasks on the console)"
	else
		check "${tag}ksmbd_stopped_within_90s" 0 "every ksmbd.control -s returned"
	fi
	[ "$injected" -ge "$rounds" ]
	check "${tag}faults_were_injected" $? "$injected faults in $rounds rounds:$per_kind"
	if [ "$dma_rounds" -gt 0 ]; then
		[ "$dma_failed" -gt 0 ]
		check "${tag}dma_mappings_failed" $? "$dma_failed DMA mappings failed in $dma_rounds rounds (debugfs fail_smbdrs_dma)"
	fi
	[ "$total_acked" -gt 0 ]
	check "${tag}writes_acknowledged_under_faults" $? "$total_acked acknowledged writes"
	[ "$total_lost" -eq 0 ] && [ ! -s /tmp/fault-lost ]
	check "${tag}no_acknowledged_write_lost" $? "$total_lost of $total_acked lost
$(head -n 5 /tmp/fault-lost 2>/dev/null)"
	[ "$bad" -eq 0 ]
	check "${tag}no_read_returned_wrong_bytes" $? "$bad reads returned other bytes"
	[ ! -s /tmp/fault-unloaded ]
	check "${tag}unload_refused_under_io" $? "$(cat /tmp/fault-unloaded 2>/dev/null)"
	[ "$hung" -eq 0 ]
	check "${tag}io_ended_within_bound" $? "$hung rounds left I/O blocked past 180 s"
	[ "$unrecovered" -eq 0 ]
	check "${tag}share_came_back_every_round" $? "$unrecovered rounds without recovery in 150 s"
	# A server that cannot stop cannot serve again: nothing after this
	# could pass (the part ends; the run reports the blocked tasks).
	[ -s $FAULT_STUCK ] && exit 1
	# After the campaign, the mount is what it was: the same transport,
	# and a verified round trip through it.
	grep " $MNT " /proc/mounts | grep -q "$opts"
	check "${tag}still_rdma_${role}" $? "$(grep " $MNT " /proc/mounts)"
	checksum_roundtrip "${tag}after_faults_" 4
	rm -rf $MNT/fault $FAULT_SRC.* $FAULT_ACKED $FAULT_BAD $FAULT_GSI $FAULT_STUCK /tmp/fault-lost /tmp/fault-unloaded
	fault_reset
	umount $MNT
	check "${tag}umount" $? ""
	case $role in
	client) unload_within 15 "${tag}unload_after_umount" smbdirect_rs ;;
	server) rs_server_stop ;;
	esac
	cell_teardown "$type"
}
