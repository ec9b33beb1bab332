# smbdrs-kind: ours
# smbdrs-timeout: 3600
# make test's soft-iWARP (siw) boot, in parts: the shared connection's
# stream and the device deleted under traffic (conn-stream-siw without its
# walks and perftest); then the three interop cells with a Rust end, each
# setting up and tearing down its own device and ksmbd: rs-c through a
# ksmbd restart and a busy unmount, c-rs and rs-rs (the long checks run
# over rxe in make test, over both devices in make soak; c-c runs in make
# soak and, as a bench row, in the tiny bench below); faults under verified
# I/O for our server (faults.sh, short); hostile servers against the Rust
# client (hostile.sh, short); last, make bench's guest scripts on tiny
# sizes.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
. /smbdrs/hostile.sh
part conn-stream-siw conn_stream siw
part interop-rs-c-siw interop_rs_c siw recovery
part interop-c-rs-siw interop_c_rs siw
part interop-rs-rs-siw interop_rs_rs siw
# Faults under verified I/O, short: ksmbd with our transport, mounted by
# our client, through a restart of it, allocation failures in our module,
# the address removed, a link flap and an unload attempt.
. /smbdrs/faults.sh
part faults-rs-server-siw fault_campaign rs_server_ server siw 6 "server alloc dma addr link unload"
# The hostile peer's short version (make soak runs hostile-siw): a few
# server cases our Rust client must refuse, then a real mount and a clean
# unload.
HOSTILE_ONLY="neg_status_failure neg_credits_granted_0 dt_offset_beyond dt_remaining_grows
	dt_too_long_buffer hangup_after_negotiate hangup_at_first_data"
part hostile-rs-client-siw hostile_client_side rs_cli_ siw rust
# make bench's guest scripts, tiny, so that they cannot rot (the host's
# tools/bench-report.py --require-all reads this suite's results).
. /smbdrs/bench.sh
part bench-tiny bench_tiny siw
