# smbdrs-kind: ours
# smbdrs-timeout: 400
# First light, client role: our engine over our ib layer connects to the
# upstream ksmbd server through rxe, negotiates MS-SMBD as the initiator,
# sends an SMB2 NEGOTIATE request (once with default sizes, once padded to
# ~2.5 KiB so that it needs three data transfer messages, with a 256-byte
# receive size that makes ksmbd fragment its answer), reassembles ksmbd's
# response and reads the dialect; then disconnects cleanly.
. /smbdrs/lib.sh

load_crypto
net_setup || require "veth setup" 1
rdma_link rxe rxe0 || exit 1
ksmbd_start || exit 1
load rdma_cm || exit 1

out=$($MODPROBE smbdirect_rs selftest=client selftest_addr=$SERVER_IP 2>&1)
require "load_with_selftest" $? "$out"
klog | grep 'smbdirect_rs: selftest client' >&2
for sizes in default small; do
	line=$(klog | grep "smbdirect_rs: selftest client: .* sizes=$sizes" | tail -n 1)
	echo "$line" | grep -q 'PASS'
	check "client_${sizes}_pass" $? "$line"
	echo "$line" | grep -q 'dialect=0x0311'
	check "client_${sizes}_dialect_311" $? "$line"
	for k in max_send_size max_receive_size max_fragmented_send_size max_read_write_size \
		send_credits fragments_sent fragments_received; do
		v=$(echo "$line" | sed -n "s/.* $k=\([0-9]*\).*/\1/p")
		[ -n "$v" ] && metric "${sizes}_$k" "$v"
	done
done
small=$(klog | grep 'selftest client: PASS sizes=small' | tail -n 1)
v=$(echo "$small" | sed -n 's/.* fragments_sent=\([0-9]*\).*/\1/p')
[ "${v:-0}" -ge 3 ]
check "small_request_fragmented" $? "fragments_sent=$v"
v=$(echo "$small" | sed -n 's/.* fragments_received=\([0-9]*\).*/\1/p')
[ "${v:-0}" -ge 2 ]
check "small_response_reassembled" $? "fragments_received=$v"
v=$(echo "$small" | sed -n 's/.* max_receive_size=\([0-9]*\).*/\1/p')
[ "${v:-0}" = 256 ]
check "small_max_receive_size_256" $? "max_receive_size=$v"

out=$($RMMOD smbdirect_rs 2>&1)
check "unload" $? "$out"
ksmbd_stop
$RDMA link delete rxe0 2>/dev/null
