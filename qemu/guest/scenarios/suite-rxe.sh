# smbdrs-kind: ours
# smbdrs-timeout: 2100
# make test's soft-RoCE (rxe) boot, in parts: the shared connection's
# stream with both allocation-failure walks and the device deleted under
# traffic (conn-stream-rxe without perftest); then the four interop cells,
# each setting up and tearing down its own device and ksmbd: c-c (upstream
# both sides, the baseline), rs-c (with ksmbd restarted under the Rust
# mount and a busy unmount), c-rs (with the Rust server restarted under a
# writer and 16 simultaneous mounts) and rs-rs (with the parallel tar/xz
# workload and 5 mount cycles).
. /smbdrs/lib.sh
. /smbdrs/interop.sh
part conn-stream-rxe conn_stream rxe walk
part interop-c-c-rxe interop_c_c rxe
part interop-rs-c-rxe interop_rs_c rxe recovery
part interop-c-rs-rxe interop_c_rs rxe full
part interop-rs-rs-rxe interop_rs_rs rxe full
