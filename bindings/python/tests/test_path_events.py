"""Receive timestamps, paced sends and error events (the timestamps,
pacing and errors options), on loopback."""

from __future__ import annotations

import asyncio
import datetime
import errno
import select
import time
from typing import Any, List, Optional

import pytest

import batchudp
from batchudp import _options
from conftest import bind_threaded, closed_port, recv_n

SECOND_NS = 1_000_000_000


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


def near_now(ns: Optional[int]) -> bool:
    """Whether ns is a wall-clock time within a second of now."""
    return ns is not None and abs(time.time_ns() - ns) < SECOND_NS


# --- options -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, key, value",
    [
        ({"timestamps": True}, "timestamps", 1),
        ({"timestamps": False}, "timestamps", 0),
        ({"errors": True}, "errors", 1),
        ({"errors": 0}, "errors", 0),
        ({"pacing": "off"}, "pacing", 0),
        ({"pacing": "monotonic"}, "pacing", 1),
        ({"pacing": "tai"}, "pacing", 2),
        ({"pacing": 2}, "pacing", 2),
        ({}, "timestamps", 0),
        ({}, "pacing", 0),
        ({}, "errors", 0),
    ],
)
def test_options_round_trip(kwargs, key, value) -> None:
    with _options.Options(kwargs) as opts:
        assert opts.get(key) == value


def test_option_bounds_of_the_new_keys() -> None:
    assert batchudp.option_bounds("timestamps") == (0, 1, 0)
    assert batchudp.option_bounds("pacing") == (0, 2, 0)
    assert batchudp.option_bounds("errors") == (0, 1, 0)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"pacing": "fast"}, ValueError),
        ({"pacing": True}, TypeError),
        ({"pacing": 1.0}, TypeError),
        ({"timestamps": "yes"}, TypeError),
        ({"errors": None}, TypeError),
    ],
)
def test_new_options_reject_wrong_types(kwargs, exc) -> None:
    with pytest.raises(exc):
        batchudp.Socket.bind("127.0.0.1", 0, **kwargs)


@pytest.mark.parametrize("kwargs", [{"pacing": 3}, {"pacing": -1}, {"timestamps": 2}, {"errors": 2}])
def test_new_options_reject_out_of_range_values(kwargs) -> None:
    with pytest.raises(batchudp.Error) as info:
        batchudp.Socket.bind("127.0.0.1", 0, **kwargs)
    assert info.value.errno == errno.EINVAL
    assert next(iter(kwargs)) in str(info.value)


def test_sockets_open_with_every_new_option() -> None:
    for pacing in ("off", "monotonic", "tai"):
        with batchudp.Socket.bind(
            "127.0.0.1", 0, timestamps=True, pacing=pacing, errors=True
        ) as sock:
            assert sock.recv() == []
            assert sock.recv_errors() == []


# --- receive timestamps --------------------------------------------------------------


def test_timestamps_on_every_receive_path() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0, timestamps=True) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0) as tx:
        dest = rx.local_addr()
        tx.send([(b"recv", dest)])
        (d,) = recv_n(rx, 1)
        assert d.data == b"recv"
        assert d.flags & batchudp._lib.BUDP_DGRAM_HAS_TIME
        assert near_now(d.time_ns)
        assert d.time is not None
        now = datetime.datetime.now(datetime.timezone.utc)
        assert abs((now - d.time).total_seconds()) < 1
        assert "time_ns=" in repr(d)

        tx.send([(b"view", dest)])
        assert rx.wait(5)
        with rx.recv_views() as views:
            (view,) = views.datagrams
            assert bytes(view.data) == b"view"
            assert near_now(view.time_ns)

        got: List[batchudp.Datagram] = []
        rx.on_datagrams(got.extend)
        tx.send([(b"callback", dest)])
        assert rx.wait(5)
        assert rx.dispatch() == 1
        rx.on_datagrams(None)
        assert [g.data for g in got] == [b"callback"]
        assert near_now(got[0].time_ns)


def test_timestamps_absent_when_off(pair) -> None:
    rx, tx = pair
    tx.send([(b"x", rx.local_addr())])
    (d,) = recv_n(rx, 1, detailed=True)
    assert d.time_ns is None and d.time is None
    assert not d.flags & batchudp._lib.BUDP_DGRAM_HAS_TIME


def test_timestamps_in_threaded_mode() -> None:
    with bind_threaded(timestamps=True) as rx, batchudp.Socket.bind("127.0.0.1", 0) as tx:
        tx.send([(b"%d" % i, rx.local_addr()) for i in range(5)])
        got = recv_n(rx, 5)
        assert [d.data for d in got] == [b"%d" % i for i in range(5)]
        assert all(near_now(d.time_ns) for d in got)


