# The benchmark behind `make bench`: in one boot, every SMB Direct client x
# server pair (c-c, rs-c, c-rs, rs-rs: client first) over rxe and over siw,
# SMB over TCP on the same veth (C client, C server), and the raw device
# (qperf), in interleaved rounds whose order rotates. Sourced after lib.sh
# and interop.sh.
#
# Each measurement is one JSON line on the results port:
#   {"event":"bench","round":R,"device":D,"row":ROW,"job":JOB,"MBps":X,
#    "iops":X,"lat_p50_us":X,"lat_p99_us":X,"cpu_s":X,"bytes":N}
# tools/bench-report.py turns them into the table, JSON and plots. CPU is
# the guest's system + irq + softirq time over the job (/proc/stat), both
# ends together, as client and server share the guest.

BENCH_ROWS="c-c rs-c c-rs rs-rs tcp"

# bench_emit ROUND DEV ROW JOB MBPS IOPS P50 P99 CPU BYTES
bench_emit() {
	emit "{\"event\":\"bench\",\"round\":$1,\"device\":\"$2\",\"row\":\"$3\",\"job\":\"$4\",\"MBps\":${5:-null},\"iops\":${6:-null},\"lat_p50_us\":${7:-null},\"lat_p99_us\":${8:-null},\"cpu_s\":${9:-null},\"bytes\":${10:-0}}"
	say "bench r$1 $2 $3 $4: ${5:-?} MB/s ${6:-?} IOPS p50 ${7:-?} us p99 ${8:-?} us cpu ${9:-?} s"
}

# cpu_ticks: system + irq + softirq ticks of all CPUs (USER_HZ).
cpu_ticks() { awk '$1 == "cpu" { print $4 + $7 + $8; exit }' /proc/stat; }

# rotate N WORDS...: the words, starting at the (N mod count)-th.
rotate() {
	local n=$1 i=0 count out= w
	shift
	count=$#
	n=$((n % count))
	for w in "$@"; do
		[ $i -ge $n ] && out="$out $w"
		i=$((i + 1))
	done
	i=0
	for w in "$@"; do
		[ $i -lt $n ] && out="$out $w"
		i=$((i + 1))
	done
	echo $out
}

# bench_fio ROUND DEV ROW JOB RW BS QD: one timed fio job on $MNT/bench.bin
# (no verification in it), its figures emitted. Sequential jobs move
# smbdrs.bench_mib MiB; random ones run smbdrs.bench_secs seconds.
bench_fio() {
	local round=$1 dev=$2 row=$3 job=$4 rw=$5 bs=$6 qd=$7 size amount out c0 c1 line
	size=${BENCH_MIB}M
	case $rw in
	rand*) amount="--size=$size --time_based --runtime=$BENCH_SECS" ;;
	*) amount="--size=$size" ;;
	esac
	c0=$(cpu_ticks)
	out=$($FIO --name="$job" --filename=$MNT/bench.bin --rw="$rw" --bs="$bs" $amount \
		--direct=1 --invalidate=0 --ioengine=libaio --iodepth="$qd" --numjobs=1 \
		--clat_percentiles=0 --lat_percentiles=1 \
		--thread --output-format=terse --terse-version=3 2>&1)
	local rc=$?
	c1=$(cpu_ticks)
	if [ $rc -ne 0 ]; then
		check "bench_${dev}_${row}_${job}" 1 "$(echo "$out" | tail -n 5)"
		return 1
	fi
	# terse v3: reads from field 6 (KiB, KiB/s, IOPS, ..., percentiles
	# "P%=usec" from 18), writes from field 47 (from 59). The percentiles
	# are of the whole latency, submission included (lat_percentiles):
	# cifs does much of a read's work inside io_submit, the C client all
	# of its send, so completion latency alone would flatter it.
	line=$(echo "$out" | awk -F';' -v rw="$rw" -v cpu=$((c1 - c0)) '$1 == "3" {
		w = (rw ~ /write/); b = w ? 47 : 6; p = w ? 59 : 18
		p50 = "null"; p99 = "null"
		for (i = p; i < p + 20; i++) {
			split($i, kv, "=")
			if (kv[1] == "50.000000%") p50 = kv[2]
			if (kv[1] == "99.000000%") p99 = kv[2]
		}
		printf "%.2f %.0f %s %s %.2f %.0f", $(b + 1) * 1024 / 1e6, $(b + 2), p50, p99, cpu / 100, $b * 1024
	}')
	# shellcheck disable=SC2086
	bench_emit "$round" "$dev" "$row" "$job" $line
}

