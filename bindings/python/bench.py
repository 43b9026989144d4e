#!/usr/bin/env python3
"""Receive cost of the batchudp binding: recv(), recv_views(), async
batches() and a plain socket.recvfrom loop, against the bare C calls.

Drain method: the receiving socket's buffer is filled first with many
small datagrams (loopback), then only the receive side is timed, in CPU
time (time.process_time_ns: user + system), until the queue is empty.
Every round runs every method once, in a rotating order (interleaved
rounds), and the medians over the rounds are printed, in CPU nanoseconds
per datagram received.  The binding's own cost is measured in the same
process: each receive path minus the loop of bare ctypes calls to the C
function it makes (budp_recv_packed for recv() and batches(), budp_recv
for recv_views()), draining the same amount, round by round.  As the
kernel's share varies by more than the binding's cost from one round to
the next, --synthetic times the binding's own work alone, on batches made
up in memory.

    BATCHUDP_LIBRARY=BUILDDIR/lib/.libs/libbatchudp.so.1 \\
        python3 bindings/python/bench.py [--count 100000] [--size 64] [--synthetic]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import select
import socket
import statistics
import sys
import time
from typing import Callable, Dict, List, Tuple

# Use the package beside this script, writing no bytecode into the tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

import batchudp  # noqa: E402
from batchudp._lib import LIB, budp_addr  # noqa: E402

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)

Drain = Callable[[argparse.Namespace], Tuple[int, int]]


def payloads(args: argparse.Namespace) -> List[bytes]:
    """The datagrams of one round: --size bytes each, or with --size-max,
    sizes cycling through --size..--size-max (every length in the range)."""
    pattern = bytes(range(256)) * (max(args.size, args.size_max) // 256 + 1)
    out = []
    span = max(args.size_max - args.size + 1, 1)
    for i in range(args.count):
        size = args.size + i % span if args.size_max else args.size
        out.append((i.to_bytes(4, "big") + pattern)[:size])
    return out


def fill(dest: Tuple[str, int], args: argparse.Namespace) -> None:
    """Send the round's datagrams to dest.

    sender "plain": batchudp sends without GSO, so the receiver sees one
    datagram per packet (the receive side costs the same as after one
    sendto per datagram; the fill is only faster).
    sender "gso": batchudp sends with UDP GSO where the kernel has it (the
    receiving side then sees GRO super-datagrams when it asks for them).
    """
    items = [(p, dest) for p in payloads(args)]
    with batchudp.Socket.bind("127.0.0.1", 0, batch_size=64, gso=args.sender == "gso") as tx:
        # send() and a poll rather than sendall(), so that this script also
        # measures earlier versions of the package.
        sent = 0
        while sent < len(items):
            try:
                sent += tx.send(items[sent:sent + 1024])
            except BlockingIOError:
                select.select([], [tx.fd], [], 1.0)


def _bind(args: argparse.Namespace) -> batchudp.Socket:
    sock = batchudp.Socket.bind(
        "127.0.0.1", 0, recv_buffer=args.rcvbuf, batch_size=args.batch,
        max_datagram=max(2048, args.size_max),
    )
    fill(sock.local_addr(), args)
    return sock


def drain_recv(args: argparse.Namespace) -> Tuple[int, int]:
    """Socket.recv(batch) until empty."""
    with _bind(args) as sock:
        recv = sock.recv
        batch = args.batch
        n = 0
        t0 = time.process_time_ns()
        while True:
            got = recv(batch)
            if not got:
                break
            n += len(got)
        return n, time.process_time_ns() - t0


def drain_views(args: argparse.Namespace) -> Tuple[int, int]:
    """with Socket.recv_views(batch) as views, until empty."""
    with _bind(args) as sock:
        recv_views = sock.recv_views
        batch = args.batch
        n = 0
        t0 = time.process_time_ns()
        while True:
            with recv_views(batch) as views:
                k = len(views)
            if not k:
                break
            n += k
        return n, time.process_time_ns() - t0


def drain_batches(args: argparse.Namespace) -> Tuple[int, int]:
    """async for batch in Socket.batches(batch), until a short batch (the
    queue is empty: a batch is cut short only by an empty queue here)."""

    async def drain(sock: batchudp.Socket) -> int:
        n = 0
        batches = sock.batches(args.batch)
        try:
            async for got in batches:
                n += len(got)
                if len(got) < args.batch:
                    break
        finally:
            await batches.aclose()
        return n

    with _bind(args) as sock:
        loop = asyncio.new_event_loop()
        try:
            t0 = time.process_time_ns()
            n = loop.run_until_complete(drain(sock))
            return n, time.process_time_ns() - t0
        finally:
            loop.close()


def floor_packed(args: argparse.Namespace) -> Tuple[int, int]:
    """budp_recv_packed calls alone (into buffers made once): the library
    and kernel cost under recv(), without Python objects."""
    with _bind(args) as sock:
        batch = args.batch
        buf = ctypes.create_string_buffer(batch * sock.max_datagram)
        lens = (ctypes.c_uint32 * batch)()
        flags = (ctypes.c_uint32 * batch)()
        peers = (budp_addr * batch)()
        a_buf, a_lens = ctypes.addressof(buf), ctypes.addressof(lens)
        a_flags, a_peers = ctypes.addressof(flags), ctypes.addressof(peers)
        recv_packed, h, size = LIB.budp_recv_packed, sock._h, len(buf)
        n = 0
        t0 = time.process_time_ns()
        while True:
            k = recv_packed(h, a_buf, size, a_lens, a_flags, a_peers, batch)
            if k <= 0:
                break
            n += k
        return n, time.process_time_ns() - t0


def floor_views(args: argparse.Namespace) -> Tuple[int, int]:
    """budp_recv calls alone: the library and kernel cost under
    recv_views(), without Python objects."""
    with _bind(args) as sock:
        batch = args.batch
        out = ctypes.c_void_p()
        ref = ctypes.byref(out)
        recv, h = LIB.budp_recv, sock._h
        n = 0
        t0 = time.process_time_ns()
        while True:
            k = recv(h, ref, batch)
            if k <= 0:
                break
            n += k
        return n, time.process_time_ns() - t0


def drain_recvfrom(args: argparse.Namespace) -> Tuple[int, int]:
    """A socket.recvfrom loop (the standard library, one call each)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, args.rcvbuf)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        fill(sock.getsockname(), args)
        recvfrom = sock.recvfrom
        n = 0
        t0 = time.process_time_ns()
        try:
            while True:
                recvfrom(65536)
                n += 1
        except BlockingIOError:
            pass
        return n, time.process_time_ns() - t0