def test_every_gro_segment_carries_a_time() -> None:
    size, count = 100, 20
    with batchudp.Socket.bind("127.0.0.1", 0, gro=True, timestamps=True, batch_size=64) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0, gso=True) as tx:
        payloads = [bytes([i]) * size for i in range(count)]
        assert tx.send([(p, rx.local_addr()) for p in payloads]) == count
        got = recv_n(rx, count)
        assert [d.data for d in got] == payloads
        assert all(near_now(d.time_ns) for d in got)


# --- error events ----------------------------------------------------------------------


def check_refused(sock: batchudp.Socket, port: int) -> None:
    """sock sent one datagram to 127.0.0.1:port, which nothing listens on:
    exactly its port unreachable event is read, once."""
    assert sock.wait(5), "no error event woke the socket"
    events = sock.recv_errors()
    deadline = time.monotonic() + 5
    while not events and time.monotonic() < deadline:
        sock.wait(0.1)
        events = sock.recv_errors()
    assert len(events) == 1, events
    (event,) = events
    assert isinstance(event, batchudp.ErrorEvent)
    assert event.destination == ("127.0.0.1", port)
    assert event.errno == errno.ECONNREFUSED
    assert event.origin == "icmp"
    assert (event.icmp_type, event.icmp_code) == (3, 3)  # port unreachable
    assert event.offender == ("127.0.0.1", 0)
    assert event.mtu is None
    exc = event.exception()
    assert isinstance(exc, ConnectionRefusedError) and isinstance(exc, batchudp.Error)
    assert str(port) in str(exc)
    assert sock.recv_errors() == []
    assert sock.stats().error_events == 1


def test_port_unreachable_comes_as_an_event() -> None:
    port = closed_port()
    with batchudp.Socket.bind("127.0.0.1", 0, errors=True) as sock:
        assert sock.send([(b"anyone?", ("127.0.0.1", port))]) == 1
        # the poll fd says so, as for a datagram
        readable, _, _ = select.select([sock.fileno()], [], [], 5)
        assert readable
        check_refused(sock, port)
        # ... and the error does not fail the receive
        assert sock.recv() == []
        assert sock.stats().rx_errors == 0


def test_port_unreachable_event_in_threaded_mode() -> None:
    port = closed_port()
    with bind_threaded(errors=True) as sock:
        sock.send([(b"anyone?", ("127.0.0.1", port))])
        check_refused(sock, port)
        assert sock.stats().error_events_dropped == 0


def test_recv_errors_needs_the_option(pair) -> None:
    rx, _ = pair
    with pytest.raises(batchudp.Error) as info:
        rx.recv_errors()
    assert info.value.errno == errno.EINVAL
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError):
        rx.recv_errors(0)


def test_recv_errors_on_a_closed_socket() -> None:
    sock = batchudp.Socket.bind("127.0.0.1", 0, errors=True)
    sock.close()
    with pytest.raises(batchudp.ClosedError):
        sock.recv_errors()
    with pytest.raises(batchudp.ClosedError):
        sock.pacing_support(("127.0.0.1", 9))


def test_batches_do_not_spin_on_error_events() -> None:
    # An event keeps the poll fd readable until read; the asyncio receive
    # path moves it aside for recv_errors() rather than waking for ever.
    port = closed_port()

    async def main() -> None:
        with batchudp.Socket.bind("127.0.0.1", 0, errors=True) as sock:
            got: List[batchudp.Datagram] = []
            events: List[batchudp.ErrorEvent] = []

            async def consume() -> None:
                async for batch in sock.batches():
                    got.extend(batch)
                    events.extend(sock.recv_errors())
                    return

            task = asyncio.ensure_future(consume())
            await asyncio.sleep(0.05)
            sock.send([(b"lost", ("127.0.0.1", port))])
            await asyncio.sleep(0.1)
            cpu = time.process_time()
            await asyncio.sleep(0.5)
            assert time.process_time() - cpu < 0.25, "the receive loop spins"
            sock.send([(b"self", sock.local_addr())])
            await asyncio.wait_for(task, 5)
            assert [d.data for d in got] == [b"self"]
            assert [e.destination for e in events] == [("127.0.0.1", port)]
            stats = sock.stats()
            assert (stats.error_events, stats.error_events_dropped) == (1, 0)

    run(main())


class EventRecorder(batchudp.BatchProtocol):
    def __init__(self) -> None:
        self.events: List[batchudp.ErrorEvent] = []
        self.errors: List[Exception] = []

    def error_events_received(self, events: List[batchudp.ErrorEvent]) -> None:
        self.events.extend(events)

    def error_received(self, exc: Exception) -> None:
        self.errors.append(exc)


class PlainProtocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.errors: List[Exception] = []

    def error_received(self, exc: Exception) -> None:
        self.errors.append(exc)