# bench_row ROUND DEV ROW: mount for ROW (the server already running with
# the right implementation), the timed jobs, then a verified pass apart.
bench_row() {
	local round=$1 dev=$2 row=$3 opts out sum back
	case $row in
	tcp) opts="" ;;
	c-*) opts=",rdma,rdma_impl=c" ;;
	rs-*) opts=",rdma,rdma_impl=rust" ;;
	esac
	out=$(cifs_mount "$opts" 2>&1) || {
		check "bench_${dev}_${row}_mount" 1 "$out"
		return 1
	}
	# The row is what it says: SMB Direct through the client it names
	# (the server's is checked when it starts), or TCP.
	case $row in
	tcp) ! grep " $MNT " /proc/mounts | grep -q ',rdma' ;;
	*)
		grep " $MNT " /proc/mounts | grep -q ',rdma' &&
			grep -q "SMBDirect implementation: $(bench_impl "${row%-*}")" /proc/fs/cifs/DebugData
		;;
	esac
	check "bench_${dev}_${row}_r${round}_transport" $? \
		"$(grep " $MNT " /proc/mounts; grep 'SMBDirect implementation' /proc/fs/cifs/DebugData)"
	bench_fio "$round" "$dev" "$row" seq-write-qd1 write 1M 1
	bench_fio "$round" "$dev" "$row" seq-write-qd8 write 1M 8
	bench_fio "$round" "$dev" "$row" seq-read-qd1 read 1M 1
	bench_fio "$round" "$dev" "$row" seq-read-qd8 read 1M 8
	bench_fio "$round" "$dev" "$row" rand-read-4k-qd1 randread 4k 1
	bench_fio "$round" "$dev" "$row" rand-write-4k-qd1 randwrite 4k 1
	bench_fio "$round" "$dev" "$row" rand-read-4k-qd16 randread 4k 16
	bench_fio "$round" "$dev" "$row" rand-write-4k-qd16 randwrite 4k 16
	rm -f $MNT/bench.bin
	# Correctness apart from the timing: written with sha256 headers,
	# read back and verified, through the same mount.
	out=$(fio_run "bench_verify" write $MNT/verify.bin "${BENCH_VERIFY_MIB}M" 2>&1)
	check "bench_${dev}_${row}_r${round}_verified" $? "$(echo "$out" | tail -n 3)"
	rm -f $MNT/verify.bin
	umount $MNT
}

# bench_impl SIDE: "rust" for rs, "c" for c.
bench_impl() {
	case $1 in
	rs) echo rust ;;
	*) echo c ;;
	esac
}

# bench_server IMPL: ksmbd (re)started with SMB Direct transport IMPL; a
# Rust one must say it serves.
bench_server() {
	local before i n
	[ "$BENCH_SERVER" = "$1" ] && return 0
	[ -n "$BENCH_SERVER" ] && ksmbd_stop
	before=$(klog | grep -c 'serving with the Rust transport')
	KSMBD_RDMA_IMPL=$1 ksmbd_start || return 1
	if [ "$1" = rust ]; then
		for i in $(seq 1 10); do
			n=$(klog | grep -c 'serving with the Rust transport')
			[ "$n" -gt "$before" ] && break
			sleep 1
		done
		[ "$n" -gt "$before" ]
		check "bench_server_rust_serving" $? "$(klog | grep -iE 'smb_direct' | tail -n 2)"
	fi
	BENCH_SERVER=$1
}

# qperf_figure OUT: qperf's "bw = X MB/sec" in MB/s or "latency = X us"
# in us, whichever OUT has.
qperf_figure() {
	echo "$1" | awk '$1 == "bw" { v = $3; u = $4
		if (u ~ /^GB/) v *= 1000; else if (u ~ /^KB/) v /= 1000
		printf "%.1f", v }
		$1 == "latency" { v = $3; if ($4 ~ /^ms/) v *= 1000
		else if ($4 ~ /^ns/) v /= 1000; printf "%.1f", v }'
}

