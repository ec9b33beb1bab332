# smbdrs-kind: ours
# smbdrs-timeout: 300
# smbdrs-expect: report:kmemleak
# Deliberate failure: the kernel's kmemleak sample module leaks on purpose.
# Every check passes, so only /init's kmemleak scan and run.py's reading of
# it can fail this scenario: proof that "kmemleak clean" means something.
. /smbdrs/lib.sh
out=$($MODPROBE kmemleak-test 2>&1)
require kmemleak_test_loaded $? "$out"
$RMMOD kmemleak-test 2>/dev/null
check leaked 0 "modprobe kmemleak-test; rmmod kmemleak-test"
