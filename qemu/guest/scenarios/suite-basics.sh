# smbdrs-kind: ours
# smbdrs-timeout: 1500
# make test's first boot, three parts that used to boot alone: module (load
# and unload three times), ib-selftest (the ib layer's first light and
# misuse refusals) and ib-hardening (misuse and hostile completions; its
# allocation-failure walk of the ib layer is left to make soak, as
# conn-stream-rxe walks the same layer under the connection); kmemleak
# scans once after all three.
. /smbdrs/lib.sh
part module sh /smbdrs/scenarios/module.sh
part ib-selftest sh /smbdrs/scenarios/ib-selftest.sh
export IB_WALK=0
part ib-hardening sh /smbdrs/scenarios/ib-hardening.sh