# best MODE V...: the largest (MODE max) or smallest (min) of the figures
# that are numbers (perftest prints "inf" when its clock misleads it).
best() {
	local mode=$1
	shift
	echo "$@" | awk -v m="$mode" '{ for (i = 1; i <= NF; i++) {
		if ($i !~ /^[0-9]+(\.[0-9]+)?$/) continue
		if (b == "" || (m == "max" && $i + 0 > b + 0) || (m == "min" && $i + 0 < b + 0)) b = $i }
		if (b != "") print b }'
}

# raw_bw ROUND DEV JOB PERFTEST QPERF: the better of the two tools' MB/s
# for JOB, emitted and checked.
raw_bw() {
	local v
	v=$(best max $4 $5)
	say "bench raw $2 $3: perftest ${4:-none} qperf ${5:-none} MB/s"
	bench_emit "$1" "$2" raw "$3" "${v:-}" "" "" "" "" 0
	[ -n "$v" ]
	check "bench_${2}_raw_${3}_r${1}" $? "perftest ${4:-none} qperf ${5:-none}"
}

# bench_raw ROUND DEV: the raw device's ceiling, the best of two tools:
# perftest busy-polls its completion queue, which on 2 vCPUs starves rxe
# (its packets are processed by work items the poller keeps from running:
# ib_write_lat reads one scheduler tick), qperf sleeps on completion
# events but cannot create its queue pair on siw (EINVAL). So: RDMA write
# and read bandwidth (1 MiB) as the best of perftest (ib_read_bw with
# events, -e; ib_write_bw cannot) and qperf, latency (64 bytes) as the best
# of qperf's RDMA write latency and perftest's send latency with events;
# and qperf's TCP bandwidth and latency on the same veth. Every tool's
# figure is in the log.
bench_raw() {
	local round=$1 type=$2 dev=${2}0 out v p q qpid n lat t spid
	n=$((BENCH_SECS * 40))
	# Each tool gets a bound: perftest's send latency test crashes in
	# librdmacm over rxe with events, and its partner would wait forever.
	t=$((BENCH_SECS * 4 + 30))
	/usr/bin/qperf >/tmp/qperf.server 2>&1 &
	qpid=$!
	sleep 1
	raw_bw "$round" "$type" rdma_write_bw "$(perftest_bw ib_write_bw "$dev" 1048576 "$n")" \
		"$(qperf_figure "$(timeout $t /usr/bin/qperf -cm1 -m 1M -t "$BENCH_SECS" \
			$SERVER_IP rc_rdma_write_bw 2>&1)")"
	raw_bw "$round" "$type" rdma_read_bw "$(perftest_bw ib_read_bw "$dev" 1048576 "$n" -e)" \
		"$(qperf_figure "$(timeout $t /usr/bin/qperf -cm1 -m 1M -t "$BENCH_SECS" \
			$SERVER_IP rc_rdma_read_bw 2>&1)")"
	timeout $t /usr/bin/ib_send_lat -d "$dev" -R -F -e -s 64 -n $((n * 25)) \
		>/tmp/ib_send_lat.server 2>&1 &
	spid=$!
	sleep 2
	out=$(timeout $t /usr/bin/ib_send_lat -d "$dev" -R -F -e -s 64 -n $((n * 25)) $SERVER_IP 2>&1)
	wait $spid
	# #bytes #iterations t_min t_max t_typical t_avg t_stdev 99% 99.9%
	p=$(echo "$out" | awk '$1 == 64 && NF >= 8 { print $5 }' | tail -n 1)
	q=$(qperf_figure "$(timeout $t /usr/bin/qperf -cm1 -t "$BENCH_SECS" $SERVER_IP rc_rdma_write_lat 2>&1)")
	lat=$(best min $p $q)
	say "bench raw $type rdma_lat: perftest ${p:-none} qperf ${q:-none} us"
	bench_emit "$round" "$type" raw rdma_lat "" "" "${lat:-}" "" "" 0
	[ -n "$lat" ]
	check "bench_${type}_raw_rdma_lat_r${round}" $? "perftest ${p:-none} qperf ${q:-none}: $(echo "$out" | tail -n 2)"
	# A fresh qperf server for TCP: its RDMA tests may have crashed it.
	kill $qpid 2>/dev/null
	/usr/bin/qperf >/tmp/qperf.server 2>&1 &
	qpid=$!
	sleep 1
	out=$(timeout $t /usr/bin/qperf -m 1M -t "$BENCH_SECS" $SERVER_IP tcp_bw 2>&1)
	v=$(qperf_figure "$out")
	bench_emit "$round" "$type" raw tcp_bw "${v:-}" "" "" "" "" 0
	[ -n "$v" ]
	check "bench_${type}_raw_tcp_bw_r${round}" $? "$(echo "$out" | tail -n 3)"
	out=$(timeout $t /usr/bin/qperf -t "$BENCH_SECS" $SERVER_IP tcp_lat 2>&1)
	lat=$(qperf_figure "$out")
	bench_emit "$round" "$type" raw tcp_lat "" "" "${lat:-}" "" "" 0
	[ -n "$lat" ]
	check "bench_${type}_raw_tcp_lat_r${round}" $? "$(echo "$out" | tail -n 3)"
	kill $qpid 2>/dev/null
}

