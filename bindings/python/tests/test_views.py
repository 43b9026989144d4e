"""Zero-copy views and the detailed copies: slices of one view of each
batch's span, made with one foreign call per batch."""

from __future__ import annotations

import struct
import time
from typing import Any, Callable, List

import pytest

import batchudp
from batchudp import _views
from conftest import bind_threaded, recv_n


def payload(i: int, size: int) -> bytes:
    return (b"%06d" % i + bytes(range(256)) * 6)[:size]


def views_of(sock: batchudp.Socket, count: int, timeout: float = 5.0) -> List[bytes]:
    """Copies of the first count datagrams, received as views."""
    out: List[bytes] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        with sock.recv_views() as views:
            out += [bytes(v) for v in views]
            if not views:
                sock.wait(0.05)
    return out


@pytest.fixture
def view_calls(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    """The lengths of the views made by a foreign call (PyMemoryView_FromMemory)."""
    calls: List[int] = []
    real: Callable[[int, int], memoryview] = _views._view

    def counting(address: int, length: int) -> memoryview:
        calls.append(length)
        return real(address, length)

    monkeypatch.setattr(_views, "_view", counting)
    return calls


@pytest.mark.parametrize("mode", ["inline", "threaded"])
def test_views_of_every_size_and_the_same_slots_again(mode: str, view_calls: List[int]) -> None:
    # Rounds of the same sizes (the layout of the last batch is reused),
    # then other sizes (it is not): every view shows its own datagram.
    options: Any = {"batch_size": 16}
    with (bind_threaded(**options) if mode == "threaded"
          else batchudp.Socket.bind("127.0.0.1", 0, **options)) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0) as tx:
        dest = rx.local_addr()
        rounds = [[100] * 16, [100] * 16, [7 * i for i in range(16)], [1400 - i for i in range(16)],
                  [0] * 16, [100] * 16]
        n = 0
        for sizes in rounds:
            sent = [payload(n + i, s) for i, s in enumerate(sizes)]
            n += len(sizes)
            tx.send([(p, dest) for p in sent])
            assert views_of(rx, len(sent)) == sent
    # one foreign call per batch, never one per datagram
    assert 0 < len(view_calls) <= 3 * len(rounds)


def test_views_datagrams_and_release(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    tx.send([(b"a" * 10, dest), (b"", dest), (b"c" * 30, dest)])
    time.sleep(0.05)
    assert rx.wait(5)
    with rx.recv_views() as views:
        assert isinstance(views, batchudp.DatagramBatch)
        assert batchudp.ViewBatch is batchudp.DatagramBatch
        records = views.datagrams
        assert [type(d) for d in records] == [batchudp.DatagramView] * len(views)
        assert [bytes(d.data) for d in records] == [bytes(v) for v in views]
        assert all(d.peer == tx.local_addr() for d in records)
        kept = list(views)
        assert [v.readonly for v in kept] == [True] * len(kept)
    for v in kept:
        with pytest.raises(ValueError):
            v.tobytes()
    assert views.datagrams == []


def test_a_view_held_by_another_object(pair) -> None:
    rx, tx = pair
    tx.send([(b"held", rx.local_addr()), (b"other", rx.local_addr())])
    time.sleep(0.05)
    assert rx.wait(5)
    views = rx.recv_views().__enter__()
    assert len(views) == 2
    holder = struct.iter_unpack("B", views[0])  # holds the view's buffer
    with pytest.raises(BufferError) as info:
        rx.recv()  # releases the views first
    assert "1 view(s)" in str(info.value)
    with pytest.raises(ValueError):
        views[1].tobytes()  # the others were released all the same
    assert next(holder) == (ord("h"),)
    del holder
    views.release()
    with pytest.raises(ValueError):
        views[0].tobytes()


def test_pointers_outside_one_block_fall_back_to_a_view_each(
        pair, view_calls: List[int], monkeypatch: pytest.MonkeyPatch) -> None:
    # Were the library ever to spread a batch over several blocks, each
    # view would be made on its own rather than over a huge span.
    rx, tx = pair
    monkeypatch.setattr(_views, "_SPAN_MAX", 0)
    sent = [payload(i, 20 + i) for i in range(5)]
    tx.send([(p, rx.local_addr()) for p in sent])
    time.sleep(0.05)
    assert views_of(rx, 5) == sent
    assert sorted(view_calls) == sorted(len(p) for p in sent)


@pytest.mark.parametrize("batch_size", [4, 64])
def test_detailed_copies(batch_size: int, view_calls: List[int]) -> None:
    with batchudp.Socket.bind("127.0.0.1", 0, batch_size=batch_size) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0) as tx:
        sent = [payload(i, (i * 97) % 1401) for i in range(60)]
        tx.send([(p, rx.local_addr()) for p in sent])
        got = recv_n(rx, 60, detailed=True)
        assert [d.data for d in got] == sent
        assert all(type(d.data) is bytes for d in got)
        assert all(d.time_ns is None for d in got)  # timestamps off
        # the sender's GSO runs may arrive as GRO segments
        assert all(d.segment_size > 0 if d.coalesced else d.segment_size == 0 for d in got)
        # one span view per batch, released once copied
        assert len(view_calls) <= 60 // batch_size + 4


def test_fixed_and_mixed_sizes_on_the_packed_path(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    for sizes in ([64] * 20, [64] * 20, [(i * 37) % 1401 for i in range(20)], [1] * 20):
        sent = [payload(i, s) for i, s in enumerate(sizes)]
        tx.send([(p, dest) for p in sent])
        assert [d.data for d in recv_n(rx, len(sent))] == sent
