# smbdrs-kind: ours
# smbdrs-timeout: 1200
# Interop matrix cell: our Rust SMB Direct client (cifs with rdma_impl=rust)
# against upstream's C server (ksmbd) over siw. A Rust mount without
# smbdirect_rs is refused; then the default mount is Rust (/proc/mounts,
# DebugData), the module is held while mounted, fio verifies 1 MiB
# sequential, 4 KiB and 1 KiB random I/O, a sha256 round trip, clean
# unload; then the C client in the same boot with the same fio jobs for
# numbers side by side. Over siw core checks here; the long ones (workload, ksmbd restart, device bounce, busy unmount, mount cycles) run with smbdrs.full=1 (make soak).
. /smbdrs/lib.sh
. /smbdrs/interop.sh
interop_client siw
