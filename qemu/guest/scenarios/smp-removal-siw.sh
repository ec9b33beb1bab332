# smbdrs-kind: ours
# smbdrs-timeout: 900
# Reproducer of the leak two guest CPUs exposed (Documentation/known-bugs.md,
# "Found with two CPUs"): the shared connection's stream over siw with the
# device deleted under traffic, four times in one boot. Before the fix, one
# of the four ended with rdma link delete blocked in cma_process_remove:
# zero-copy sends siw accepted and never completed kept their buffers, the
# protection domain and the rdma_cm identifier alive. Now the teardown
# completes them as flushed ("the device never completed N work
# requests") and every round passes. Two CPUs are run.py's default.
. /smbdrs/lib.sh
part removal-1 conn_stream siw
part removal-2 conn_stream siw
part removal-3 conn_stream siw
part removal-4 conn_stream siw
