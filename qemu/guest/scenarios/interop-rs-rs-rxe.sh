# smbdrs-kind: ours
# smbdrs-timeout: 1200
# Interop matrix cell rs-rs over soft-RoCE (rxe): our Rust client against our Rust
# server, both over smbdirect_rs: fio verified 1 MiB sequential, 4 KiB and
# 1 KiB random I/O, a sha256 round trip, the RDMA channel's counters, the
# module unloaded after. With smbdrs.full=1 (make soak): the parallel
# tar/xz workload and mount cycles (and the server restarted under the
# mount with smbdrs.server_restart=1).
. /smbdrs/lib.sh
. /smbdrs/interop.sh
part interop-rs-rs-rxe interop_rs_rs rxe
