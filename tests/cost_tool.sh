#!/bin/sh
# make check: tools/cost-per-datagram.py runs and measures.  It counts the
# instructions of a few rows under callgrind with small counts, and checks
# what must hold whatever the figures: every row measured, the library's
# own share zero for the raw system calls and positive for the library's
# rows, and the same count twice for the same row, inline and threaded (the
# measure is deterministic).  No threshold: the figures live in docs/PERFORMANCE.md.
set -u
bench=$abs_top_builddir/tools/batchudp-bench
tool=$abs_top_srcdir/tools/cost-per-datagram.py
out=$abs_top_builddir/tests/cost-tool
skip() { echo "SKIP: $*"; exit 77; }

command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
# A sanitizer's runtime and valgrind cannot share a process.
grep -q -- '-fsanitize' "$abs_top_builddir/Makefile" &&
    skip "this build uses a sanitizer, which valgrind cannot run"
mkdir -p "$out" || exit 1

run() {
    python3 "$tool" --bench "$bench" --count 3000 --json "$1" --methods "$2" \
        > "$1.txt" 2>&1 || { cat "$1.txt"; echo "FAIL: the tool exited non-zero"; exit 1; }
}
run "$out/a.json" "raw-recvmmsg,mmsg,threaded (consumer),raw-sendmmsg,send"
run "$out/b.json" "mmsg,threaded (consumer)"
cat "$out/a.json.txt"

python3 - "$out/a.json" "$out/b.json" <<'PY'
import json, sys
a = {r["row"]: r for r in json.load(open(sys.argv[1]))["results"]}
b = {r["row"]: r for r in json.load(open(sys.argv[2]))["results"]}
failed = 0
def check(ok, what):
    global failed
    print(("ok - " if ok else "not ok - ") + what)
    failed += not ok
for row in ("raw-recvmmsg", "mmsg", "threaded (consumer)", "raw-sendmmsg", "send"):
    r = a.get(row)
    # The threaded rows count a queue their ring holds whole: 2000.
    check(r is not None and r["status"] == "ok" and r["datagrams"] >= 2000
          and r["per_datagram"] > 0, row + " measured")
for row in ("raw-recvmmsg", "raw-sendmmsg"):
    check(a[row]["library_per_datagram"] == 0, row + ": nothing counted in the library")
for row in ("mmsg", "threaded (consumer)", "send"):
    check(0 < a[row]["library_per_datagram"] <= a[row]["per_datagram"],
          row + ": the library's share is part of the row's count")
for row in ("mmsg", "threaded (consumer)"):
    x, y = a[row]["per_datagram"], b[row]["per_datagram"]
    check(abs(x - y) <= 0.01 * x,
          "%s counted twice: %.2f and %.2f, within 1%%" % (row, x, y))
sys.exit(1 if failed else 0)
PY