# bench_setup: what every bench boot needs once: crypto, the veth pair,
# cifs and smbdirect_rs.
bench_setup() {
	load_crypto
	net_setup || require "veth setup" 1
	load cifs || exit 1
	load smbdirect_rs || exit 1
}

# bench_clock WHEN: latencies need a fine clock: the TSC, not jiffies
# (the kernel falls back to them when it finds the TSC unstable).
bench_clock() {
	local cs
	cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
	case $cs in
	tsc*) true ;;
	*) false ;;
	esac
	check "bench_clocksource_fine_$1" $? "clocksource ${cs:-unknown}: $(klog | grep -i 'clocksource' | tail -n 2)"
}

# bench_run ROUNDS DEVICES...: the interleaved rounds. Setup once: crypto,
# veth, cifs, smbdirect_rs. Sizes from BENCH_MIB, BENCH_SECS,
# BENCH_VERIFY_MIB, else smbdrs.bench_mib, bench_secs, bench_verify_mib.
bench_run() {
	local rounds=$1 r dev row
	shift
	BENCH_MIB=${BENCH_MIB:-$(param bench_mib 256)}
	BENCH_SECS=${BENCH_SECS:-$(param bench_secs 5)}
	BENCH_VERIFY_MIB=${BENCH_VERIFY_MIB:-$(param bench_verify_mib 32)}
	bench_setup
	note bench_sizes "seq $BENCH_MIB MiB, random $BENCH_SECS s, verify $BENCH_VERIFY_MIB MiB, $rounds rounds"
	bench_clock start
	for r in $(seq 1 "$rounds"); do
		for dev in $(rotate "$r" "$@"); do
			rdma_link "$dev" "${dev}0" || continue
			BENCH_SERVER=
			bench_raw "$r" "$dev"
			for row in $(rotate "$r" $BENCH_ROWS); do
				case $row in
				*-rs) bench_server rust ;;
				*) bench_server c ;;
				esac || continue
				bench_row "$r" "$dev" "$row"
			done
			ksmbd_stop
			device_quiet "${dev}0" "bench_${dev}_r${r}_" && $RDMA link delete "${dev}0"
		done
	done
	bench_clock end
	unload_within 15 bench_unload smbdirect_rs
}

# bench_tiny DEV: make test's run of the bench scripts, so that they cannot
# rot: one round on DEV, every row and job, tiny sizes (the debug kernel's
# figures mean nothing).
bench_tiny() {
	BENCH_MIB=2 BENCH_SECS=1 BENCH_VERIFY_MIB=2
	bench_run 1 "$1"
}

