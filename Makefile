# SPDX-License-Identifier: GPL-2.0-only
#
# smbdirect-rs: the commands people run. (kbuild reads Kbuild, not this file,
# when the repository is overlaid on the kernel tree.)
#
#   make demo     install, build, boot, mount over RDMA, move data, print MB/s
#   make test     every test; ends with "N passed, N failed"
#   make soak     long runs kept out of make test: every interop cell with
#                 its long checks over rxe and siw, 170 mount cycles a cell,
#                 first light, perftest, the hostile catalogue and fault
#                 campaigns under verified I/O, 10^8 runs of each fuzz
#                 target (many hours; resumes an interrupted run of the
#                 same code, SOAK_FRESH=1 starts over)
#   make bench    the non-debug bench kernel: every client x server pair,
#                 TCP and the raw devices in interleaved rounds; table, JSON,
#                 plots (scripts/bench.sh, Documentation/benchmarks.md)
#   make bench-profile  perf's profile of random 4 KiB I/O, every pair
#   make mutants  cargo-mutants over the engine crate; prints its summary and
#                 the mutation score, fails below 95 % (25 min on 2 cores;
#                 MUTANTS_ARGS="-f src/wire/*.rs" scopes a run)
#
# Finer steps: deps, kernel, kernel-bench, initramfs, vm SCENARIOS="...",
# engine-test, harness-test, check. The build cache is $(SMBDRS_CACHE).

SMBDRS_CACHE ?= $(HOME)/.cache/smbdirect-rs
FLAVOR ?= debug
SCENARIOS ?= module interop-c-c-rxe
export SMBDRS_CACHE

.PHONY: demo test soak bench bench-profile deps kernel kernel-bench initramfs vm engine-test \
	mutants harness-test check clean-cache

demo: deps
	@scripts/demo.sh

test: deps
	@scripts/test.sh

soak: deps
	@scripts/soak.sh

bench: deps
	@scripts/bench.sh

bench-profile: deps
	@BENCH_PROFILE=1 scripts/bench.sh

deps:
	@scripts/install-deps.sh

kernel:
	@scripts/kernel.sh all $(FLAVOR)

kernel-bench:
	@scripts/kernel.sh all bench

initramfs:
	@qemu/mkinitramfs.sh $(FLAVOR)

vm: initramfs
	@qemu/run.py --flavor $(FLAVOR) $(foreach s,$(SCENARIOS),--scenario $(s))

engine-test:
	@scripts/engine-tests.sh

mutants:
	@scripts/mutants.sh $(MUTANTS_ARGS)

harness-test: initramfs
	@tests/harness/run.sh

check:
	@scripts/check-style.sh

clean-cache:
	rm -rf $(SMBDRS_CACHE)
