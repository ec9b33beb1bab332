# smbdrs-kind: ours
# smbdrs-timeout: 400
# First light, server role: with ksmbd not loaded, our listener (engine as
# the MS-SMBD responder) accepts the upstream cifs client's connection when
# `mount -t cifs -o rdma` runs, answers its negotiate request, receives its
# SMB2 NEGOTIATE request, checks the header, and refuses the session by
# disconnecting. The mount must fail with a clear error, nothing may oops.
. /smbdrs/lib.sh

load_crypto
net_setup || require "veth setup" 1
rdma_link rxe rxe0 || exit 1
load rdma_cm || exit 1
load cifs || exit 1

$MODPROBE smbdirect_rs selftest=server selftest_addr=$SERVER_IP >/tmp/modprobe.out 2>&1 &
mp=$!
for i in $(seq 1 30); do
	klog | grep -q 'selftest server: listening' && break
	sleep 1
done
klog | grep -q 'selftest server: listening'
require "listener_up" $? "$(klog | grep 'selftest server' | tail -n 3)"

t0=$(now)
out=$(cifs_mount ",rdma,rdma_impl=c" 2>&1)
rc=$?
t1=$(now)
metric mount_fail_s "$(elapsed "$t0" "$t1")" s
[ $rc -ne 0 ]
check "mount_refused" $? "rc=$rc: $out"
grep -q " $MNT " /proc/mounts && umount $MNT
wait $mp
check "modprobe_returned" $? "$(cat /tmp/modprobe.out)"

line=$(klog | grep 'smbdirect_rs: selftest server: ' | grep -v listening | tail -n 1)
echo "$line"
echo "$line" | grep -q 'PASS'
check "server_pass" $? "$line"
for k in max_send_size max_receive_size max_fragmented_send_size max_read_write_size \
	send_credits receive_credit_target len fragments dialects; do
	v=$(echo "$line" | sed -n "s/.* $k=\([0-9]*\).*/\1/p")
	[ -n "$v" ] && metric "cifs_$k" "$v"
done
echo "$line" | grep -q 'first=.*0x0311\|0x0311'
check "cifs_offers_311" $? "$line"
note cifs_dmesg "$(klog | grep -iE 'cifs|smbd|rdma' | tail -n 12)"

out=$($RMMOD smbdirect_rs 2>&1)
check "unload" $? "$out"
$RDMA link delete rxe0 2>/dev/null
