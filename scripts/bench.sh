#!/usr/bin/env bash
# make bench: the non-debug bench kernel, one boot, every SMB Direct client
# x server pair over rxe and siw beside SMB over TCP and the raw devices, in
# interleaved rounds; then the table, results/bench-*/bench.json and PNG
# plots (tools/bench-report.py). See Documentation/benchmarks.md.
#
#   BENCH_ROUNDS=3 BENCH_MIB=256 BENCH_SECS=5 BENCH_DEVICES=rxe,siw make bench
#   BENCH_FLAVOR=debug BENCH_MIB=4 BENCH_SECS=1 BENCH_ROUNDS=1 scripts/bench.sh
#       (the scripts alone, tiny, on the debug kernel)
#   BENCH_PROFILE=1 make bench (make bench-profile): instead of the
#       figures, perf's profile of random 4 KiB I/O for every pair,
#       written to results/bench-*/profile.txt; narrowed with
#       PROFILE_ROWS=c-rs,rs-rs PROFILE_JOBS=randread PROFILE_QD=1 PROFILE_BS=1M
#       PROFILE_FREQ=2000 PROFILE_FOCUS=smbdrs_server_rdma (call trees)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh

flavor=${BENCH_FLAVOR:-bench}
out=${BENCH_OUT:-$repo/results/bench-$(date +%Y%m%d-%H%M%S)}
scripts/kernel.sh all "$flavor"
# Without KASAN a kernel stack is 16 KiB (the debug kernel's is 32): no
# frame of ours above 4 KiB there (a 12 KiB one once overflowed a mount).
if [ "$flavor" = bench ]; then
	tools/stack-frames.py "$(find "$SMBDRS_CACHE/out/$flavor/lib/modules" -name smbdirect_rs.ko |
		head -n 1)" || die "a stack frame of smbdirect_rs is too large for a 16 KiB stack"
fi
qemu/mkinitramfs.sh "$flavor"
# The share lives in the guest's memory: room for the largest file.
mem=${BENCH_MEM:-4G}
rc=0
if [ -n "${BENCH_PROFILE:-}" ]; then
	qemu/run.py --flavor "$flavor" --out "$out" --no-initramfs --mem "$mem" \
		--set "bench_mib=${BENCH_MIB:-64}" --set "bench_secs=${BENCH_SECS:-5}" \
		--set "bench_devices=${BENCH_DEVICES:-rxe,siw}" ${BENCH_CPU:+--cpu "$BENCH_CPU"} \
		${PROFILE_ROWS:+--set "profile_rows=$PROFILE_ROWS"} \
		${PROFILE_JOBS:+--set "profile_jobs=$PROFILE_JOBS"} \
		${PROFILE_QD:+--set "profile_qd=$PROFILE_QD"} \
		${PROFILE_BS:+--set "profile_bs=$PROFILE_BS"} \
		${PROFILE_FREQ:+--set "profile_freq=$PROFILE_FREQ"} \
		${PROFILE_FOCUS:+--set "profile_focus=$PROFILE_FOCUS"} \
		--scenario bench-profile || rc=$?
	sed -n 's/^.*smbdrs: profile //p' "$out/bench-profile/console.log" >"$out/profile.txt"
	echo "bench: profile in $out/profile.txt"
	exit "$rc"
fi
qemu/run.py --flavor "$flavor" --out "$out" --no-initramfs --mem "$mem" \
	--set "bench_rounds=${BENCH_ROUNDS:-3}" --set "bench_mib=${BENCH_MIB:-256}" \
	--set "bench_secs=${BENCH_SECS:-5}" --set "bench_verify_mib=${BENCH_VERIFY_MIB:-32}" \
	--set "bench_devices=${BENCH_DEVICES:-rxe,siw}" ${BENCH_CPU:+--cpu "$BENCH_CPU"} \
	--scenario bench || rc=$?
# Debian's python3 has matplotlib (python3-matplotlib) for the plots.
py=/usr/bin/python3
[ -x $py ] || py=python3
$py tools/bench-report.py "$out" --plots "$out/plots" --json "$out/bench.json" |
	tee "$out/report.txt" || rc=1
echo "bench: results in $out (bench.json, plots/)"
exit "$rc"
