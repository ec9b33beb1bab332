# smbdrs-kmemleak: no
# smbdrs-kind: ours
# smbdrs-timeout: 300
# smbdrs-expect: report:oops
# Deliberate failure: a kernel BUG() from LKDTM in a child shell (the oops
# kills that process, the scenario goes on and passes its own checks).
. /smbdrs/lib.sh
out=$($MODPROBE lkdtm 2>&1)
require lkdtm_loaded $? "$out"
sh -c 'echo BUG >/sys/kernel/debug/provoke-crash/DIRECT'
check provoked 0 "echo BUG > /sys/kernel/debug/provoke-crash/DIRECT"
