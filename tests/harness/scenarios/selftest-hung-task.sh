# smbdrs-kmemleak: no
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
hang_panics 30
range=$(symbol_range rxe_qp_from_attr)
require "rxe_qp_from_attr_found" $? "$range"
fault_setup
fault_filter require $range
echo "smbdrs: fault injection on" >/dev/kmsg
/usr/bin/failnth /sys/module/smbdirect_rs/parameters/run rdma 3
check "walk_returned" 0 "the drain did not hang"
