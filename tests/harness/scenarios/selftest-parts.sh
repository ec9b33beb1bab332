# smbdrs-kmemleak: no
# smbdrs-kind: ours
# smbdrs-timeout: 300
# smbdrs-expect: parts:good=pass,bad-check=fail,bad-report=fail,after=pass
# Deliberate failures inside a suite's parts (see part in lib.sh): a failed
# require ends its own part only, a kernel report fails the part that was
# running when it was printed, and a later part still runs and reads only
# its own kernel log (klog).
. /smbdrs/lib.sh

good() { check part_good 0 "passes"; }

bad_check() {
	require part_bad_required 1 "fails on purpose"
	check part_bad_never_reached 0 "after a failed require"
}

bad_report() {
	local out
	out=$($MODPROBE lkdtm 2>&1)
	require lkdtm_loaded $? "$out"
	echo WARNING >/sys/kernel/debug/provoke-crash/DIRECT
	check provoked 0 "echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT"
}

after() {
	! klog | grep -q 'smbdrs: part bad-report start'
	check part_after_reads_its_own_log $? "$(klog | head -n 2)"
	klog | grep -q 'smbdrs: part after start'
	check part_after_log_starts_at_its_mark $? "$(klog | head -n 2)"
}

part good good
part bad-check bad_check
part bad-report bad_report
part after after
