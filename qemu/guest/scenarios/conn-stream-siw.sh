# smbdrs-kind: ours
# smbdrs-timeout: 900
# The shared connection over soft-iWARP (siw): an active and a passive
# connection of ours in one kernel, 8 sender threads a side, messages of
# random sizes from 1 byte to past the peer's maximum fragmented size built
# in the senders' pages and sent without copying, every byte and each
# sender's order checked by one reader a side; then shutdown of one side
# seen by the other, module unload, and qperf's raw bandwidth of the same
# device for scale.
. /smbdrs/lib.sh
conn_stream siw walks perftest
