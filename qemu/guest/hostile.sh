# Hostile peers (issue 12): tools/smbd-hostile breaks one rule of
# [MS-SMBD] per connection, as a client against ksmbd (our Rust transport
# asserted, upstream's C one recorded) and as a server that cifs mounts
# against (our Rust client asserted, the C one recorded). Sourced after
# lib.sh and interop.sh. The catalogue, with what each case sends and what
# a conforming peer must do, is in Documentation/hostile.md and in
# `smbd-hostile client|server --list`.

HOSTILE=/usr/bin/smbd-hostile
TIMEOUT=/usr/bin/timeout

# smbd_port TYPE: the SMB Direct port of the device type.
smbd_port() {
	[ "$1" = siw ] && echo 5445 || echo 445
}

# rs_server_says NAME: what our server's kernel log must say for client
# case NAME (grep -E on the smbdirect-rs lines), empty for a case our side
# tolerates. The engine's DecodeError/ProtocolError names, which the
# transport prints ("message from the peer refused: ...", "connection
# ends: ...").
rs_server_says() {
	case $1 in
	neg_version_wide | neg_ok | neg_long | neg_credits_65535 | neg_preferred_send_0) ;;
	neg_version_* | dt_before_negotiate) echo 'UnsupportedVersion' ;;
	neg_short | neg_empty | dt_short | dt_empty_send) echo 'Truncated' ;;
	neg_credits_0 | dt_credits_requested_0) echo 'ZeroCreditsRequested' ;;
	neg_max_receive_127) echo 'MaxReceiveSizeTooSmall' ;;
	neg_max_fragmented_131071) echo 'MaxFragmentedSizeTooSmall' ;;
	dt_second_negotiate) echo 'DataOutOfBounds|MisalignedDataOffset' ;;
	dt_offset_beyond) echo 'DataOutOfBounds' ;;
	dt_offset_overflow) echo 'DataOffsetOverflow' ;;
	dt_offset_misaligned) echo 'MisalignedDataOffset' ;;
	dt_offset_in_header) echo 'DataOffsetInHeader' ;;
	dt_remaining_without_data) echo 'RemainingWithoutData' ;;
	dt_remaining_grows | dt_remaining_shrinks) echo 'FragmentMismatch' ;;
	dt_too_long_negotiated) echo 'TooLong' ;;
	dt_too_long_buffer) echo 'TooLong|TransportFailure|LOC_LEN|length' ;;
	dt_total_too_large | dt_remaining_overflow) echo 'FragmentTooLarge' ;;
	credits_exceeded) echo 'NoReceiveCredit' ;;
	credits_overflow) echo 'CreditOverflow' ;;
	# wait_negotiated's timeout or the engine's negotiate timer, whichever
	# fires first (both 120 s).
	silence) echo 'negotiation timed out|NegotiateTimeout' ;;
	esac
}

# rs_client_says NAME: the same for our client and server case NAME.
rs_client_says() {
	case $1 in
	neg_status_failure) echo 'NegotiateRefused|NegotiateFailed' ;;
	neg_version_bad) echo 'UnsupportedVersion' ;;
	neg_credits_granted_0) echo 'ZeroCreditsGranted' ;;
	neg_credits_requested_0 | dt_credits_requested_0) echo 'ZeroCreditsRequested' ;;
	neg_max_receive_127) echo 'MaxReceiveSizeTooSmall' ;;
	neg_max_fragmented_131071) echo 'MaxFragmentedSizeTooSmall' ;;
	neg_preferred_send_huge) echo 'PreferredSendSizeTooLarge' ;;
	neg_short | neg_empty | dt_short) echo 'Truncated' ;;
	neg_silence) echo 'negotiation timed out' ;;
	dt_offset_beyond) echo 'DataOutOfBounds' ;;
	dt_offset_overflow) echo 'DataOffsetOverflow' ;;
	dt_offset_misaligned) echo 'MisalignedDataOffset' ;;
	dt_remaining_grows) echo 'FragmentMismatch' ;;
	dt_too_long_negotiated) echo 'TooLong' ;;
	dt_too_long_buffer) echo 'TooLong|TransportFailure|LOC_LEN|length' ;;
	dt_total_too_large) echo 'FragmentTooLarge' ;;
	dt_remaining_without_data) echo 'RemainingWithoutData' ;;
	esac
}

