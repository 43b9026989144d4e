#!/usr/bin/env python3
"""Receive cost of the batchudp binding against a plain socket.recvfrom loop.

Drain method: a sender fills the receiving socket's buffer with many small
datagrams first (loopback), then only the receive side is timed, in CPU
time (time.process_time_ns: user + system), until the queue is empty.  The
figure is CPU nanoseconds per datagram received; the best of several rounds
is kept for each method.

    BATCHUDP_LIBRARY=BUILDDIR/lib/.libs/libbatchudp.so.1 \\
        python3 bindings/python/bench.py [--count 50000] [--size 64]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import socket
import sys
import time
from typing import Callable, List, Tuple

# Use the package beside this script, writing no bytecode into the tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

import batchudp  # noqa: E402

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def fill(dest: Tuple[str, int], count: int, size: int, sender: str = "plain") -> None:
    """Send count datagrams of size bytes to dest.

    sender "plain": one sendto per datagram from a plain socket.
    sender "gso": batchudp sends, which coalesce runs of equal-size
    datagrams into UDP GSO sends where the kernel has them (the receiving
    side then sees GRO super-datagrams when it asks for them).
    """
    payload = bytes(range(256)) * (size // 256 + 1)
    if sender == "gso":
        with batchudp.Socket.bind("127.0.0.1", 0, batch_size=64, gso=True) as tx:
            datagrams = [((i.to_bytes(4, "big") + payload)[:size], dest) for i in range(count)]
            sent = 0
            while sent < count:
                try:
                    sent += tx.send(datagrams[sent:sent + 1024])
                except BlockingIOError:
                    time.sleep(0.001)
        return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for i in range(count):
            data = (i.to_bytes(4, "big") + payload)[:size]
            while True:
                try:
                    tx.sendto(data, dest)
                    break
                except BlockingIOError:  # sender buffer full: retry
                    time.sleep(0.001)


def drain_binding(args: argparse.Namespace) -> Tuple[int, int]:
    """(datagrams, CPU ns) for the binding's recv()."""
    with batchudp.Socket.bind(
        "127.0.0.1", 0, recv_buffer=args.rcvbuf, batch_size=args.batch
    ) as sock:
        fill(sock.local_addr(), args.count, args.size, args.sender)
        recv = sock.recv
        batch = args.batch
        n = 0
        t0 = time.process_time_ns()
        while True:
            got = recv(batch)
            if not got:
                break
            n += len(got)
        t1 = time.process_time_ns()
        return n, t1 - t0


def drain_floor(args: argparse.Namespace) -> Tuple[int, int]:
    """(datagrams, CPU ns) for budp_recv_packed calls alone: the library and
    kernel cost that any binding pays, without building Python objects."""
    from batchudp._lib import LIB

    with batchudp.Socket.bind(
        "127.0.0.1", 0, recv_buffer=args.rcvbuf, batch_size=args.batch
    ) as sock:
        fill(sock.local_addr(), args.count, args.size, args.sender)
        batch = args.batch
        buf = ctypes.create_string_buffer(batch * sock.max_datagram)
        lens = (ctypes.c_uint32 * batch)()
        flags = (ctypes.c_uint32 * batch)()
        peers = (batchudp._lib.budp_addr * batch)()
        addrs = (ctypes.addressof(buf), ctypes.addressof(lens), ctypes.addressof(flags),
                 ctypes.addressof(peers))
        recv_packed, h, size = LIB.budp_recv_packed, sock._h, len(buf)
        n = 0
        t0 = time.process_time_ns()
        while True:
            k = recv_packed(h, addrs[0], size, addrs[1], addrs[2], addrs[3], batch)
            if k <= 0:
                break
            n += k
        t1 = time.process_time_ns()
        return n, t1 - t0


def drain_recvfrom(args: argparse.Namespace) -> Tuple[int, int]:
    """(datagrams, CPU ns) for a socket.recvfrom loop."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, args.rcvbuf)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        fill(sock.getsockname(), args.count, args.size, args.sender)
        recvfrom = sock.recvfrom
        n = 0
        t0 = time.process_time_ns()
        try:
            while True:
                recvfrom(65536)
                n += 1
        except BlockingIOError:
            pass
        t1 = time.process_time_ns()
        return n, t1 - t0


def best(name: str, fn: Callable[[argparse.Namespace], Tuple[int, int]],
         args: argparse.Namespace) -> float:
    """Best ns/datagram over args.rounds rounds; prints each round."""
    results: List[float] = []
    for r in range(args.rounds):
        n, ns = fn(args)
        if n == 0:
            sys.exit("%s: nothing received (socket buffer too small?)" % name)
        per = ns / n
        results.append(per)
        if args.verbose:
            print("  %-9s round %d: %6d datagrams, %8.0f ns/datagram" % (name, r + 1, n, per))
        if n < args.count * 0.9:
            print("  note: %s received %d of %d (kernel drops: raise --rcvbuf)"
                  % (name, n, args.count), file=sys.stderr)
    return min(results)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=50000, help="datagrams per round")
    p.add_argument("--size", type=int, default=64, help="bytes per datagram")
    p.add_argument("--batch", type=int, default=256, help="binding batch_size and recv max")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--rcvbuf", type=int, default=256 << 20, help="SO_RCVBUF bytes")
    p.add_argument("--sender", choices=("plain", "gso"), default="plain",
                   help="plain: one sendto per datagram; gso: batchudp sends "
                   "(UDP GSO where available), which the binding receives "
                   "through GRO")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()

    probe = batchudp.Socket.bind("127.0.0.1", 0)
    backend = probe.backend
    probe.close()
    print("libbatchudp %s (%s), backend %s, Python %s"
          % (batchudp.library_version_string(), batchudp.library_path, backend,
             sys.version.split()[0]))
    print("drain: %d datagrams of %d bytes, %s sender, batch %d, best of %d rounds, "
          "CPU time" % (args.count, args.size, args.sender, args.batch, args.rounds))
    plain = best("recvfrom", drain_recvfrom, args)
    binding = best("batchudp", drain_binding, args)
    floor = best("floor", drain_floor, args)
    print("socket.recvfrom loop : %7.0f ns/datagram" % plain)
    print("batchudp Socket.recv : %7.0f ns/datagram" % binding)
    print("ratio                : %7.2fx fewer CPU ns per datagram" % (plain / binding))
    print("floor (C calls only) : %7.0f ns/datagram (budp_recv_packed without "
          "Python objects; the binding adds %.0f)" % (floor, binding - floor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