# profile_report FILE LABEL: perf's flat profile (self time by symbol) and
# its split by module, prefixed so the host can cut them out of the log.
profile_report() {
	local data=$1 label=$2
	/usr/bin/perf report -i "$data" --stdio --no-children --sort dso -g none \
		--percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' |
		sed "s|^|smbdrs: profile $label dso |"
	/usr/bin/perf report -i "$data" --stdio --no-children --sort sym -g none \
		--percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 40 |
		sed "s|^|smbdrs: profile $label sym |"
	# The transports' own code, self and with what it calls (percent of
	# all samples).
	/usr/bin/perf report -i "$data" --stdio --no-children --sort dso,sym -g none \
		--dsos '[smbdirect_rs],[cifs],[ksmbd]' --percent-limit 0.15 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -n 40 |
		sed "s|^|smbdrs: profile $label self |"
	/usr/bin/perf report -i "$data" --stdio --children --sort dso,sym -g none \
		--dsos '[smbdirect_rs],[cifs],[ksmbd]' --percent-limit 2 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -n 40 |
		sed "s|^|smbdrs: profile $label total |"
	# Where the focus functions' time goes (smbdrs.profile_focus, symbols
	# matched as substrings): of the samples with a focus function on the
	# stack, the share of all samples under it, the callees it spends them
	# in (the frame above it) and the functions running (the leaf).
	[ -n "$PROFILE_FOCUS" ] || return 0
	/usr/bin/perf script -i "$data" -F ip,sym 2>/dev/null | awk -v focus="$PROFILE_FOCUS" \
		-v label="$label" '
		function flush(   i, j, f, n) {
			if (depth == 0) return
			total++
			n = split(focus, fs, " ")
			for (j = 1; j <= n; j++) {
				f = fs[j]
				for (i = 1; i <= depth; i++) {
					if (index(frame[i], f) == 0) continue
					under[f]++
					callee[f SUBSEP (i > 1 ? frame[i - 1] : "(self)")]++
					leaf[f SUBSEP frame[1]]++
					break
				}
			}
			depth = 0
		}
		NF == 0 { flush(); next }
		{ sym = $2; for (k = 3; k <= NF; k++) sym = sym " " $k
		  sub(/\+0x[0-9a-f]+$/, "", sym); frame[++depth] = sym }
		END {
			flush()
			for (key in callee) { split(key, kv, SUBSEP)
				printf "%s callee %.2f %s\n", kv[1], 100 * callee[key] / total, kv[2] }
			for (key in leaf) { split(key, kv, SUBSEP)
				printf "%s leaf %.2f %s\n", kv[1], 100 * leaf[key] / total, kv[2] }
			for (f in under)
				printf "%s all %.2f %d-samples\n", f, 100 * under[f] / total, total
		}' | sort -k1,2 -k3,3gr | awk '++seen[$1 " " $2] <= 25' |
		sed "s|^|smbdrs: profile $label focus |"
}

# The soft device's entry points counted per I/O (kprobe events): calls
# posting send and receive work requests, and completions (rxe's queued
# CQEs, siw's reaped ones). Counted at the device, so upstream's transports
# and ours are measured alike; both ends of the connection together.
WR_TRACE=/sys/kernel/debug/tracing
wr_probe_points() {
	case $1 in
	rxe) echo "sendpost:rxe_post_send recvpost:rxe_post_recv completion:rxe_cq_post" ;;
	siw) echo "sendpost:siw_post_send recvpost:siw_post_receive completion:siw_reap_cqe" ;;
	esac
}

# wr_count_start DEV: define and arm the probes (tracing off: only their hit
# counts are wanted, not trace records). Fails where the kernel has no
# kprobe events.
wr_count_start() {
	local p
	[ -w $WR_TRACE/kprobe_events ] || return 1
	echo 0 >$WR_TRACE/tracing_on
	for p in $(wr_probe_points "$1"); do
		echo "p:smbdrs_wr/smbdrs_${p%%:*} ${p#*:}" >>$WR_TRACE/kprobe_events || return 1
	done
	echo 1 >$WR_TRACE/events/smbdrs_wr/enable
}

wr_count_stop() {
	[ -d $WR_TRACE/events/smbdrs_wr ] || return 0
	echo 0 >$WR_TRACE/events/smbdrs_wr/enable
	echo >$WR_TRACE/kprobe_events
}

# wr_counts: "sendpost N recvpost N completion N", hits so far.
wr_counts() {
	awk '$1 ~ /^smbdrs_/ { sub(/^smbdrs_/, "", $1); printf "%s %s ", $1, $2 }' \
		$WR_TRACE/kprobe_profile 2>/dev/null
}

CQ_WORKQUEUE=/sys/module/smbdirect_rs/parameters/cq_workqueue

