"""Sending and receiving over loopback."""

from __future__ import annotations

import socket

import pytest

import batchudp
from conftest import exchange_in_chunks, has_ipv6_loopback, recv_n


def test_round_trip_ipv4(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    assert dest[0] == "127.0.0.1" and dest[1] > 0
    payloads = [b"hello %d" % i for i in range(10)]
    assert tx.send([(p, dest) for p in payloads]) == 10
    got = recv_n(rx, 10)
    assert [d.data for d in got] == payloads
    assert all(d.peer == tx.local_addr() for d in got)
    assert not any(d.truncated for d in got)
    assert all(isinstance(d.data, bytes) for d in got)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback (::1) here")
def test_round_trip_ipv6() -> None:
    with batchudp.Socket.bind("::1", 0) as rx, batchudp.Socket.bind("::1", 0) as tx:
        dest = rx.local_addr()
        assert dest[0] == "::1"
        sizes = [1, 100, 1200, 1500]
        payloads = [bytes([i]) * n for i, n in enumerate(sizes)]
        assert tx.send([(p, dest) for p in payloads]) == len(payloads)
        got = recv_n(rx, len(payloads))
        assert [d.data for d in got] == payloads
        assert got[0].peer == ("::1", tx.local_addr()[1])


@pytest.mark.parametrize("backend", ["auto", "loop"])
def test_many_more_datagrams_than_the_batch(backend: str) -> None:
    count = 300
    with batchudp.Socket.bind("127.0.0.1", 0, batch_size=8, backend=backend) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0, batch_size=8) as tx:
        assert rx.batch_size == 8
        payloads = [i.to_bytes(4, "big") * (1 + i % 5) for i in range(count)]
        got = exchange_in_chunks(tx, rx, payloads)
        assert [d.data for d in got] == payloads
        # recv() returns at most max datagrams
        assert rx.recv(max=3) == []
        st = rx.stats()
        assert st.rx_datagrams == count
        assert st.rx_bytes == sum(map(len, payloads))
        assert tx.stats().tx_datagrams == count


