# smbdrs-kmemleak: no
# smbdrs-kind: ours
# smbdrs-timeout: 300
# smbdrs-expect: report:warning
# Deliberate failure: a kernel WARNING from LKDTM. Every check passes, so only
# run.py's scan of the kernel log can fail this scenario.
. /smbdrs/lib.sh
out=$($MODPROBE lkdtm 2>&1)
require lkdtm_loaded $? "$out"
echo WARNING >/sys/kernel/debug/provoke-crash/DIRECT
check provoked 0 "echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT"
