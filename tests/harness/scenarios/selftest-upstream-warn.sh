# smbdrs-kmemleak: no
# smbdrs-kind: upstream
# smbdrs-timeout: 300
# smbdrs-expect: upstream-fail
# A kernel report in a scenario that runs upstream code only (kind upstream,
# smbdirect_rs never loaded): run.py must record it as upstream-fail, show
# the report, and not count it as a failure.
. /smbdrs/lib.sh
out=$($MODPROBE lkdtm 2>&1)
require lkdtm_loaded $? "$out"
echo WARNING >/sys/kernel/debug/provoke-crash/DIRECT
check provoked 0 "echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT"
