# smbdrs-kmemleak: no
# smbdrs-kind: ours
# smbdrs-timeout: 30
# smbdrs-expect: timeout
# Deliberate failure: the guest never finishes. run.py's hard timeout must
# kill qemu and record a timeout.
. /smbdrs/lib.sh
say "sleeping forever (deliberate)"
while :; do sleep 3600; done
