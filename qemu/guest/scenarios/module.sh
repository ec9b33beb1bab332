# smbdrs-kind: ours
# smbdrs-timeout: 300
# Load and unload our module three times: the version lines appear in dmesg,
# the module comes and goes, and /init's kmemleak scan afterwards is clean.
. /smbdrs/lib.sh

load_crypto
for i in 1 2 3; do
	t0=$(now)
	out=$($MODPROBE smbdirect_rs 2>&1)
	rc=$?
	t1=$(now)
	require "load_$i" $rc "$out"
	[ $i = 1 ] && metric load_s "$(elapsed "$t0" "$t1")" s
	grep -q '^smbdirect_rs ' /proc/modules
	check "in_proc_modules_$i" $? "$(grep smbdirect_rs /proc/modules)"
	line=$(klog | grep 'smbdirect-rs version' | grep ' loaded' | tail -n 1)
	[ -n "$line" ]
	check "loaded_line_$i" $? "$line"
	n_loaded=$(klog | grep -c 'smbdirect-rs version .* loaded')
	[ "$n_loaded" = "$i" ]
	check "loaded_count_$i" $? "$n_loaded 'loaded' lines after $i loads"

	out=$($RMMOD smbdirect_rs 2>&1)
	require "unload_$i" $? "$out"
	line=$(klog | grep 'smbdirect-rs version .* unloaded' | tail -n 1)
	[ -n "$line" ]
	check "unloaded_line_$i" $? "$line"
	n_unloaded=$(klog | grep -c 'smbdirect-rs version .* unloaded')
	[ "$n_unloaded" = "$i" ]
	check "unloaded_count_$i" $? "$n_unloaded 'unloaded' lines after $i unloads"
	! grep -q '^smbdirect_rs ' /proc/modules
	check "gone_from_proc_modules_$i" $? ""
done
version=$(klog | sed -n 's/.*smbdirect-rs version \([^ ]*\) loaded.*/\1/p' | head -n 1)
note version "$version"
