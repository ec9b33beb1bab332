# smbdrs-kind: ours
# smbdrs-timeout: 1200
# Interop matrix cell c-rs over soft-iWARP (siw): upstream's C client against our
# Rust SMB Direct server (ksmbd with rdma_impl=rust). A Rust ksmbd without
# smbdirect_rs does not start and says why; with it, it listens on the
# device's SMB Direct port and holds the module; the C client mounts and
# fio verifies 1 MiB sequential, 4 KiB and 1 KiB random I/O, a sha256 round
# trip; the module unloads once ksmbd stops. With smbdrs.full=1 (make
# soak): ksmbd shut down and started again under a writer, and 16
# simultaneous mounts (nosharesock) doing verified I/O (and the device
# deleted and re-added with smbdrs.link_bounce=1).
. /smbdrs/lib.sh
. /smbdrs/interop.sh
part interop-c-rs-siw interop_c_rs siw
