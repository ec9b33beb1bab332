# smbdrs-kind: ours
# smbdrs-timeout: 1200
# Interop matrix cells with our Rust SMB Direct server (ksmbd with
# rdma_impl=rust) over rxe: a Rust ksmbd without smbdirect_rs does not
# start and says why; with it, it listens on the device's SMB Direct port
# and holds the module; upstream's C client (cell c-rs) and then our Rust
# client (cell rs-rs, in the same boot) mount and run fio-verified 1 MiB
# sequential, 4 KiB and 1 KiB random I/O and a sha256 round trip; the
# module unloads once ksmbd stops. Over rxe also, for the C client: ksmbd
# shut down and started again under a writer, and 16 simultaneous mounts
# (nosharesock) doing verified I/O; for the Rust client: the parallel tar/xz
# workload and mount cycles.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
interop_server rxe full
