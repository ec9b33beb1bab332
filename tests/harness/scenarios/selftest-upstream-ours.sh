# smbdrs-kmemleak: no
# smbdrs-kind: upstream
# smbdrs-timeout: 300
# smbdrs-expect: report:warning
# The same kernel report in an upstream-kind scenario that has loaded
# smbdirect_rs: once our code is in the kernel, a report always fails.
. /smbdrs/lib.sh
out=$($MODPROBE smbdirect_rs 2>&1)
require smbdirect_rs_loaded $? "$out"
out=$($MODPROBE lkdtm 2>&1)
require lkdtm_loaded $? "$out"
echo WARNING >/sys/kernel/debug/provoke-crash/DIRECT
check provoked 0 "echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT"
$RMMOD smbdirect_rs
