# smbdrs-kind: ours
# smbdrs-timeout: 1500
# Reproducer for the open ksmbd hang after a kill under the Rust client
# over siw (Documentation/known-bugs.md): interop-rs-c-siw's recovery
# checks three times in one boot. smbdrs.cqwq=1 polls the Rust
# connections' completions from the workqueue instead of softirq, to
# compare the two.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
if [ "$(param cqwq 0)" = 1 ]; then
	mkdir -p /etc/modprobe.d
	echo "options smbdirect_rs cq_workqueue=1" >/etc/modprobe.d/smbdrs.conf
fi
part rsc1 interop_rs_c siw recovery
part rsc2 interop_rs_c siw recovery
part rsc3 interop_rs_c siw recovery
