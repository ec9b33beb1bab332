# smbdrs-kind: ours
# smbdrs-timeout: 300
# The ib layer's self test over soft-RoCE: smbdirect_rs selftest=rdma
# connects two queue pairs through rdma_cm on rxe0, exchanges messages,
# registers a fast-registration MR, RDMA-writes and RDMA-reads it and checks
# every byte; then the module unloads and /init's kmemleak scan must be clean.
. /smbdrs/lib.sh

load_crypto
net_setup || require "veth setup" 1
rdma_link rxe rxe0 || exit 1
load rdma_cm || exit 1

t0=$(now)
out=$($MODPROBE smbdirect_rs selftest=rdma selftest_addr=$SERVER_IP 2>&1)
rc=$?
t1=$(now)
require "load_with_selftest" $rc "$out"
metric selftest_s "$(elapsed "$t0" "$t1")" s
line=$(klog | grep 'smbdirect_rs: selftest rdma:' | tail -n 1)
echo "$line"
echo "$line" | grep -q ': PASS '
check "selftest_rdma_pass" $? "$line"
for k in messages message_bytes rdma_write rdma_read rw_write rw_read; do
	v=$(echo "$line" | sed -n "s/.* $k=\([0-9]*\).*/\1/p")
	[ -n "$v" ] && metric "selftest_$k" "$v"
done
dev=$(echo "$line" | sed -n 's/.* device=\([^ ]*\).*/\1/p')
[ "$dev" = rxe0 ]
check "selftest_used_rxe0" $? "device=$dev"

out=$($RMMOD smbdirect_rs 2>&1)
check "unload" $? "$out"
$RDMA link delete rxe0 2>/dev/null
