# smbdrs-kind: upstream
# smbdrs-timeout: 600
# Raw soft-RoCE ceiling: perftest ib_write_bw / ib_read_bw and qperf between
# the two veth ends (rxe loopback on rxe0), plus qperf's TCP bandwidth on the
# same veth for scale.
#
# perftest converts CPU cycles to time with "cpu MHz" from /proc/cpuinfo and
# reports 0.00 when it reads 0. The guest's cpu MHz is the kernel's cpu_khz,
# which stays 0 when TSC calibration against the PIT fails under TCG; run.py
# passes tsc_early_khz=<host TSC kHz> (TCG's guest TSC runs at the host's
# rate), so cpu MHz reads the right value and perftest reports real numbers.
. /smbdrs/lib.sh

SIZE=1048576
PERF_N=$(param perf_n 50)
# -t: send queue depth (perftest's default is 128)
PERF_TX=$(param perf_tx 128)
PERF_OPTS="-d rxe0 -R -F -s $SIZE -n $PERF_N -t $PERF_TX"
# qperf waits for completion events by default; perftest's bw tests always
# busy-poll. smbdrs.qperf_poll=1 makes qperf poll too (-cp1).
QPERF_OPTS="-cm1 -m 1M -t 5"
[ "$(param qperf_poll 0)" = 1 ] && QPERF_OPTS="$QPERF_OPTS -cp1"

mhz=$(grep -m1 'cpu MHz' /proc/cpuinfo | sed 's/.*: //')
note cpu_mhz "${mhz:-none}; $(klog | grep -iE 'tsc|clocksource' | tail -n 6)"
metric cpu_mhz "${mhz:-0}" MHz
awk -v m="${mhz:-0}" 'BEGIN { exit !(m > 0) }'
check cpu_mhz_nonzero $? "cpu MHz: ${mhz:-none}"

net_setup || require "veth setup" 1
rdma_link rxe rxe0 || exit 1
/usr/bin/ibv_devinfo -d rxe0 >&2

# perftest BINARY NAME: server in the background, client against it; average
# MB/s from the result row (#bytes #iterations peak avg msgrate).
perftest() {
	local bin=$1 name=$2 out bw
	/usr/bin/$bin $PERF_OPTS >/tmp/$bin.server 2>&1 &
	local spid=$!
	sleep 2
	out=$(/usr/bin/$bin $PERF_OPTS $SERVER_IP 2>&1)
	local rc=$?
	wait $spid
	echo "$out"
	bw=$(echo "$out" | awk -v s=$SIZE '$1 == s && NF >= 4 { print $4 }' | tail -n 1)
	check "perftest_$name" $rc "$(echo "$out" | tail -n 6)"
	if [ -n "$bw" ]; then
		metric "perftest_${name}_MBps" "$bw" MB/s
		awk -v b="$bw" 'BEGIN { exit !(b > 0) }'
		check "perftest_${name}_nonzero" $? "average $bw MB/s"
	else
		check "perftest_${name}_parsed" 1 "no result row in the output"
	fi
}

perftest ib_write_bw write
perftest ib_read_bw read

# qperf: -cm1 sets up the connection through rdma_cm, which RoCE needs.
/usr/bin/qperf >/tmp/qperf.server 2>&1 &
qpid=$!
sleep 2
for t in rc_rdma_write_bw rc_rdma_read_bw tcp_bw; do
	out=$(/usr/bin/qperf $QPERF_OPTS $SERVER_IP $t 2>&1)
	rc=$?
	echo "$out"
	# "bw  =  39.5 MB/sec" (or KB, GB)
	bw=$(echo "$out" | awk '$1 == "bw" {
		v = $3; u = $4
		if (u ~ /^GB/) v *= 1000; else if (u ~ /^KB/) v /= 1000; else if (u ~ /^B/) v /= 1e6
		printf "%.1f", v }')
	check "qperf_$t" $rc "$(echo "$out" | tail -n 4)"
	[ -n "$bw" ] && metric "qperf_${t}_MBps" "$bw" MB/s
done
kill $qpid 2>/dev/null
wait $qpid 2>/dev/null
$RDMA link delete rxe0