METHODS: Dict[str, Drain] = {
    "socket.recvfrom": drain_recvfrom,
    "Socket.recv": drain_recv,
    "Socket.recv_views": drain_views,
    "async batches()": drain_batches,
    "C budp_recv_packed": floor_packed,
    "C budp_recv": floor_views,
}

#: receive path -> the bare C call under it
FLOORS = {
    "Socket.recv": "C budp_recv_packed",
    "Socket.recv_views": "C budp_recv",
    "async batches()": "C budp_recv_packed",
}


def synthetic(args: argparse.Namespace) -> None:
    """The binding's own work per datagram with no kernel: recv()'s
    conversion of a filled packed buffer, and recv_views()' cutting of a
    budp_recv batch into views and their release, on batches made up in
    memory, freeing the results included (interleaved rounds, medians)."""
    import array
    import random
    import timeit

    from batchudp._recv import PackedReceiver
    from batchudp._views import DGRAM, Cutter

    n, stride = args.batch, 2048
    rng = random.Random(1)
    span = max(args.size_max - args.size + 1, 1)
    shapes = [[args.size + rng.randrange(span) if args.size_max else args.size
               for _ in range(n)] for _ in range(17 if args.size_max else 1)]
    slots = ctypes.create_string_buffer(n * stride)
    base = ctypes.addressof(slots)
    peer = bytes(budp_addr())
    tables = []
    for sizes in shapes:
        raw = b"".join(DGRAM.pack(base + i * stride, size, 0, peer, peer, 0, 0, 0)
                       for i, size in enumerate(sizes))
        tables.append(ctypes.create_string_buffer(raw, len(raw)))
    lens = [array.array("I", sizes) for sizes in shapes]
    rx = PackedReceiver(stride)
    rx._grow(n, n * stride)
    cutter = Cutter()
    turn = [0]

    def convert() -> None:
        turn[0] += 1
        a = lens[turn[0] % len(lens)]
        ctypes.memmove(rx.lens_addr, a.buffer_info()[0], 4 * n)
        rx._convert(n, [])

    def cut() -> None:
        turn[0] += 1
        cutter.views(ctypes.addressof(tables[turn[0] % len(tables)]), n).release()

    results: Dict[str, List[float]] = {"recv() conversion": [], "recv_views() cutting": []}
    for _ in range(args.rounds * 5):
        for name, fn in (("recv() conversion", convert), ("recv_views() cutting", cut)):
            results[name].append(timeit.timeit(fn, number=20) / 20 / n * 1e9)
    for name, values in results.items():
        print("%-22s %5.0f ns/datagram [%.0f-%.0f]"
              % (name, statistics.median(values), min(values), max(values)))


