"""Threaded mode: a receiver thread fills a ring that recv() pops."""

from __future__ import annotations

import asyncio
import errno
import selectors
import threading
import time

import pytest

import batchudp
from conftest import bind_threaded, closed_port, recv_n


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


@pytest.mark.parametrize("outcome", ["returns 1", "raises"])
def test_receiver_thread_goes_on_whatever_the_handler_does(outcome: str, capfd) -> None:
    # The trampoline answers BUDP_CALLBACK_CONTINUE on every path: a handler
    # that returns 1 (BUDP_CALLBACK_PAUSE's value, as `sock.send(...)` or
    # `list.append(...) or 1` may) or raises must not stop the receiver
    # thread, or the second datagram would never arrive.
    with bind_threaded(callback_thread=True) as rx, batchudp.Socket.bind("127.0.0.1", 0) as tx:
        seen = []
        arrived = threading.Semaphore(0)

        def fn(batch):
            seen.extend(d.data for d in batch)
            arrived.release()
            if outcome == "raises":
                raise RuntimeError("handler failed")
            return 1

        rx.on_datagrams(fn)
        tx.send([(b"first", rx.local_addr())])
        assert arrived.acquire(timeout=5)
        tx.send([(b"second", rx.local_addr())])
        assert arrived.acquire(timeout=5), "the receiver thread stopped after the first batch"
        assert seen == [b"first", b"second"]
    assert "Exception ignored" not in capfd.readouterr().err


def test_wait_reports_receiver_errors_in_callback_thread_mode() -> None:
    with bind_threaded(callback_thread=True) as sock:
        seen = []
        got = threading.Event()

        def fn(batch):
            seen.extend(d.data for d in batch)
            got.set()

        sock.on_datagrams(fn)
        # Nothing to receive: a quiet socket just times out.
        t0 = time.monotonic()
        assert sock.wait(0.05) is False
        assert time.monotonic() - t0 >= 0.04
        sock.connect("127.0.0.1", closed_port())
        refused = None
        deadline = time.monotonic() + 5
        while refused is None and time.monotonic() < deadline:
            try:
                sock.send([b"anyone?"])
            except ConnectionRefusedError:
                continue  # the send took the error first: try again
            try:
                sock.wait(0.1)
            except ConnectionRefusedError as exc:
                refused = exc
        assert refused is not None, "wait() reported no ECONNREFUSED"
        assert refused.errno == errno.ECONNREFUSED
        assert sock.stats().rx_errors >= 1
        # A transient error leaves the receiver thread running.
        with batchudp.Socket.bind("127.0.0.1", 0) as peer:
            sock.connect(*peer.local_addr())
            peer.send([(b"still here", sock.local_addr())])
            assert got.wait(5)
        assert seen == [b"still here"]


def test_wait_in_callback_thread_mode_wakes_on_close() -> None:
    sock = bind_threaded(callback_thread=True)
    sock.on_datagrams(lambda batch: None)
    outcome = []

    def waiter():
        try:
            outcome.append(sock.wait())
        except batchudp.ClosedError:
            outcome.append("closed")

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.1)
    sock.close()
    t.join(5)
    assert not t.is_alive()
    assert outcome == ["closed"]
