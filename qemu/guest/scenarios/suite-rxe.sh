# smbdrs-kind: ours
# smbdrs-timeout: 3600
# make test's soft-RoCE (rxe) boot, in parts: the shared connection's
# stream with the active side's allocation-failure walk and the device
# deleted under traffic (conn-stream-rxe without perftest); then the three
# interop cells with a Rust end, each setting up and tearing down its own
# device and ksmbd (c-c, upstream at both ends, runs in make soak and in
# suite-siw's tiny bench): rs-c and c-rs with
# their long checks ("full", interop.sh): the parallel tar/xz workload and
# mount cycles (smbdrs.cycles), ksmbd restarted under the mount, the
# device deleted and added again under it, a busy unmount (rs-c) and 16
# simultaneous mounts (c-rs); then rs-rs, its long checks left to make
# soak (each Rust end meets them against upstream's here); faults
# under verified I/O for our client (faults.sh, short); last, hostile
# clients against the Rust server (hostile.sh, short).
. /smbdrs/lib.sh
. /smbdrs/interop.sh
. /smbdrs/hostile.sh
. /smbdrs/faults.sh
part conn-stream-rxe conn_stream rxe walk
part interop-rs-c-rxe interop_rs_c rxe full
part interop-c-rs-rxe interop_c_rs rxe full
part interop-rs-rs-rxe interop_rs_rs rxe
# Faults under verified I/O, short (make soak runs faults-rxe and
# faults-siw: both roles, every kind four times): our client against
# upstream ksmbd through a restart of it, allocation failures in our
# module, umount -f, a link flap and an unload attempt.
part faults-rs-client-rxe fault_campaign rs_client_ client rxe 6 "server alloc dma umount link unload"
# The hostile peer's short version (make soak runs hostile-rxe: the whole
# catalogue, the silent client, 20 random connections): a few client cases
# against the Rust server, then an honest mount and a clean unload.
HOSTILE_ONLY="neg_version_high neg_credits_0 dt_second_negotiate dt_offset_overflow
	dt_remaining_overflow dt_too_long_buffer credits_exceeded keepalive_flood
	hangup_after_request hangup_at_response hangup_after_echoes"
HOSTILE_SILENCE=0
HOSTILE_RANDOM=3
part hostile-rs-server-rxe hostile_server_side rs_srv_ rxe rust