def run(args: argparse.Namespace) -> Dict[str, List[float]]:
    """ns/datagram of every method, round by round (interleaved)."""
    names = [m for m in METHODS if m in args.only] if args.only else list(METHODS)
    per: Dict[str, List[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            n, ns = METHODS[name](args)
            if n == 0:
                sys.exit("%s: nothing received (socket buffer too small?)" % name)
            if n < args.count * 0.95:
                print("  note: %s received %d of %d (kernel drops: raise --rcvbuf)"
                      % (name, n, args.count), file=sys.stderr)
            per[name].append(ns / n)
            if args.verbose:
                print("  round %d %-20s %7d datagrams %8.0f ns/datagram"
                      % (r + 1, name, n, ns / n))
    return per


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=100000, help="datagrams per round")
    p.add_argument("--size", type=int, default=64, help="bytes per datagram")
    p.add_argument("--size-max", type=int, default=0,
                   help="sizes cycle from --size to this (0: all --size)")
    p.add_argument("--batch", type=int, default=256, help="batch_size and max per receive")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--rcvbuf", type=int, default=256 << 20, help="SO_RCVBUF bytes")
    p.add_argument("--sender", choices=("plain", "gso"), default="plain",
                   help="plain: one datagram per packet; gso: UDP GSO sends, "
                   "which the binding receives through GRO")
    p.add_argument("--only", nargs="*", choices=list(METHODS), default=None,
                   help="run only these methods")
    p.add_argument("--synthetic", action="store_true",
                   help="time the binding's own work alone, on batches made up in "
                   "memory (no socket, no kernel)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()

    with batchudp.Socket.bind("127.0.0.1", 0) as probe:
        backend = probe.backend
    sizes = "%d-%d" % (args.size, args.size_max) if args.size_max else "%d" % args.size
    print("libbatchudp %s (%s), backend %s, Python %s"
          % (batchudp.library_version_string(), batchudp.library_path, backend,
             sys.version.split()[0]))
    if args.synthetic:
        print("synthetic: batches of %d datagrams of %s bytes made up in memory, %d "
              "interleaved rounds, medians [min-max], ns per datagram"
              % (args.batch, sizes, args.rounds * 5))
        synthetic(args)
        return 0
    print("drain: %d datagrams of %s bytes per round, %s sender, batch %d, %d interleaved "
          "rounds, medians [min-max], CPU ns per datagram"
          % (args.count, sizes, args.sender, args.batch, args.rounds))
    per = run(args)
    base = statistics.median(per["socket.recvfrom"]) if "socket.recvfrom" in per else None
    for name, values in per.items():
        med = statistics.median(values)
        ratio = " %5.2fx recvfrom's speed" % (base / med) if base else ""
        print("%-20s %7.0f [%.0f-%.0f]%s" % (name, med, min(values), max(values), ratio))
    for name, floor in FLOORS.items():
        if name in per and floor in per:
            diffs = [a - b for a, b in zip(per[name], per[floor])]
            print("binding cost of %-17s %5.0f ns/datagram over %s (median of the rounds' "
                  "differences, [%.0f-%.0f])"
                  % (name, statistics.median(diffs), floor, min(diffs), max(diffs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
