# smbdrs-kind: ours
# smbdrs-kmemleak: no
# smbdrs-timeout: 3600
# make bench-profile's guest (scripts/bench.sh with BENCH_PROFILE=1, on the
# bench kernel): perf's profile of random 4 KiB I/O at depth 16 for every
# SMB Direct client x server pair; see bench_profile in qemu/guest/bench.sh.
. /smbdrs/lib.sh
. /smbdrs/interop.sh
. /smbdrs/bench.sh
bench_profile $(param bench_devices "rxe siw" | tr , ' ')
