"""Threaded mode: a receiver thread fills a ring that recv() pops."""

from __future__ import annotations

import asyncio
import selectors
import threading
import time

import batchudp
from conftest import bind_threaded, recv_n


def test_threaded_round_trip() -> None:
    with bind_threaded(ring_capacity=64, batch_size=16) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0) as tx:
        assert rx.threaded
        dest = rx.local_addr()
        payloads = [b"t%04d" % i for i in range(400)]
        sent = 0
        got = []
        while sent < len(payloads):
            sent += tx.send([(p, dest) for p in payloads[sent:sent + 32]])
            got.extend(recv_n(rx, min(sent, len(payloads)) - len(got), timeout=5))
        got.extend(recv_n(rx, len(payloads) - len(got)))
        assert [d.data for d in got] == payloads
        assert rx.fileno() != rx.fd  # the notify fd, not the socket


def test_threaded_views_and_selectors() -> None:
    with bind_threaded() as rx, batchudp.Socket.bind("127.0.0.1", 0) as tx:
        with selectors.DefaultSelector() as sel:
            sel.register(rx, selectors.EVENT_READ)
            tx.send([(b"ring", rx.local_addr())])
            assert sel.select(timeout=5)
            views = []
            deadline = time.monotonic() + 5
            while not views and time.monotonic() < deadline:
                with rx.recv_views() as batch:
                    views = [bytes(v) for v in batch]
                if not views:
                    rx.wait(0.1)
            assert views == [b"ring"]


def test_threaded_asyncio() -> None:
    with bind_threaded() as rx, batchudp.Socket.bind("127.0.0.1", 0) as tx:
        dest = rx.local_addr()

        async def main():
            asyncio.get_running_loop().call_later(0.05, tx.send, [(b"async", dest)])
            return await rx.recv_async()

        got = asyncio.run(asyncio.wait_for(main(), 20))
        assert [d.data for d in got] == [b"async"]


def test_threaded_dispatch() -> None:
    with bind_threaded() as rx, batchudp.Socket.bind("127.0.0.1", 0) as tx:
        seen = []
        rx.on_datagrams(seen.extend)
        tx.send([(b"d%d" % i, rx.local_addr()) for i in range(10)])
        deadline = time.monotonic() + 5
        while len(seen) < 10 and time.monotonic() < deadline:
            if rx.dispatch() == 0:
                rx.wait(0.1)
        assert [d.data for d in seen] == [b"d%d" % i for i in range(10)]


def test_callback_on_the_receiver_thread() -> None:
    with bind_threaded(callback_thread=True) as rx, batchudp.Socket.bind("127.0.0.1", 0) as tx:
        seen = []
        threads = set()
        done = threading.Event()

        def fn(batch):
            threads.add(threading.get_ident())
            seen.extend(d.data for d in batch)
            if len(seen) >= 10:
                done.set()

        rx.on_datagrams(fn)
        tx.send([(b"c%d" % i, rx.local_addr()) for i in range(10)])
        assert done.wait(5)
        assert seen == [b"c%d" % i for i in range(10)]
        assert threading.get_ident() not in threads
