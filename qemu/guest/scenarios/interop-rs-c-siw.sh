# smbdrs-kind: ours
# smbdrs-timeout: 1200
# Interop matrix cell: our Rust SMB Direct client (cifs with rdma_impl=rust)
# against upstream's C server (ksmbd) over siw. A Rust mount without
# smbdirect_rs is refused; then the default mount is Rust (/proc/mounts,
# DebugData), the module is held while mounted, fio verifies 1 MiB
# sequential, 4 KiB and 1 KiB random I/O, a sha256 round trip, a parallel
# tar/xz workload, ksmbd restarted under I/O and the siw device deleted and
# added again (the mount recovers over Rust each time), a lazy unmount with
# a write in flight, mount cycles, clean unload; then the C client in the
# same boot with the same fio jobs for numbers side by side.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
interop_client siw
