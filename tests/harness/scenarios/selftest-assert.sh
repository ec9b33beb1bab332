# smbdrs-kmemleak: no
# smbdrs-kind: ours
# smbdrs-timeout: 300
# smbdrs-expect: check:selftest_deliberate_assertion
# Deliberate failure: a scenario assertion that does not hold. run.py must
# report the scenario as failed, naming this check.
. /smbdrs/lib.sh
check selftest_true 0 "this one holds"
check selftest_deliberate_assertion 1 "1 == 2 does not hold (deliberate)"