# field LINE KEY: KEY=value out of a verdict line.
field() { echo "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

# outcome_ok OUTCOME EXPECT: the outcome (refused(...) counts as refused)
# is one of EXPECT's |-separated words.
outcome_ok() {
	local o=${1%%(*} e
	for e in $(echo "$2" | tr '|' ' '); do
		[ "$o" = "$e" ] && return 0
	done
	return 1
}

# rs_lines: the number of smbdirect-rs lines in klog so far.
rs_lines() { klog | grep -c 'smbdirect-rs'; }

# rs_new_lines BEFORE: the smbdirect-rs lines since.
rs_new_lines() { klog | grep 'smbdirect-rs' | tail -n +$(($1 + 1)); }

# said_since BEFORE SECS PATTERN: waits up to SECS for PATTERN among the
# smbdirect-rs lines after the first BEFORE.
said_since() {
	local i
	for i in $(seq 0 "$2"); do
		rs_new_lines "$1" | grep -qE "$3" && return 0
		[ "$i" -lt "$2" ] && sleep 1
	done
	return 1
}

# conns_left DEV: rdma_cm ids on DEV other than listeners.
conns_left() {
	$RDMA resource show cm_id 2>/dev/null | grep "link $1/" | grep -v LISTEN
}

# hostile_only: the case names on stdin, only those in $HOSTILE_ONLY if
# it is set (make test's short version runs a few of each kind; make soak
# all of them, with the silent client and 20 random connections).
hostile_only() {
	local name
	while read -r name; do
		if [ -z "${HOSTILE_ONLY:-}" ] ||
			echo " $HOSTILE_ONLY " | tr '\n\t' '  ' | grep -q " $name "; then
			echo "$name"
		fi
	done
}

# hostile_clients TAG TYPE ASSERT: every client case of the catalogue
# against the server running on $SERVER_IP, each on a fresh connection.
# ASSERT=1 (our Rust server): each verdict must be the case's expectation
# and the kernel log must name the rule; else the verdicts are recorded.
# The opt-in silence case (the server's 120 s negotiate timeout) runs in
# the background meanwhile, so it costs nothing, and is judged last.
hostile_clients() {
	local tag=$1 type=$2 assert=$3 port name line out expect before said
	local bad=0 n=0 spid= rc
	port=$(smbd_port "$type")
	if [ "${HOSTILE_SILENCE:-1}" = 1 ]; then
		$HOSTILE client --server $SERVER_IP --port "$port" --case silence \
			>/tmp/hostile-silence.out 2>&1 &
		spid=$!
	fi
	for name in $($HOSTILE client --list | grep -v opt-in | cut -d' ' -f1 | hostile_only); do
		before=$(rs_lines)
		line=$($HOSTILE client --server $SERVER_IP --port "$port" --case "$name" 2>&1)
		rc=$?
		echo "$line"
		n=$((n + 1))
		line=$(echo "$line" | grep "^case $name:")
		out=$(field "$line" outcome)
		expect=$(field "$line" expect)
		if [ $rc -ne 0 ] || [ -z "$line" ]; then
			check "${tag}${name}_ran" 1 "rc=$rc $line"
			continue
		fi
		if [ "$assert" = 1 ]; then
			outcome_ok "$out" "$expect"
			check "${tag}${name}" $? "$line"
			said=$(rs_server_says "$name")
			if [ -n "$said" ]; then
				said_since "$before" 3 "$said"
				check "${tag}${name}_logged" $? \
					"want /$said/ in: $(rs_new_lines "$before" | tail -n 4)"
			fi
		else
			outcome_ok "$out" "$expect" || bad=$((bad + 1))
			note "${tag}${name}" "$line"
		fi
		# Our transport prints at most 10 lines in 5 s (one limit for
		# the module): keep each case's lines apart.
		sleep 1
	done
	metric "${tag}client_cases" "$n"
	[ "$assert" = 1 ] || metric "${tag}client_cases_unexpected" "$bad"

	# The silent client: waits for the server's negotiate timeout.
	if [ -n "$spid" ]; then
		wait $spid
		line=$(grep '^case silence:' /tmp/hostile-silence.out)
		echo "$line"
		if [ "$assert" = 1 ]; then
			outcome_ok "$(field "$line" outcome)" disconnected
			check "${tag}silence" $? "$line"
			out=$(klog | grep 'smbdirect-rs' | grep -E "$(rs_server_says silence)")
			[ -n "$out" ]
			check "${tag}silence_logged" $? "$out"
		else
			note "${tag}silence" "$line"
		fi
	fi

	# Random mutations of good messages, seeded (the seed is printed),
	# after the silence: its line must not fall in their burst of lines
	# (our transport prints at most 10 in 5 s).
	out=$($HOSTILE client --server $SERVER_IP --port "$port" \
		--random "${HOSTILE_RANDOM:-$(param hostile_random 20)}" --seed "$(param hostile_seed 12)" 2>&1)
	rc=$?
	echo "$out"
	note "${tag}random" "$(echo "$out" | head -n 1); $(echo "$out" | grep -c 'outcome=disconnected') disconnected, $(echo "$out" | grep -c 'outcome=still-connected') kept"
	[ "$assert" = 1 ] && check "${tag}random_ran" $rc "$(echo "$out" | head -n 1)"
	return 0
}

# hostile_server_side TAG TYPE IMPL: ksmbd with IMPL's transport (rust|c),
# every client case against it, then an honest mount with verified I/O.
# Only the Rust server is asserted.
hostile_server_side() {
	local tag=$1 type=$2 impl=$3 dev=${2}0 out assert=0 left rc i
	cell_setup "$type"
	if [ "$impl" = rust ]; then
		assert=1
		rs_server_start "$type"
	else
		KSMBD_RDMA_IMPL=c ksmbd_start || exit 1
	fi
	hostile_clients "$tag" "$type" $assert
	# Every hostile connection torn down on the server's side.
	for i in $(seq 1 15); do
		left=$(conns_left "$dev") || break
		sleep 1
	done
	if [ "$assert" = 1 ]; then
		[ -z "$left" ]
		check "${tag}no_connection_left" $? "$left"
	fi
	# The server still serves: an honest mount (upstream's C client),
	# verified I/O.
	out=$(cifs_mount ",rdma,rdma_impl=c" 2>&1)
	rc=$?
	if [ "$assert" = 1 ]; then
		require "${tag}honest_mount" $rc "$out
$(klog | grep -iE 'cifs|smbd|ksmbd|smbdirect' | tail -n 10)"
		fio_roundtrip "${tag}honest_" "$(param hostile_fio_mib 8)"
		umount $MNT
		rs_server_stop
	else
		note "${tag}honest_mount" "rc=$rc $out"
		if [ $rc -eq 0 ]; then
			fio_run "${tag}honest" write $MNT/fio.bin 8M >/dev/null
			note "${tag}honest_io" "fio write+verify rc=$?"
		fi
		# Never leave a mount behind: cifs would reconnect to the
		# next part's peer.
		grep -q " $MNT " /proc/mounts && umount $MNT
		ksmbd_stop
	fi
	cell_teardown "$type"
}

# hostile_server_case TAG TYPE IMPL NAME: smbd-hostile as the server for
# case NAME, cifs (rdma_impl=IMPL) mounting it. Sets LINE (the verdict),
# MOUNT_RC and MOUNT_S.
hostile_server_case() {
	local tag=$1 type=$2 impl=$3 name=$4 port hpid t0 i
	port=$(smbd_port "$type")
	rm -f /tmp/hostile-srv.out /tmp/hostile-srv.err
	$HOSTILE server --listen $SERVER_IP --port "$port" --case "$name" --timeout 45 \
		>/tmp/hostile-srv.out 2>/tmp/hostile-srv.err &
	hpid=$!
	for i in 1 2 3 4 5 6 7 8 9 10; do
		grep -q listening /tmp/hostile-srv.err && break
		sleep 0.5
	done
	t0=$(now)
	$TIMEOUT 60 $MOUNT_CIFS //$SERVER_IP/share $MNT \
		-o "vers=3.1.1,username=$SMB_USER,password=$SMB_PASS,cache=none,rdma,rdma_impl=$impl" \
		>/tmp/hostile-mount.out 2>&1
	MOUNT_RC=$?
	MOUNT_S=$(elapsed "$t0" "$(now)")
	grep -q " $MNT " /proc/mounts && umount $MNT
	# The server ends by itself (its own timeout and holds, < 80 s).
	for i in $(seq 1 80); do
		kill -0 $hpid 2>/dev/null || break
		sleep 1
	done
	kill $hpid 2>/dev/null
	wait $hpid
	cat /tmp/hostile-srv.err >&2
	LINE=$(grep "^case $name:" /tmp/hostile-srv.out)
}

# The server cases that make upstream's C client's negotiate fail (a
# response it refuses, or none until mount.cifs is killed): its error
# path can crash the guest.
C_CLIENT_CRASHERS=neg_version_bad,neg_credits_granted_0,neg_credits_requested_0,neg_max_receive_127,neg_max_fragmented_131071,neg_preferred_send_huge,neg_short,neg_empty,neg_silence

# hostile_client_side TAG TYPE IMPL: every server case against cifs with
# IMPL's transport (rust: asserted; c: recorded). Each mount must fail
# within 60 s, the client's verdict must be the expected one and, for our
# client, the kernel log must name the rule. Then a real mount against
# ksmbd works and the module unloads.
hostile_client_side() {
	local tag=$1 type=$2 impl=$3 name line out expect before said assert=0 bad=0 n=0 rc
	[ "$impl" = rust ] && assert=1
	cell_setup "$type"
	grep -q " $MNT " /proc/mounts && umount -l $MNT
	[ "$impl" = rust ] && { load smbdirect_rs || exit 1; }
	for name in $($HOSTILE server --list | cut -d' ' -f1 | hostile_only); do
		# Upstream's C client, on a negotiate response it refuses,
		# leaks its receive buffers and may then use its freed
		# workqueue (KASAN) and hang (Documentation/hostile.md): those
		# cases are skipped unless asked for (--set hostile_c_skip=).
		if [ "$impl" = c ] && echo " $(param hostile_c_skip "$C_CLIENT_CRASHERS") " |
			tr ',' ' ' | grep -q " $name "; then
			note "${tag}${name}" "skipped (upstream use-after-free, hang)"
			continue
		fi
		before=$(rs_lines)
		hostile_server_case "$tag" "$type" "$impl" "$name"
		line=$LINE
		echo "$line mount_rc=$MOUNT_RC mount_s=$MOUNT_S"
		n=$((n + 1))
		out=$(field "$line" outcome)
		expect=$(field "$line" expect)
		if [ "$assert" = 1 ]; then
			[ -n "$line" ] && [ "$MOUNT_RC" -ne 0 ] &&
				[ "$(echo "$MOUNT_S" | cut -d. -f1)" -lt 60 ]
			check "${tag}${name}_mount_fails" $? \
				"mount rc=$MOUNT_RC after ${MOUNT_S}s: $(tail -n 2 /tmp/hostile-mount.out)"
			outcome_ok "$out" "$expect"
			check "${tag}${name}" $? "$line"
			case $line in *client_exceeded_credits*)
				check "${tag}${name}_within_credits" 1 "$line" ;;
			esac
			said=$(rs_client_says "$name")
			if [ -n "$said" ]; then
				said_since "$before" 3 "$said"
				check "${tag}${name}_logged" $? \
					"want /$said/ in: $(rs_new_lines "$before" | tail -n 4)"
			fi
		else
			outcome_ok "$out" "$expect" || bad=$((bad + 1))
			note "${tag}${name}" "$line mount_rc=$MOUNT_RC mount_s=$MOUNT_S"
		fi
		sleep 1
	done
	metric "${tag}server_cases" "$n"
	[ "$assert" = 1 ] || metric "${tag}server_cases_unexpected" "$bad"
	# A real server afterwards: the client still mounts and moves data.
	ksmbd_start || exit 1
	out=$(cifs_mount ",rdma,rdma_impl=$impl" 2>&1)
	rc=$?
	if [ "$assert" = 1 ]; then
		require "${tag}real_mount" $rc "$out
$(klog | grep -iE 'cifs|smbd|ksmbd|smbdirect' | tail -n 10)"
		fio_roundtrip "${tag}real_" "$(param hostile_fio_mib 8)"
		umount $MNT
		ksmbd_stop
		unload_within 15 "${tag}unload" smbdirect_rs
	else
		note "${tag}real_mount" "rc=$rc $out"
		grep -q " $MNT " /proc/mounts && umount $MNT
		ksmbd_stop
	fi
	cell_teardown "$type"
}
