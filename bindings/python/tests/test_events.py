"""Event loops: asyncio, selectors and select on fileno()."""

from __future__ import annotations

import asyncio
import select
import selectors

import pytest

import batchudp
from batchudp import _recv


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_recv_async_waits_for_data(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, tx.send, [(b"later", dest)])
        return await rx.recv_async()

    got = run(main())
    assert [d.data for d in got] == [b"later"]


def test_async_stream_across_batches() -> None:
    count = 500
    with batchudp.Socket.bind("127.0.0.1", 0, batch_size=16) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0) as tx:
        dest = rx.local_addr()
        payloads = [b"%05d" % i for i in range(count)]

        async def produce():
            for i in range(0, count, 50):
                tx.send([(p, dest) for p in payloads[i:i + 50]])
                await asyncio.sleep(0.01)

        async def main():
            producer = asyncio.ensure_future(produce())
            got = []
            async for d in rx.datagrams():
                got.append(d.data)
                if len(got) == count:
                    break
            await producer
            return got

        assert run(main()) == payloads


def test_async_sleeps_without_busy_loop(pair, monkeypatch) -> None:
    rx, _ = pair
    calls = []
    real = _recv._budp_recv_packed

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(_recv, "_budp_recv_packed", counting)

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(rx.recv_async(), 0.3)

    run(main())
    # one receive before sleeping; a busy loop would make thousands
    assert 1 <= len(calls) <= 3


def test_cancelled_wait_leaves_the_socket_usable(pair) -> None:
    rx, tx = pair

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(rx.recv_async(), 0.05)
        asyncio.get_running_loop().call_later(0.05, tx.send, [(b"x", rx.local_addr())])
        return await rx.recv_async()

    assert [d.data for d in run(main())] == [b"x"]


def test_one_waiter_at_a_time(pair) -> None:
    rx, _ = pair

    async def main():
        first = asyncio.ensure_future(rx.recv_async())
        await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError):
            await rx.recv_async()
        first.cancel()

    run(main())


def test_close_wakes_the_waiter_and_ends_the_stream(pair) -> None:
    rx, _ = pair

    async def waiter():
        with pytest.raises(batchudp.ClosedError):
            await rx.recv_async()

    async def stream():
        return [d async for d in rx.datagrams()]

    async def main():
        task = asyncio.ensure_future(waiter())
        await asyncio.sleep(0.02)
        rx.close()
        await task

    run(main())

    async def main2():
        return await stream()

    assert run(main2()) == []


def test_selectors(pair) -> None:
    rx, tx = pair
    sel = selectors.DefaultSelector()
    try:
        sel.register(rx, selectors.EVENT_READ)
        assert sel.select(timeout=0) == []
        tx.send([(b"sel", rx.local_addr())])
        events = sel.select(timeout=5)
        assert [key.fileobj for key, _ in events] == [rx]
        assert [d.data for d in rx.recv()] == [b"sel"]
        rx.close()
        sel.unregister(rx)  # works after close, as for a closed socket.socket
    finally:
        sel.close()


def test_select(pair) -> None:
    rx, tx = pair
    assert select.select([rx], [], [], 0) == ([], [], [])
    tx.send([(b"s", rx.local_addr())])
    readable, _, _ = select.select([rx], [], [], 5)
    assert readable == [rx]
    assert [d.data for d in rx.recv()] == [b"s"]


def test_wait(pair) -> None:
    rx, tx = pair
    assert rx.wait(0) is False
    assert rx.wait(0.05) is False
    tx.send([(b"w", rx.local_addr())])
    assert rx.wait(5) is True
    assert rx.wait() is True
    assert [d.data for d in rx.recv()] == [b"w"]
