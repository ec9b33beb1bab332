#!/usr/bin/env bash
# The VM harness's own tests: scenarios that fail on purpose, and checks that
# qemu/run.py reports each of them as failing, for the right reason.
#
#   tests/harness/run.sh            all of them
#   FLAVOR=debug tests/harness/run.sh
#
# The deliberate-failure scenarios live in tests/harness/scenarios/, apart
# from the normal list in qemu/guest/scenarios/, so run.py never runs them
# unless named. Each says what must be detected in its header:
#   # smbdrs-expect: check:NAME    status fail, the failed check NAME
#   # smbdrs-expect: report:KIND   status fail, a kernel report of KIND
#   # smbdrs-expect: timeout       status timeout, found within the timeout
#   # smbdrs-expect: upstream-fail a report in upstream-only code: shown,
#                                  counted apart, not a failure
#   # smbdrs-expect: parts:A=pass,B=fail,...
#                                  a suite failing, with these verdicts of
#                                  its parts (part in qemu/guest/lib.sh)
# A self-test passes when run.py detected the failure. Prints
# "harness: N passed, N failed"; exits non-zero if any self-test failed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/scripts/lib.sh"
flavor=${FLAVOR:-debug}
out=${SMBDRS_HARNESS_OUT:-$repo/results/harness/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

"$repo/qemu/mkinitramfs.sh" "$flavor" || die "initramfs build failed"

passed=0
failed=0
result() { # NAME OK MESSAGE
	if [ "$2" = ok ]; then
		passed=$((passed + 1))
		echo "harness: ok   $1${3:+: $3}"
	else
		failed=$((failed + 1))
		echo "harness: FAIL $1${3:+: $3}"
	fi
}

# Every scenario under tests/harness/scenarios is a deliberate failure and
# must stay out of run.py's default list.
listed=$(python3 - "$repo" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1] + "/qemu")
import importlib.util
spec = importlib.util.spec_from_file_location("run", sys.argv[1] + "/qemu/run.py")
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)
s = run.all_scenarios()
print(" ".join(n for n, v in s.items() if not v.selftest and n.startswith("selftest")) or "-",
      " ".join(n for n, v in s.items() if v.selftest))
EOF
)
read -r leaked selftests <<<"$listed"
if [ "$leaked" = "-" ] && [ -n "$selftests" ]; then
	result default-list ok "deliberate failures kept out of the default list: $selftests"
else
	result default-list fail "default list holds deliberate failures: $leaked"
fi

# run_py NAME PASSED ARGS...: one run.py invocation; it must exit non-zero
# with the last line "vm: PASSED passed, N failed" (N > 0; PASSED counts
# the self-tests' passing parts). Then each verdict is checked (verdicts).
run_py() {
	local name=$1 want=$2 rc last
	shift 2
	log "run.py $*"
	"$repo/qemu/run.py" --flavor "$flavor" --no-initramfs --out "$out/$name" "$@" \
		>"$out/$name.log" 2>&1
	rc=$?
	last=$(tail -n 1 "$out/$name.log")
	if [ $rc -ne 0 ] && [[ $last =~ ^vm:\ $want\ passed,\ [1-9][0-9]*\ failed$ ]]; then
		result "$name-exit" ok "run.py exited $rc, last line '$last'"
	else
		result "$name-exit" fail "run.py exited $rc, last line '$last' (see $out/$name.log)"
	fi
}

# verdicts NAME: check each scenario in NAME's summary against its header.
verdicts() {
	local line
	while IFS= read -r line; do
		case $line in
		ok\ *) result "${line#ok }" ok "" ;;
		*) result "${line#fail }" fail "" ;;
		esac
	done < <(python3 - "$out/$1/summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for r in s["scenarios"]:
    exp = r["expect"] or ""
    kind, _, what = exp.partition(":")
    reasons = r["reasons"]
    if kind == "check":
        good = r["status"] == "fail" and any(
            x["kind"] == "check" and ("check %s failed" % what) == x["message"] for x in reasons)
    elif kind == "report":
        good = r["status"] == "fail" and any(
            x["kind"] == "report" and x["message"].startswith("kernel report: %s:" % what)
            and x["excerpt"] for x in reasons)
    elif kind == "upstream-fail":
        good = r["status"] == "upstream-fail" and bool(r["upstream_reports"]) and not reasons
    elif kind == "parts":
        want = dict(x.split("=") for x in what.split(","))
        got_parts = {p["name"]: p["status"] for p in r.get("parts", [])}
        good = r["status"] == "fail" and got_parts == want
        reasons = [dict(kind="part %s" % n, message=st) for n, st in got_parts.items()] + reasons
    elif kind == "timeout":
        good = r["status"] == "timeout" and any(x["kind"] == "timeout" for x in reasons)
    else:
        good = False
    got = "; ".join("%s: %s" % (x["kind"], x["message"][:100])
                    for x in reasons[:4] + [dict(kind="upstream report", message=u["line"])
                                            for u in r["upstream_reports"][:1]]) or "none"
    print("%s %s: expected %s, got status %s (%s) in %.0f s"
          % ("ok" if good else "fail", r["name"], exp or "?", r["status"], got, r["duration_s"]))
EOF
	)
}

# Two guests at once (SMBDRS_VM_JOBS overrides): a guest keeps about one
# host CPU busy under TCG, and none of these depends on timing but the
# hang below, which runs alone.
run_py failures 2 --jobs "${SMBDRS_VM_JOBS:-2}" --scenario selftest-assert --scenario selftest-checksum \
	--scenario selftest-lkdtm-warn --scenario selftest-lkdtm-bug \
	--scenario selftest-fault-window --scenario selftest-hung-task \
	--scenario selftest-kmemleak --scenario selftest-upstream-warn \
	--scenario selftest-upstream-ours --scenario selftest-parts
verdicts failures
if grep -qx 'vm: 1 upstream-failed (upstream code only, not counted as failures): selftest-upstream-warn' \
	"$out/failures.log"; then
	result upstream-line ok "upstream failure listed before the final line, not counted"
else
	result upstream-line fail "no upstream-failed line for selftest-upstream-warn in $out/failures.log"
fi

t0=$SECONDS
run_py hang 0 --scenario selftest-hang --timeout 30
verdicts hang
took=$((SECONDS - t0))
if [ $took -lt 90 ]; then
	result hang-quick ok "hung guest detected and killed, whole run.py took $took s"
else
	result hang-quick fail "hung guest took $took s to detect"
fi

echo "harness: logs in $out"
echo "harness: $passed passed, $failed failed"
[ $failed -eq 0 ]
