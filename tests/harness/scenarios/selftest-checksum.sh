# smbdrs-kmemleak: no
# smbdrs-kind: ours
# smbdrs-timeout: 600
# smbdrs-expect: check:tcp_sha256_readback
# Deliberate failure: the baseline's own checksum round trip, over a TCP cifs
# mount with cache=none, with one byte of the share's backing file flipped
# behind the server's back. The read-back sha256 must no longer match.
. /smbdrs/lib.sh
load_crypto
net_setup || require "veth setup" 1
ksmbd_start || exit 1
out=$(cifs_mount "" 2>&1)
require mount_tcp $? "$out"
checksum_roundtrip tcp_ 4 corrupt
umount $MNT
ksmbd_stop
