# smbdrs-kind: ours
# smbdrs-kmemleak: no
# smbdrs-timeout: 5400
# make bench's guest (scripts/bench.sh, on the non-debug bench kernel):
# every SMB Direct client x server pair over rxe and siw, SMB over TCP and
# the raw devices, in smbdrs.bench_rounds interleaved rounds (default 3);
# see qemu/guest/bench.sh. Sizes: smbdrs.bench_mib (sequential, 256),
# smbdrs.bench_secs (random and qperf, 5), smbdrs.bench_verify_mib (32).
. /smbdrs/lib.sh
. /smbdrs/interop.sh
. /smbdrs/bench.sh
bench_run "$(param bench_rounds 3)" $(param bench_devices "rxe siw" | tr , ' ')
