"""Callback mode: on_datagrams() and dispatch()."""

from __future__ import annotations

import gc
import time

import pytest

import batchudp


def dispatch_until(sock: batchudp.Socket, seen: list, n: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(seen) < n and time.monotonic() < deadline:
        if sock.dispatch() == 0:
            sock.wait(0.1)


def test_dispatch_hands_batches_to_the_callback(pair) -> None:
    rx, tx = pair
    seen = []
    rx.on_datagrams(lambda batch: seen.extend(batch))
    payloads = [b"cb%d" % i for i in range(50)]
    tx.send([(p, rx.local_addr()) for p in payloads])
    dispatch_until(rx, seen, 50)
    assert [d.data for d in seen] == payloads
    assert all(isinstance(d, batchudp.Datagram) for d in seen)
    assert seen[0].peer == tx.local_addr()


def test_dispatch_returns_the_count(pair) -> None:
    rx, tx = pair
    seen = []
    rx.on_datagrams(seen.extend)
    assert rx.dispatch() == 0
    tx.send([(b"a", rx.local_addr()), (b"b", rx.local_addr())])
    assert rx.wait(5)
    total = 0
    deadline = time.monotonic() + 5
    while total < 2 and time.monotonic() < deadline:
        total += rx.dispatch(max=1)
    assert total == 2 and len(seen) == 2


def test_callback_kept_alive_while_registered(pair) -> None:
    rx, tx = pair
    seen = []

    def register():
        box = []
        rx.on_datagrams(lambda batch: box.extend(batch) or seen.extend(batch))

    register()
    gc.collect()
    tx.send([(b"alive", rx.local_addr())])
    dispatch_until(rx, seen, 1)
    assert [d.data for d in seen] == [b"alive"]


def test_exception_in_callback_is_raised_by_dispatch(capfd) -> None:
    with batchudp.Socket.bind("127.0.0.1", 0, batch_size=4) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0) as tx:
        seen = []
        calls = []

        def fn(batch):
            calls.append(len(batch))
            seen.extend(d.data for d in batch)
            if len(calls) == 1:
                raise KeyError("boom")

        rx.on_datagrams(fn)
        payloads = [b"%02d" % i for i in range(20)]
        tx.send([(p, rx.local_addr()) for p in payloads])
        assert rx.wait(5)
        with pytest.raises(KeyError, match="boom"):
            rx.dispatch(max=20)
        # nothing printed and lost, nothing dropped: later dispatches carry on
        deadline = time.monotonic() + 5
        while len(seen) < 20 and time.monotonic() < deadline:
            if rx.dispatch(max=20) == 0:
                rx.wait(0.1)
        assert seen == payloads
        out, err = capfd.readouterr()
        assert "boom" not in err and "Exception ignored" not in err


def test_clear_callback_and_bad_callbacks(pair) -> None:
    rx, _ = pair
    with pytest.raises(TypeError):
        rx.on_datagrams("not callable")  # type: ignore[arg-type]
    rx.on_datagrams(lambda batch: None)
    rx.on_datagrams(None)
    with pytest.raises(batchudp.Error) as info:
        rx.dispatch()
    assert info.value.errno == 22


def test_close_from_inside_the_callback(pair) -> None:
    rx, tx = pair
    seen = []

    def fn(batch):
        seen.extend(batch)
        rx.close()
        with pytest.raises(batchudp.ClosedError):
            rx.send([(b"x", tx.local_addr())])

    rx.on_datagrams(fn)
    tx.send([(b"last", rx.local_addr())])
    assert rx.wait(5)
    rx.dispatch()
    assert [d.data for d in seen] == [b"last"]
    assert rx.closed
    with pytest.raises(batchudp.ClosedError):
        rx.dispatch()