def test_recv_respects_max(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    tx.send([(b"%d" % i, dest) for i in range(10)])
    assert rx.wait(5)
    first = rx.recv(max=3)
    assert 1 <= len(first) <= 3
    rest = recv_n(rx, 10 - len(first))
    assert [d.data for d in first + rest] == [b"%d" % i for i in range(10)]


def test_zero_length_datagrams(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    assert tx.send([(b"", dest), (b"x", dest), (b"", dest)]) == 3
    got = recv_n(rx, 3)
    assert [d.data for d in got] == [b"", b"x", b""]
    assert not got[0].truncated
    tx.send([(b"", dest)])
    assert rx.wait(5)
    with rx.recv_views() as views:
        assert len(views) == 1 and views[0].nbytes == 0


@pytest.mark.parametrize("detailed", [False, True])
def test_truncation(detailed: bool) -> None:
    with batchudp.Socket.bind("127.0.0.1", 0, max_datagram=16) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0) as tx:
        assert rx.max_datagram == 16
        dest = rx.local_addr()
        tx.send([(bytes(range(100)), dest), (b"short", dest), (bytes(16), dest)])
        got = recv_n(rx, 3, detailed=detailed)
        assert [d.truncated for d in got] == [True, False, False]
        assert got[0].data == bytes(range(16))
        assert got[1].data == b"short"
        assert got[2].data == bytes(16)
        assert rx.stats().rx_truncated == 1
        assert not any(d.control_truncated for d in got)
        stats = rx.stats()
        assert stats.rx_control_truncated == 0 and stats.kernel_anomalies == 0


def test_control_truncated_flag() -> None:
    from batchudp._lib import BUDP_DGRAM_CONTROL_TRUNCATED, BUDP_DGRAM_TRUNCATED
    from batchudp._types import make_datagram

    peer = bytes(24)
    d = make_datagram((b"x", peer, BUDP_DGRAM_CONTROL_TRUNCATED))
    assert d.control_truncated and not d.truncated
    assert "control_truncated=True" in repr(d)
    d = make_datagram((b"x", peer, BUDP_DGRAM_TRUNCATED))
    assert d.truncated and not d.control_truncated


def test_recv_views_lifetime(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    tx.send([(b"first", dest), (b"second", dest)])
    assert rx.wait(5)
    with rx.recv_views(max=2) as views:
        assert isinstance(views, list)
        assert all(isinstance(v, memoryview) and v.readonly for v in views)
        kept = list(views)
        assert b"".join(bytes(v) for v in views).startswith(b"first")
        details = views.datagrams
        assert details[0].data is views[0]
        assert details[0].peer == tx.local_addr()
    # released when the block exits
    for v in kept:
        with pytest.raises(ValueError):
            bytes(v)
    rest = recv_n(rx, 2 - len(kept))
    assert len(kept) + len(rest) == 2


def test_recv_views_released_by_the_next_receive(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    tx.send([(b"one", dest)])
    assert rx.wait(5)
    with rx.recv_views() as views:
        assert bytes(views[0]) == b"one"
        view = views[0]
        assert rx.recv() == []
        with pytest.raises(ValueError):
            view.tobytes()


def test_recv_views_released_on_close(pair) -> None:
    rx, tx = pair
    tx.send([(b"one", rx.local_addr())])
    assert rx.wait(5)
    with rx.recv_views() as views:
        view = views[0]
        rx.close()
        with pytest.raises(ValueError):
            view.tobytes()


def test_send_payload_types_and_connected_socket(pair) -> None:
    rx, tx = pair
    host, port = rx.local_addr()
    tx.connect(host, port)
    assert tx.send([b"bytes", bytearray(b"bytearray"), memoryview(b"xxview")[2:]]) == 3
    assert tx.send([(b"pair", (host, port))]) == 1
    assert tx.send([]) == 0
    got = recv_n(rx, 4)
    assert [d.data for d in got] == [b"bytes", b"bytearray", b"view", b"pair"]


def test_from_fd_leaves_the_fd_open() -> None:
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    plain.bind(("127.0.0.1", 0))
    try:
        with batchudp.Socket.from_fd(plain, batch_size=4) as rx, \
                batchudp.Socket.bind("127.0.0.1", 0) as tx:
            assert rx.local_addr() == plain.getsockname()
            assert rx.fd == plain.fileno()
            tx.send([(b"via fd", plain.getsockname())])
            assert [d.data for d in recv_n(rx, 1)] == [b"via fd"]
        # still usable after the wrapper is closed
        plain.sendto(b"self", plain.getsockname())
        assert plain.recv(100) == b"self"
        with batchudp.Socket.from_fd(plain.fileno()) as again:
            assert again.local_addr() == plain.getsockname()
    finally:
        plain.close()


def test_pktinfo_and_ecn_fields() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0, pktinfo=True, ecn=True) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0) as tx:
        tx.send([(b"meta", rx.local_addr())])
        (d,) = recv_n(rx, 1)
        assert d.data == b"meta"
        assert d.local is not None and d.local[0] == "127.0.0.1"
        assert d.ecn == 0
        assert d.segment_size == 0
        assert d.time_ns is None  # timestamps off


def test_time_ns_is_none_on_every_receive_path(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    tx.send([(b"fast", dest)])
    (fast,) = recv_n(rx, 1)
    tx.send([(b"detailed", dest)])
    (detailed,) = recv_n(rx, 1, detailed=True)
    tx.send([(b"view", dest)])
    assert rx.wait(5)
    with rx.recv_views() as views:
        (view,) = views.datagrams
        assert bytes(view.data) == b"view"
        assert view.time_ns is None
    assert (fast.data, detailed.data) == (b"fast", b"detailed")
    assert fast.time_ns is None and detailed.time_ns is None


def test_time_ns_is_read_from_the_record() -> None:
    # The detailed record carries the C field as its 7th item, reported
    # with BUDP_DGRAM_HAS_TIME only; a record of the packed fast path has no
    # such item.
    from batchudp._lib import BUDP_DGRAM_HAS_TIME

    raw = bytes(24)
    timed = batchudp.Datagram((b"x", raw, BUDP_DGRAM_HAS_TIME, 0, 0, raw, 1234567))
    assert timed.time_ns == 1234567
    assert timed.time is not None and timed.time.year == 1970
    assert batchudp.Datagram((b"x", raw, 0, 0, 0, raw, 1234567)).time_ns is None
    assert batchudp.Datagram((b"x", raw, 0)).time_ns is None
    assert batchudp.Datagram((b"x", raw, BUDP_DGRAM_HAS_TIME)).time_ns is None


def test_gro_segments_are_split_back() -> None:
    size, count = 200, 40
    with batchudp.Socket.bind("127.0.0.1", 0, gro=True, batch_size=64) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0, gso=True) as tx:
        dest = rx.local_addr()
        payloads = [bytes([i]) * size for i in range(count)]
        assert tx.send([(p, dest) for p in payloads]) == count
        got = recv_n(rx, count, detailed=True)
        assert [d.data for d in got] == payloads
        for d in got:
            assert d.segment_size == (size if d.coalesced else 0)
        # the fast path reports the segment size as unknown, not as a number
        tx.send([(p, dest) for p in payloads])
        fast = recv_n(rx, count)
        assert [d.data for d in fast] == payloads
        assert all(d.segment_size is None for d in fast if d.coalesced)


def test_backend_reason_says_which_backend_and_why() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0) as auto, batchudp.Socket.bind(
        "127.0.0.1", 0, backend="loop"
    ) as forced:
        assert auto.backend_reason.startswith(auto.backend + ": ")
        assert len(auto.backend_reason) > len(auto.backend + ": ")
        assert forced.backend == "loop"
        assert forced.backend_reason.startswith("loop: ")
        assert "asked for" in forced.backend_reason
        assert "\n" not in forced.backend_reason  # one line, for a log


def test_tx_unconfirmed_is_counted_and_zero_where_sends_are_exact(pair) -> None:
    rx, tx = pair
    tx.sendall([(b"%d" % i, rx.local_addr()) for i in range(10)])
    st = tx.stats()
    assert st.tx_datagrams == 10
    # Only Apple's sendmsg_x hides how many of a batch went.
    assert st.tx_unconfirmed == 0
    assert batchudp.Stats().tx_unconfirmed == 0


def test_stats_and_repr(pair) -> None:
    rx, tx = pair
    st = rx.stats()
    assert isinstance(st, batchudp.Stats) and st.rx_datagrams == 0
    assert "backend=" in repr(rx)
    assert rx.backend in ("mmsg", "msgx", "loop")
    tx.send([(b"abc", rx.local_addr())])
    (d,) = recv_n(rx, 1)
    assert "b'abc'" in repr(d)
    rx.close()
    assert repr(rx) == "<batchudp.Socket closed>"
