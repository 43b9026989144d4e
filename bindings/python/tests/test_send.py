"""Sending: what send() takes, and sendall()/send_all(), which wait for the
UDP socket to be writable instead of raising BlockingIOError, and sleep
while the interface's queue is full instead of raising ENOBUFS."""

from __future__ import annotations

import asyncio
import errno
import threading
import time
from typing import Any, List

import pytest

import batchudp
from batchudp import OutgoingDatagram
from conftest import HeldWriters, SendGate, SleepLog, recv_n


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


# --- what send() takes ---------------------------------------------------------


def test_send_takes_any_sequence_pair_and_outgoing_datagrams(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    items: List[Any] = [
        (b"tuple", dest),
        [b"list", dest],
        (bytearray(b"bytearray"), list(dest)),
        OutgoingDatagram(b"outgoing", dest),
        OutgoingDatagram(memoryview(b"..view")[2:], peer=dest),
    ]
    # a generator, not a list
    assert tx.send(item for item in items) == len(items)
    got = recv_n(rx, len(items))
    assert [d.data for d in got] == [b"tuple", b"list", b"bytearray", b"outgoing", b"view"]


def test_a_received_datagram_goes_back_to_its_peer(pair) -> None:
    rx, tx = pair
    tx.send([(b"ping%d" % i, rx.local_addr()) for i in range(5)])
    batch = recv_n(rx, 5)
    assert all(isinstance(d, batchudp.Datagram) for d in batch)
    assert rx.send(batch) == 5  # the echo: each to its own peer
    assert [d.data for d in recv_n(tx, 5)] == [b"ping%d" % i for i in range(5)]
    # views too, while they are valid
    tx.send([(b"view", rx.local_addr())])
    assert rx.wait(5)
    with rx.recv_views() as views:
        assert rx.send(views.datagrams) == 1
    assert [d.data for d in recv_n(tx, 1)] == [b"view"]


def test_outgoing_datagram_sets_ecn_and_source() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0, ecn=True, pktinfo=True) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0, ecn=True) as tx:
        dest = rx.local_addr()
        sent = tx.send([
            OutgoingDatagram(b"ect0", dest, ecn=2),
            OutgoingDatagram(b"plain", dest),
            OutgoingDatagram(b"from", dest, local=("127.0.0.1", 0), ecn=1),
            (b"pair", dest),
        ])
        assert sent == 4
        got = recv_n(rx, 4)
        assert [(d.data, d.ecn) for d in got] == [
            (b"ect0", 2), (b"plain", 0), (b"from", 1), (b"pair", 0)]
        assert got[2].local == dest


def test_outgoing_datagram_fields_and_defaults() -> None:
    d = OutgoingDatagram(b"x")
    assert (d.data, d.peer, d.local, d.ecn, d.time_ns) == (b"x", None, None, 0, 0)
    assert d._replace(ecn=3).ecn == 3
    data, peer, local, ecn, time_ns = OutgoingDatagram(b"y", ("::1", 5))
    assert peer == ("::1", 5)


