# smbdrs-kind: ours
# smbdrs-timeout: 5400
# Faults under verified I/O over soft-RoCE (rxe), issue 12 (faults.sh): our
# Rust client against upstream ksmbd, then ksmbd with our Rust transport
# (mounted by our client), smbdrs.fault_rounds faults each (default
# 32: every kind four times), allocation and DMA mapping failures in smbdirect_rs, link
# down, address removed, device deleted, ksmbd restarted, umount -f and
# unload attempts in turn. make soak runs it; make test runs a few rounds
# in its suites.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
. /smbdrs/faults.sh
part faults-rs-client-rxe fault_campaign rs_client_ client rxe "$(param fault_rounds 32)"
part faults-rs-server-rxe fault_campaign rs_server_ server rxe "$(param fault_rounds 32)"
