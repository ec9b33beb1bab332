#!/usr/bin/env python3
"""The largest stack frames of a kernel module, and a limit on them.

    tools/stack-frames.py MODULE.ko [--limit BYTES] [--top N]

Reads `objdump -d` and takes each function's `sub $N,%rsp` in its
prologue as its frame. A kernel stack is 16 KiB on x86-64 without KASAN
(KASAN doubles it, so the debug kernel hides overflows): a connection set
up from a mount once overflowed it through a 12 KiB frame. Exits 1 when a
frame is above the limit (default 4096 bytes), listing the largest.
"""

import argparse
import re
import subprocess
import sys


def frames(module):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", module], check=True,
                         capture_output=True, text=True).stdout
    fn, sizes = None, {}
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            fn = m.group(1)
            continue
        m = re.search(r"sub\s+\$0x([0-9a-f]+),%rsp", line)
        if m and fn:
            sizes[fn] = max(sizes.get(fn, 0), int(m.group(1), 16))
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("module")
    ap.add_argument("--limit", type=int, default=4096)
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args()
    sizes = sorted(((v, f) for f, v in frames(args.module).items()), reverse=True)
    for v, f in sizes[:args.top]:
        print("%6d %s" % (v, f[:140]))
    over = [(v, f) for v, f in sizes if v > args.limit]
    if over:
        print("stack-frames: %d functions above %d bytes" % (len(over), args.limit))
        return 1
    print("stack-frames: largest %d bytes, limit %d" % (sizes[0][0] if sizes else 0, args.limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
