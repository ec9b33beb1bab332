# smbdrs-kind: ours
# smbdrs-timeout: 1500
# make test's first boot, three parts that used to boot alone: module (load
# and unload three times), ib-selftest (the ib layer's first light and
# misuse refusals) and ib-hardening (allocation-failure walk of the ib
# layer, hostile completions); kmemleak scans once after all three.
. /smbdrs/lib.sh
part module sh /smbdrs/scenarios/module.sh
part ib-selftest sh /smbdrs/scenarios/ib-selftest.sh
# Last: it makes a blocked task panic the guest after 30 s.
part ib-hardening sh /smbdrs/scenarios/ib-hardening.sh
