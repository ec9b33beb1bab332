# smbdrs-kind: ours
# smbdrs-timeout: 1800
# make test's soft-iWARP (siw) boot, in parts: the shared connection's
# stream and the device deleted under traffic (conn-stream-siw without its
# walks and perftest); then the four interop cells with their core checks
# (c-c, rs-c, c-rs, rs-rs), each setting up and tearing down its own device
# and ksmbd; last, make bench's guest scripts on tiny sizes. The long checks
# over siw are make soak's.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
part conn-stream-siw conn_stream siw
part interop-c-c-siw interop_c_c siw
part interop-rs-c-siw interop_rs_c siw
part interop-c-rs-siw interop_c_rs siw
part interop-rs-rs-siw interop_rs_rs siw
# make bench's guest scripts, tiny, so that they cannot rot (the host's
# tools/bench-report.py --require-all reads this suite's results).
. /smbdrs/bench.sh
part bench-tiny bench_tiny siw