async def until(cond: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_transport_hands_error_events_to_the_protocol() -> None:
    port = closed_port()

    async def main() -> None:
        transport, protocol = await batchudp.create_datagram_endpoint(
            EventRecorder, local_addr=("127.0.0.1", 0), errors=True
        )
        try:
            transport.sendto(b"lost", ("127.0.0.1", port))
            await until(lambda: protocol.events)
            (event,) = protocol.events
            assert event.destination == ("127.0.0.1", port)
            assert event.errno == errno.ECONNREFUSED
            assert protocol.errors == []
        finally:
            transport.close()

    run(main())


def test_transport_reports_events_to_a_plain_protocol_as_errors() -> None:
    port = closed_port()

    async def main() -> None:
        transport, protocol = await batchudp.create_datagram_endpoint(
            PlainProtocol, local_addr=("127.0.0.1", 0), errors=True
        )
        try:
            transport.sendto(b"lost", ("127.0.0.1", port))
            await until(lambda: protocol.errors)
            (exc,) = protocol.errors
            assert isinstance(exc, ConnectionRefusedError)
            assert exc.errno == errno.ECONNREFUSED
        finally:
            transport.close()

    run(main())


# --- pacing ----------------------------------------------------------------------------


def test_departure_time_refused_without_pacing(pair) -> None:
    rx, tx = pair
    timed = batchudp.OutgoingDatagram(b"x", rx.local_addr(), time_ns=time.monotonic_ns())
    with pytest.raises(batchudp.Error) as info:
        tx.send([timed])
    assert info.value.errno == errno.EINVAL
    assert tx.stats().tx_datagrams == 0
    # a zero time means "now", with pacing off too
    assert tx.send([batchudp.OutgoingDatagram(b"y", rx.local_addr(), time_ns=0)]) == 1
    assert [d.data for d in recv_n(rx, 1)] == [b"y"]


@pytest.mark.parametrize("bad", [-1, 2**64, 1.5, "soon"])
def test_departure_time_must_be_a_u64(pair, bad) -> None:
    rx, tx = pair
    with pytest.raises(ValueError):
        tx.send([batchudp.OutgoingDatagram(b"x", rx.local_addr(), time_ns=bad)])


def test_paced_datagram_is_accepted_and_arrives() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0) as rx, \
            batchudp.Socket.bind("127.0.0.1", 0, pacing="monotonic") as tx:
        dest = rx.local_addr()
        when = time.monotonic_ns() + 5_000_000
        out = [
            batchudp.OutgoingDatagram(b"later", dest, time_ns=when),
            batchudp.OutgoingDatagram(b"now", dest),
            batchudp.OutgoingDatagram(b"with ecn", dest, ecn=0, time_ns=when + 1_000_000),
        ]
        assert tx.send(out) == 3
        got = sorted(d.data for d in recv_n(rx, 3))
        assert got == sorted([b"later", b"now", b"with ecn"])
        assert tx.stats().tx_datagrams == 3


def test_paced_datagrams_through_sendall_and_the_transport() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0) as rx:
        dest = rx.local_addr()

        async def main() -> None:
            transport, _ = await batchudp.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0), pacing="monotonic"
            )
            try:
                when = time.monotonic_ns() + 2_000_000
                transport.send_batch([batchudp.OutgoingDatagram(b"t%d" % i, dest, time_ns=when)
                                      for i in range(3)])
                transport.sendto(b"plain", dest)
                await asyncio.sleep(0.05)
            finally:
                transport.close()

        run(main())
        assert sorted(d.data for d in recv_n(rx, 4)) == [b"plain", b"t0", b"t1", b"t2"]


def test_pacing_support_on_loopback() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0, pacing="monotonic") as sock:
        honoured, detail = sock.pacing_support(("127.0.0.1", 9))
        assert honoured is False  # loopback has no fq or etf
        assert isinstance(detail, str) and "lo" in detail
        assert "\n" not in detail
        # dest None: the connected peer, an error before connect
        with pytest.raises(batchudp.Error) as info:
            sock.pacing_support()
        assert info.value.errno == errno.EINVAL
        sock.connect("127.0.0.1", 9)
        honoured, detail = sock.pacing_support()
        assert honoured is False and "lo" in detail


def test_pacing_support_is_false_with_pacing_off(pair) -> None:
    rx, _ = pair
    honoured, detail = rx.pacing_support(rx.local_addr())
    assert honoured is False
    assert isinstance(detail, str)


def test_stats_have_the_error_event_counters() -> None:
    stats = batchudp.Stats()
    assert (stats.error_events, stats.error_events_dropped) == (0, 0)
    with batchudp.Socket.bind("127.0.0.1", 0) as sock:
        st = sock.stats()
        assert (st.error_events, st.error_events_dropped) == (0, 0)
