# smbdrs-kind: ours
# smbdrs-timeout: 1200
# Interop matrix cell: our Rust SMB Direct client (cifs with rdma_impl=rust)
# against upstream's C server (ksmbd) over rxe. A Rust mount without
# smbdirect_rs is refused; then the default mount is Rust (/proc/mounts,
# DebugData), the module is held while mounted, fio verifies 1 MiB
# sequential, 4 KiB and 1 KiB random I/O, a sha256 round trip, clean
# unload; then the C client in the same boot with the same fio jobs for
# numbers side by side. Over rxe with the long checks: a parallel tar/xz
# workload, ksmbd restarted under the mount (it recovers over Rust), a lazy
# unmount with a write in flight, mount cycles; the device deleted and re-
# added under the mount with smbdrs.link_bounce=1.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
interop_client rxe full
