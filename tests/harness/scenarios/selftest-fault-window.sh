# smbdrs-kmemleak: no
# smbdrs-kind: ours
# smbdrs-timeout: 300
# smbdrs-expect: report:warning
# Deliberate failure: a kernel WARNING from LKDTM inside a fault-injection
# window. run.py forgives only the allocation-failure warnings that injected
# faults print there; any other report must still fail the scenario.
. /smbdrs/lib.sh
out=$($MODPROBE lkdtm 2>&1)
require lkdtm_loaded $? "$out"
echo "smbdrs: fault injection on" >/dev/kmsg
echo WARNING >/sys/kernel/debug/provoke-crash/DIRECT
echo "smbdrs: fault injection off" >/dev/kmsg
check provoked 0 "WARNING inside the fault window"
