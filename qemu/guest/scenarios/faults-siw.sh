# smbdrs-kind: ours
# smbdrs-timeout: 5400
# Faults under verified I/O over soft-iWARP (siw), issue 12 (faults.sh): our
# Rust client against upstream ksmbd, then ksmbd with our Rust transport
# (mounted by our client), smbdrs.fault_rounds faults each (default
# 28: every kind but device four times), allocation and DMA mapping failures in smbdirect_rs, link
# down, address removed, ksmbd restarted, umount -f and
# unload attempts in turn (no device deletion over siw: faults.sh). make
# soak runs it; make test runs a few rounds in its suites.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
. /smbdrs/faults.sh
part faults-rs-client-siw fault_campaign rs_client_ client siw "$(param fault_rounds 28)"
part faults-rs-server-siw fault_campaign rs_server_ server siw "$(param fault_rounds 28)"
