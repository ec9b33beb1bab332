# smbdrs-kind: ours
# smbdrs-timeout: 1200
# Interop matrix cell rs-c over soft-RoCE (rxe): our Rust SMB Direct client (cifs
# with rdma_impl=rust) against upstream's C server (ksmbd). A Rust mount
# without smbdirect_rs is refused; then the default mount is Rust
# (/proc/mounts, DebugData), the module is held while mounted, fio verifies
# 1 MiB sequential, 4 KiB and 1 KiB random I/O, a sha256 round trip, an SMB
# 3.0 mount invalidates locally, the module unloads after. With
# smbdrs.full=1 (make soak) the long checks too: a parallel tar/xz workload,
# ksmbd restarted under the mount, a busy unmount, mount cycles (and the
# device deleted and re-added with smbdrs.link_bounce=1).
. /smbdrs/lib.sh
. /smbdrs/interop.sh
part interop-rs-c-rxe interop_rs_c rxe