# bench_profile DEVICES...: where the CPU goes at 4 KiB (make bench-profile):
# on each device and SMB Direct row, fio's random 4 KiB read and write at
# depth 16 for BENCH_SECS under perf (cpu-clock samples of both CPUs, so
# client and server together), then perf's flat profile and the Rust
# connection's counters. Narrowed by smbdrs.profile_rows (c-rs,rs-rs),
# profile_jobs (randread), profile_qd (1), profile_bs (1M: the block size),
# profile_freq (samples per second per CPU) and profile_focus (symbols
# whose call trees to print). A row named with "-wq" (rs-c-wq) runs with
# the Rust connections' completions polled from the workqueue instead of
# softirq (smbdirect_rs's cq_workqueue), for comparison in one boot.
bench_profile() {
	local dev row pair job rw out c0 c1 w0 w1 rows jobs qd bs freq
	BENCH_MIB=${BENCH_MIB:-$(param bench_mib 64)}
	BENCH_SECS=${BENCH_SECS:-$(param bench_secs 5)}
	rows=$(param profile_rows "c-c rs-c c-rs rs-rs" | tr , ' ')
	jobs=$(param profile_jobs "randread randwrite" | tr , ' ')
	qd=$(param profile_qd 16)
	bs=$(param profile_bs 4k)
	freq=$(param profile_freq 499)
	PROFILE_FOCUS=$(param profile_focus "" | tr , ' ')
	bench_setup
	for dev in "$@"; do
		rdma_link "$dev" "${dev}0" || continue
		wr_count_start "$dev"
		check "profile_${dev}_wr_probes" $? "kprobes on $(wr_probe_points "$dev")"
		BENCH_SERVER=
		for row in $rows; do
			pair=${row%-wq}
			case $row in
			*-wq) echo Y ;;
			*) echo N ;;
			esac >$CQ_WORKQUEUE
			case $pair in
			*-rs) bench_server rust ;;
			*) bench_server c ;;
			esac || continue
			case $pair in
			c-*) out=$(cifs_mount ",rdma,rdma_impl=c" 2>&1) ;;
			rs-*) out=$(cifs_mount ",rdma,rdma_impl=rust" 2>&1) ;;
			esac || {
				check "profile_${dev}_${row}_mount" 1 "$out"
				continue
			}
			# Laid out first, so that reads find data.
			$FIO --name=layout --filename=$MNT/bench.bin --rw=write --bs=1M \
				--size=${BENCH_MIB}M --direct=1 >/dev/null 2>&1
			for rw in $jobs; do
				job=$rw-$bs-qd$qd
				c0=$(awk '$1 == "ctxt" { print $2 }' /proc/stat)
				w0=$(wr_counts)
				out=$(/usr/bin/perf record -q --no-buildid --no-buildid-cache -a -g \
					-e cpu-clock -F "$freq" -o /tmp/perf.data -- \
					$FIO --name="$job" --filename=$MNT/bench.bin --rw=$rw --bs="$bs" \
					--size=${BENCH_MIB}M --time_based --runtime="$BENCH_SECS" \
					--direct=1 --invalidate=0 --ioengine=libaio --iodepth="$qd" \
					--thread --output-format=terse --terse-version=3 2>&1)
				check "profile_${dev}_${row}_${job}" $? "$(echo "$out" | tail -n 3)"
				c1=$(awk '$1 == "ctxt" { print $2 }' /proc/stat)
				w1=$(wr_counts)
				# IOPS, context switches and the device's work requests
				# and completions per I/O (both ends).
				echo "$out" | awk -F';' -v w=$(case $rw in *write) echo 1 ;; *) echo 0 ;; esac) \
					-v cs=$((c1 - c0)) -v t="$BENCH_SECS" -v l="$dev $row $job" \
					-v w0="$w0" -v w1="$w1" '$1 == "3" {
					iops = w ? $49 : $8
					ios = iops * t
					# (Parenthesised: a bare ">" in printf is a redirection.)
					printf "smbdrs: profile %s iops %s switches/io %.1f", l, iops,
						(ios > 0 ? cs / ios : 0)
					n = split(w0, a, " "); split(w1, b, " ")
					for (i = 1; i < n; i += 2)
						printf " %s/io %.2f", a[i], (ios > 0 ? (b[i + 1] - a[i + 1]) / ios : 0)
					printf "\n" }'
				profile_report /tmp/perf.data "$dev $row $job"
				rm -f /tmp/perf.data
			done
			grep -E "^(SMBDirect|Conn |Current|MR |Rust |Debug |Read Queue)" /proc/fs/cifs/DebugData |
				sed "s|^|smbdrs: profile $dev $row debugdata |"
			rm -f $MNT/bench.bin
			umount $MNT
		done
		wr_count_stop
		ksmbd_stop
		device_quiet "${dev}0" "profile_${dev}_" && $RDMA link delete "${dev}0"
	done
	unload_within 15 profile_unload smbdirect_rs
}
