#!/usr/bin/env python3
"""cost-per-datagram.py: user-space instructions per datagram of every way of
receiving and sending, counted by valgrind's callgrind.

CPU time cannot see the library's own cost here: the kernel's work per
datagram is ten times larger and swings by +-10% from run to run.  An
instruction count can: it leaves the kernel out (callgrind counts user space
only) and is the same from run to run.  Each method runs alone, in its own
batchudp-bench process under callgrind, with collection on only inside the
measured calls:

  receive (drain mode)  rx_wait_count: the receive loop over the queued
                        datagrams, with the bench's own reading of each one
                        (length and first byte), as in every row
  library receiver      receiver_main: the library's receiver thread, for
                        the threaded rows (its instructions are reported
                        apart from the consumer's)
  send (send mode)      tx_send: the send calls

and the count is divided by the datagrams the bench received (sent).  The
"library" column is the part spent in libbatchudp itself (callgrind's cost
by object); the rest is the caller's loop and libc's system call wrappers.

Usage: tools/cost-per-datagram.py [--bench PATH] [--count N] [--batch N]
                                  [--methods LIST] [--json FILE]
PATH is a built or installed batchudp-bench; a libtool wrapper in a build
directory is run through that directory's libtool.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# (row, bench method, bench mode, datagram size, thread): thread "main" is
# the bench's calling thread, "receiver" the library's receiver thread.
# The threaded rows let the receiver thread take the whole queue first
# (--settle): then neither thread's count depends on how the two
# interleave.  Their ring (a power of two) must hold the queue.
THREADED_COUNT = 2000
THREADED_RING = 2048
ROWS = [
    ("recvfrom", "recvfrom", "drain", 64, "main"),
    ("raw-recvmmsg", "raw-recvmmsg", "drain", 64, "main"),
    ("mmsg", "mmsg", "drain", 64, "main"),
    ("packed", "packed", "drain", 64, "main"),
    ("dispatch", "dispatch", "drain", 64, "main"),
    ("loop", "loop", "drain", 64, "main"),
    ("threaded (consumer)", "threaded", "drain", 64, "main"),
    ("threaded (receiver)", "threaded", "drain", 64, "receiver"),
    ("threaded-cb (receiver)", "threaded-cb", "drain", 64, "receiver"),
    ("uring", "uring", "drain", 64, "main"),
    ("threaded-uring (consumer)", "threaded-uring", "drain", 64, "main"),
    ("threaded-uring (receiver)", "threaded-uring", "drain", 64, "receiver"),
    ("raw-recvmmsg 1400", "raw-recvmmsg", "drain", 1400, "main"),
    ("gro-off 1400", "gro-off", "drain", 1400, "main"),
    ("gro 1400", "gro", "drain", 1400, "main"),
    ("gro-uring 1400", "gro-uring", "drain", 1400, "main"),
    ("raw-sendto", "raw-sendto", "send", 64, "main"),
    ("raw-sendmmsg", "raw-sendmmsg", "send", 64, "main"),
    ("send", "send", "send", 64, "main"),
    ("send-uring", "send-uring", "send", 64, "main"),
    ("raw-sendmmsg 1400", "raw-sendmmsg", "send", 1400, "main"),
    ("send-gso 1400", "send-gso", "send", 1400, "main"),
    ("send-gso-uring 1400", "send-gso-uring", "send", 1400, "main"),
    ("send-zc 1400", "send-zc", "send", 1400, "main"),
]

TOGGLES = ["rx_wait_count", "receiver_main", "tx_send"]
LIBRARY = "libbatchudp"


def cost_by_object(path, names):
    """Self Ir per object (ELF file) of one callgrind output file.  names
    maps compressed object ids to names; callgrind defines each name once
    per run, in whichever thread's file mentions it first, so the files of
    a run are read in order with one table."""
    current = None
    skip_next = False
    costs = {}
    events = None
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
                continue
            if line.startswith(("ob=", "cob=")):
                key, _, rest = line.rstrip("\n").partition("=")
                m = re.match(r"(?:\((\d+)\))?\s*(.*)", rest)
                ident, name = m.group(1), m.group(2)
                if ident is not None and name:
                    names[ident] = name
                if key == "ob":
                    current = names.get(ident, name) if ident is not None else name
                continue
            if line.startswith("calls="):
                skip_next = True   # the next cost line is the callee's, inclusive
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    costs[current] = costs.get(current, 0) + int(parts[1])
    if events is None or events[0] != "Ir":
        raise RuntimeError(f"{path}: no Ir events")
    return costs


def thread_files(outdir, base):
    """The per-thread output files of one run, thread 1 first."""
    files = [p for p in glob.glob(os.path.join(outdir, base + "-*"))
             if re.fullmatch(re.escape(base) + r"-\d+", os.path.basename(p))]
    return sorted(files, key=lambda p: int(p.rsplit("-", 1)[1]))


def bench_command(bench):
    """How to start the bench: a libtool wrapper goes through libtool."""
    builddir = os.path.dirname(os.path.dirname(os.path.abspath(bench)))
    libtool = os.path.join(builddir, "libtool")
    with open(bench, "rb") as f:
        script = f.read(2) == b"#!"
    if script and os.path.exists(libtool):
        return [libtool, "--mode=execute"]
    return []


def run_row(bench, row, args, outdir):
    name, method, mode, size, thread = row
    base = "cg." + re.sub(r"[^a-z0-9]+", "-", name)
    count = args.count
    extra = []
    if method.startswith("threaded"):
        count = min(count, THREADED_COUNT)
        extra = ["--settle", "--ring", str(THREADED_RING)]
    json_path = os.path.join(outdir, "bench." + base + ".json")
    cmd = bench_command(bench) + [
        "valgrind", "--tool=callgrind", "--collect-atstart=no",
        "--separate-threads=yes", "--dump-line=yes", "--dump-instr=no",
        "--callgrind-out-file=" + os.path.join(outdir, base),
    ] + ["--toggle-collect=" + t for t in TOGGLES] + [
        bench, "--mode", mode, "--methods", method, "--no-reference",
        "--no-warmup", "--reps", "1", "--size", str(size),
        "--count", str(count), "--batch", str(args.batch),
        "--json", json_path,
    ] + extra
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{name}: {' '.join(cmd)} exited {done.returncode}\n"
                           + done.stdout + done.stderr)
    result = json.load(open(json_path))["results"][0]
    if result["status"] != "ok":
        return {"row": name, "status": result["status"],
                "note": result.get("note", "")}
    datagrams = result["samples"][0]["datagrams"]
    names = {}
    per_thread = [cost_by_object(f, names) for f in thread_files(outdir, base)]
    # Thread 1 is the bench's; the library's receiver thread is the one
    # that ran receiver_main, the only other thread collecting.
    if thread == "main":
        chosen = per_thread[:1]
    else:
        chosen = [c for c in per_thread[1:] if sum(c.values()) > 0]
    total = lib = 0
    for costs in chosen:
        for obj, ir in costs.items():
            total += ir
            if obj and LIBRARY in os.path.basename(obj):
                lib += ir
    if datagrams == 0 or total == 0:
        raise RuntimeError(f"{name}: nothing counted ({datagrams} datagrams)")
    return {"row": name, "status": "ok", "method": method, "mode": mode,
            "size": size, "thread": thread, "datagrams": datagrams,
            "instructions": total, "per_datagram": total / datagrams,
            "library_per_datagram": lib / datagrams}


def main():
    ap = argparse.ArgumentParser(
        description="User-space instructions per datagram under callgrind.")
    ap.add_argument("--bench", default=shutil.which("batchudp-bench"),
                    help="batchudp-bench to run (default: the one on PATH)")
    ap.add_argument("--count", type=int, default=50000,
                    help="datagrams per method [50000]")
    ap.add_argument("--batch", type=int, default=32,
                    help="datagrams per call [32]")
    ap.add_argument("--methods",
                    help="comma-separated rows to run (names as printed)")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args()
    if not args.bench or not os.path.exists(args.bench):
        sys.exit("cost-per-datagram: no batchudp-bench (give --bench PATH)")
    if shutil.which("valgrind") is None:
        sys.exit("cost-per-datagram: valgrind is not installed")
    rows = ROWS
    if args.methods:
        wanted = args.methods.split(",")
        unknown = [w for w in wanted if w not in [r[0] for r in ROWS]]
        if unknown:
            sys.exit("cost-per-datagram: unknown rows: " + ", ".join(unknown)
                     + "\nrows: " + ", ".join(r[0] for r in ROWS))
        rows = [r for r in ROWS if r[0] in wanted]

    print(f"user-space instructions per datagram, {args.count} datagrams, "
          f"batch {args.batch} (callgrind)")
    print(f"{'row':<24}{'datagrams':>10}{'instr/dgram':>13}{'library':>9}")
    results = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="budp-cost.") as outdir:
        for row in rows:
            try:
                r = run_row(args.bench, row, args, outdir)
            except RuntimeError as e:
                print(f"{row[0]:<24}FAILED: {e}", file=sys.stderr)
                print(f"{row[0]:<24}FAILED")
                failed = True
                continue
            results.append(r)
            if r["status"] != "ok":
                print(f"{r['row']:<24}n/a ({r['note']})")
                continue
            print(f"{r['row']:<24}{r['datagrams']:>10}{r['per_datagram']:>13.1f}"
                  f"{r['library_per_datagram']:>9.1f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"count": args.count, "batch": args.batch,
                       "results": results}, f, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
