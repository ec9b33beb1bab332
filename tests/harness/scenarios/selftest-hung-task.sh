# smbdrs-kind: ours
# smbdrs-timeout: 400
# smbdrs-expect: report:hung-task
# Deliberate failure, and the reproducer of an upstream rxe bug: fail the
# first allocation under rxe_qp_from_attr (the responder's rd_atomic array,
# on the passive side's modify to RTR in rdma_accept). 6.12.117's rxe then
# leaves its receive task disabled, the receive queue never flushes and
# ib_drain_rq waits forever in our teardown. The hung-task detector must
# report the blocked task with its stack and panic the guest within about
# 30 s, long before the scenario's timeout.
. /smbdrs/lib.sh
load_crypto
net_setup || require "veth setup" 1
rdma_link rxe rxe0 || exit 1
load rdma_cm || exit 1
out=$($MODPROBE smbdirect_rs selftest_addr=$SERVER_IP 2>&1)
require "load" $? "$out"
echo 30 >/proc/sys/kernel/hung_task_timeout_secs
echo 1 >/proc/sys/kernel/hung_task_panic
dbg=/sys/kernel/debug
from=$(grep -w rxe_qp_from_attr /proc/kallsyms | awk '{print $1}' | head -n 1)
to=$(awk '{print $1}' /proc/kallsyms | sort | awk -v s="$from" '$1 > s { print; exit }')
require "rxe_qp_from_attr_found" "$([ -n "$from" ] && [ -n "$to" ]; echo $?)" "0x$from-0x$to"
for f in failslab fail_page_alloc; do
	echo N >$dbg/$f/ignore-gfp-wait
	echo 0 >$dbg/$f/verbose
	echo "0x$from" >$dbg/$f/require-start
	echo "0x$to" >$dbg/$f/require-end
done
echo 0 >$dbg/fail_page_alloc/min-order
echo "smbdrs: fault injection on" >/dev/kmsg
/usr/bin/failnth /sys/module/smbdirect_rs/parameters/run rdma 3
check "walk_returned" 0 "the drain did not hang"