def test_bad_outgoing_datagrams(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    with pytest.raises(ValueError):
        tx.send([OutgoingDatagram(b"x", dest, ecn=4)])
    with pytest.raises(TypeError):
        tx.send([OutgoingDatagram("text", dest)])
    with pytest.raises(TypeError):
        tx.send([[b"x", dest, 1]])
    with pytest.raises(TypeError):
        tx.send([OutgoingDatagram(b"x", "127.0.0.1")])
    # nothing was sent by the refused calls
    assert tx.send([(b"ok", dest)]) == 1
    assert [d.data for d in recv_n(rx, 1)] == [b"ok"]


# --- sendall ---------------------------------------------------------------------


def test_sendall_waits_out_a_full_buffer(pair, send_gate: SendGate) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    payloads = [b"all%03d" % i for i in range(100)]
    # 30 per call: sendall calls again for the rest, in order
    send_gate.take = 30
    assert tx.sendall([(p, dest) for p in payloads]) == 100
    assert send_gate.calls == 4
    assert [d.data for d in recv_n(rx, 100)] == payloads
    # a full buffer for a while: sendall polls and sends once it drains
    send_gate.take = None
    send_gate.full = True
    threading.Timer(0.2, lambda: setattr(send_gate, "full", False)).start()
    assert tx.sendall([(b"later", dest)]) == 1
    assert [d.data for d in recv_n(rx, 1)] == [b"later"]


def test_sendall_timeout(pair, send_gate: SendGate) -> None:
    rx, tx = pair
    send_gate.full = True
    with pytest.raises(TimeoutError) as info:
        tx.sendall([(b"x", rx.local_addr())] * 3, timeout=0.1)
    assert isinstance(info.value, batchudp.Error)
    assert info.value.errno == errno.ETIMEDOUT
    assert "0 of 3" in str(info.value)
    with pytest.raises(ValueError):
        tx.sendall([], timeout=-1)
    assert tx.sendall([]) == 0


def test_sendall_raises_closed_when_closed_meanwhile(pair, send_gate: SendGate) -> None:
    rx, tx = pair
    send_gate.full = True
    closer = threading.Timer(0.2, tx.close)
    closer.start()
    t0 = time.monotonic()
    with pytest.raises(batchudp.ClosedError):
        tx.sendall([(b"x", rx.local_addr())])
    closer.join()
    print("sendall returned %.0f ms after the close" % ((time.monotonic() - t0 - 0.2) * 1e3))


def test_sendall_raises_other_errors(pair) -> None:
    rx, tx = pair
    with pytest.raises(batchudp.Error) as info:
        tx.sendall([(b"fine", rx.local_addr()), (bytes(70000), rx.local_addr())])
    assert info.value.errno in (errno.EINVAL, errno.EMSGSIZE)
    # the datagram before the one that failed was sent
    assert [d.data for d in recv_n(rx, 1)] == [b"fine"]


# --- send_all ----------------------------------------------------------------------


def test_send_all_waits_for_the_writer(pair, send_gate: SendGate) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    payloads = [b"sa%03d" % i for i in range(50)]

    async def main() -> None:
        held = HeldWriters(asyncio.get_running_loop())
        send_gate.full = True
        task = asyncio.ensure_future(tx.send_all([(p, dest) for p in payloads]))
        for _ in range(5):
            await asyncio.sleep(0)
        # one attempt, then asleep on the UDP socket's writability (not on
        # the poll fd), with no further attempt until it is writable
        assert send_gate.calls == 1
        assert held.added == [tx.fd] and tx._aio_write is not None
        send_gate.full = False
        held.fire(tx.fd)
        assert await task == 50
        assert tx._aio_write is None and held.writers == {}

    run(main())
    assert [d.data for d in recv_n(rx, 50)] == payloads


def test_send_all_shares_one_writer_and_survives_a_cancel(pair, send_gate: SendGate) -> None:
    rx, tx = pair
    dest = rx.local_addr()

    async def main() -> None:
        held = HeldWriters(asyncio.get_running_loop())
        send_gate.full = True
        first = asyncio.ensure_future(tx.send_all([(b"one", dest)]))
        second = asyncio.ensure_future(tx.send_all([(b"two", dest)]))
        third = asyncio.ensure_future(tx.send_all([(b"three", dest)]))
        await asyncio.sleep(0.01)
        assert held.added == [tx.fd]  # one registration for all three
        third.cancel()
        await asyncio.sleep(0)
        send_gate.full = False
        held.fire(tx.fd)
        assert await first == 1 and await second == 1
        assert third.cancelled()

    run(main())
    assert sorted(d.data for d in recv_n(rx, 2)) == [b"one", b"two"]


def test_send_all_raises_closed_when_closed_meanwhile(pair, send_gate: SendGate) -> None:
    rx, tx = pair

    async def main() -> None:
        held = HeldWriters(asyncio.get_running_loop())
        send_gate.full = True
        task = asyncio.ensure_future(tx.send_all([(b"x", rx.local_addr())]))
        await asyncio.sleep(0.01)
        assert held.added == [tx.fd]
        # from another thread, as close() may be called from anywhere
        closer = threading.Thread(target=tx.close)
        closer.start()
        with pytest.raises(batchudp.ClosedError):
            await task
        closer.join()
        assert held.writers == {}  # removed before the fd was closed

    run(main())
    assert tx.closed


def test_send_all_plain(pair) -> None:
    rx, tx = pair
    payloads = [bytes([i]) * i for i in range(200)]
    assert run(tx.send_all([(p, rx.local_addr()) for p in payloads])) == 200
    assert [d.data for d in recv_n(rx, 200)] == payloads


# --- a full interface queue (ENOBUFS) ---------------------------------------------


def test_sendall_sleeps_out_enobufs_and_resumes_where_it_stopped(
    pair, send_gate: SendGate, sleep_log: SleepLog
) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    payloads = [b"nobufs%03d" % i for i in range(100)]
    send_gate.take = 30
    send_gate.nobufs = 3
    assert tx.sendall([(p, dest) for p in payloads], timeout=10) == 100
    # three refusals, then four calls of 30, 30, 30 and 10
    assert send_gate.calls == 7
    # no poll for writability: it would have returned at once, as the
    # socket stays writable while the interface's queue is full
    assert sleep_log.sleeps == [0.001, 0.002, 0.004]
    assert [d.data for d in recv_n(rx, 100)] == payloads
    assert tx.stats().tx_datagrams == 100  # none twice

    # refused again part way: it resumes at the first datagram not sent,
    # and the backoff starts over after a send that took some
    sleep_log.sleeps.clear()
    calls: List[int] = []

    def refuse_second_and_fourth(h: Any, table: Any, n: int) -> int:
        calls.append(n)
        if len(calls) in (2, 4):
            return -errno.ENOBUFS
        return send_gate._lib.budp_send(h, table, min(n, 30))

    send_gate.budp_send = refuse_second_and_fourth  # type: ignore[method-assign]
    assert tx.sendall([(p, dest) for p in payloads]) == 100
    # 100 (30 go), 70 refused, 70 (30 go), 40 refused, 40 (30 go), 10; a
    # partial send is followed by a writability poll (ready at once here)
    assert calls == [100, 70, 70, 40, 40, 10]
    assert sleep_log.sleeps == [0.001, 0.001]
    assert [d.data for d in recv_n(rx, 100)] == payloads
    assert tx.stats().tx_datagrams == 200


def test_sendall_timeout_while_refused_with_enobufs(pair, send_gate: SendGate) -> None:
    rx, tx = pair
    send_gate.nobufs = 10**9
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        tx.sendall([(b"x", rx.local_addr())] * 3, timeout=0.1)
    took = time.monotonic() - t0
    assert info.value.errno == errno.ETIMEDOUT
    assert "0 of 3" in str(info.value)
    assert 0.1 <= took < 1.0, took
    # sleeps of at most 16 ms: about 10 tries in 0.1 s, not a spin
    assert 5 <= send_gate.calls <= 20, send_gate.calls


def test_sendall_raises_closed_when_closed_while_refused_with_enobufs(
    pair, send_gate: SendGate
) -> None:
    rx, tx = pair
    send_gate.nobufs = 10**9
    closer = threading.Timer(0.2, tx.close)
    closer.start()
    with pytest.raises(batchudp.ClosedError):
        tx.sendall([(b"x", rx.local_addr())])
    closer.join()


def test_send_all_sleeps_out_enobufs(pair, send_gate: SendGate) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    payloads = [b"anb%03d" % i for i in range(50)]

    async def main() -> None:
        # Writability is never signalled here: only the sleeps can end it.
        held = HeldWriters(asyncio.get_running_loop())
        send_gate.nobufs = 4
        t0 = time.monotonic()
        assert await tx.send_all([(p, dest) for p in payloads]) == 50
        assert time.monotonic() - t0 >= 0.001 + 0.002 + 0.004 + 0.008
        assert held.added == []
        assert send_gate.calls == 4 + 1

    run(main())
    assert [d.data for d in recv_n(rx, 50)] == payloads
    assert tx.stats().tx_datagrams == 50


def test_send_all_refused_with_enobufs_can_be_cancelled_or_closed(
    pair, send_gate: SendGate
) -> None:
    rx, tx = pair
    dest = rx.local_addr()

    async def main() -> None:
        send_gate.nobufs = 10**9
        cancelled = asyncio.ensure_future(tx.send_all([(b"c", dest)]))
        await asyncio.sleep(0.05)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        closed = asyncio.ensure_future(tx.send_all([(b"x", dest)]))
        await asyncio.sleep(0.05)
        tx.close()
        with pytest.raises(batchudp.ClosedError):
            await closed

    run(main())
    assert recv_n(rx, 1, timeout=0.1) == []
