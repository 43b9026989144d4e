"""The asyncio adapter: create_datagram_endpoint, BatchTransport and
BatchProtocol."""

from __future__ import annotations

import asyncio
import errno
import threading
from typing import Any, List, Optional, Tuple

import pytest

import batchudp
from batchudp import _send
from conftest import HeldWriters, SendGate, recv_n


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


class Recorder(batchudp.BatchProtocol):
    """Keeps every callback it gets."""

    def __init__(self) -> None:
        self.batches: List[List[batchudp.Datagram]] = []
        self.errors: List[Exception] = []
        self.events: List[str] = []
        self.lost: Optional[asyncio.Future[Optional[Exception]]] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.events.append("made")
        self.lost = asyncio.get_running_loop().create_future()

    def datagrams_received(self, batch: List[batchudp.Datagram]) -> None:
        self.batches.append(batch)

    def error_received(self, exc: Exception) -> None:
        self.errors.append(exc)

    def pause_writing(self) -> None:
        self.events.append("pause")

    def resume_writing(self) -> None:
        self.events.append("resume")

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.events.append("lost")
        assert self.lost is not None
        self.lost.set_result(exc)

    def received(self) -> List[bytes]:
        return [d.data for batch in self.batches for d in batch]


async def endpoint(**kw: Any) -> Tuple[batchudp.BatchTransport, Recorder]:
    kw.setdefault("local_addr", ("127.0.0.1", 0))
    return await batchudp.create_datagram_endpoint(Recorder, **kw)


async def until(cond: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_batches_reach_the_protocol_whole() -> None:
    async def main() -> None:
        transport, proto = await endpoint(batch_size=16)
        assert proto.events == ["made"] and proto.transport is transport
        addr = transport.get_extra_info("sockname")
        with batchudp.Socket.bind("127.0.0.1", 0) as tx:
            payloads = [b"b%02d" % i for i in range(40)]
            tx.send([(p, addr) for p in payloads])
            await until(lambda: len(proto.received()) == 40)
            assert proto.received() == payloads
            # whole batches, as the socket received them, not one by one
            assert len(proto.batches) < 40
            assert max(map(len, proto.batches)) == 16
            assert proto.batches[0][0].peer == tx.local_addr()
        transport.close()
        assert await proto.lost is None

    run(main())


def test_sendto_calls_of_one_iteration_leave_in_one_send(send_gate: SendGate) -> None:
    async def main() -> None:
        transport, proto = await endpoint()
        with batchudp.Socket.bind("127.0.0.1", 0) as rx:
            for i in range(100):
                transport.sendto(b"s%02d" % i, rx.local_addr())
            assert send_gate.calls == 0  # queued only
            assert transport.get_write_buffer_size() == 300
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            assert send_gate.calls == 1
            assert transport.get_write_buffer_size() == 0
            got = recv_n(rx, 100)
            assert [d.data for d in got] == [b"s%02d" % i for i in range(100)]
        transport.close()
        await proto.lost

    run(main())


def test_plain_datagram_protocol_works_and_its_replies_are_batched() -> None:
    # Code written for asyncio.DatagramProtocol: one datagram_received per
    # datagram, one sendto per reply; the replies still leave in batches.
    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: Tuple[str, int]) -> None:
            self.transport.sendto(data.upper(), addr)  # type: ignore[attr-defined]

    async def main() -> None:
        transport, _ = await batchudp.create_datagram_endpoint(
            Echo, local_addr=("127.0.0.1", 0), batch_size=32)
        sock = transport.get_extra_info("socket")
        with batchudp.Socket.bind("127.0.0.1", 0) as client:
            words = [b"word%03d" % i for i in range(200)]
            await client.send_all([(w, transport.get_extra_info("sockname")) for w in words])
            got: List[bytes] = []
            async for batch in client.batches():
                got += [d.data for d in batch]
                if len(got) == len(words):
                    break
            assert got == [w.upper() for w in words]
        # 200 replies, sent per received batch (32 at most): not 200 calls
        assert sock.stats().tx_datagrams == 200
        assert sock.stats().tx_syscalls <= 20
        transport.close()

    run(main())


def test_backpressure_and_the_writer(send_gate: SendGate) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        transport, proto = await endpoint()
        sock = transport.get_extra_info("socket")
        held = HeldWriters(loop)
        transport.set_write_buffer_limits(high=1000)
        assert transport.get_write_buffer_limits() == (250, 1000)
        with batchudp.Socket.bind("127.0.0.1", 0) as rx:
            dest = rx.local_addr()
            send_gate.full = True
            transport.send_batch([(bytes([i]) * 200, dest) for i in range(4)])
            assert proto.events == ["made"]
            transport.sendto(bytes([4]) * 200, dest)
            transport.sendto(bytes([5]) * 200, dest)  # 1200 bytes: over the mark
            assert proto.events == ["made", "pause"]
            await asyncio.sleep(0.01)
            # one attempt, then a writer on the UDP socket, and no retry
            assert send_gate.calls == 1
            assert held.added == [sock.fd]
            # it takes two, then two more: partial sends, a writer each time
            send_gate.full = False
            send_gate.take = 2
            held.fire(sock.fd)
            await asyncio.sleep(0)
            assert transport.get_write_buffer_size() == 800
            assert proto.events == ["made", "pause"]
            held.fire(sock.fd)
            await asyncio.sleep(0)
            assert transport.get_write_buffer_size() == 400
            held.fire(sock.fd)
            await asyncio.sleep(0)
            assert transport.get_write_buffer_size() == 0
            assert proto.events == ["made", "pause", "resume"]
            assert held.writers == {}
            assert send_gate.calls == 4
            got = recv_n(rx, 6)
            assert [d.data for d in got] == [bytes([i]) * 200 for i in range(6)]
        with pytest.raises(ValueError):
            transport.set_write_buffer_limits(high=10, low=20)
        transport.close()
        await proto.lost

    run(main())


def test_enobufs_is_retried_after_a_sleep_not_dropped(send_gate: SendGate) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        transport, proto = await endpoint()
        held = HeldWriters(loop)
        with batchudp.Socket.bind("127.0.0.1", 0) as rx:
            dest = rx.local_addr()
            send_gate.nobufs = 3
            t0 = loop.time()
            for i in range(10):
                transport.sendto(b"q%d" % i, dest)
            await until(lambda: transport.get_write_buffer_size() == 0)
            # three refusals, slept out (1, 2, 4 ms), then one send of all
            assert loop.time() - t0 >= 0.007
            assert send_gate.calls == 4
            assert held.added == []  # no writer: it would never fire
            assert proto.errors == [] and transport.dropped == 0
            assert [d.data for d in recv_n(rx, 10)] == [b"q%d" % i for i in range(10)]

            # abort() while a retry is pending: the timer is cancelled
            send_gate.nobufs = 10**9
            transport.sendto(b"never", dest)
            await asyncio.sleep(0.03)
            calls = send_gate.calls
            transport.abort()
            assert await proto.lost is None
            assert transport.dropped == 1
            await asyncio.sleep(0.05)
            assert send_gate.calls == calls

    run(main())


def test_close_sends_what_is_queued_and_abort_drops_it(send_gate: SendGate) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        with batchudp.Socket.bind("127.0.0.1", 0) as rx:
            dest = rx.local_addr()
            # close(): the queue still leaves, then connection_lost
            transport, proto = await endpoint()
            sock = transport.get_extra_info("socket")
            held = HeldWriters(loop)
            send_gate.full = True
            for i in range(5):
                transport.sendto(b"c%d" % i, dest)
            await asyncio.sleep(0.01)
            transport.close()
            assert transport.is_closing()
            transport.sendto(b"after close", dest)  # dropped
            await asyncio.sleep(0.01)
            assert proto.events == ["made"]  # still sending
            assert not sock.closed
            send_gate.full = False
            held.fire(sock.fd)
            assert await proto.lost is None
            assert sock.closed
            assert transport.dropped == 1
            assert [d.data for d in recv_n(rx, 5)] == [b"c%d" % i for i in range(5)]

            # abort(): the queue is dropped, and counted
            transport, proto = await endpoint()
            sock = transport.get_extra_info("socket")
            send_gate.full = True
            for i in range(5):
                transport.sendto(b"a%d" % i, dest)
            await asyncio.sleep(0.01)
            transport.abort()
            assert await proto.lost is None
            assert sock.closed and transport.dropped == 5
            assert held.writers == {}
            send_gate.full = False
            assert recv_n(rx, 1, timeout=0.2) == []

    run(main())


def test_a_send_error_goes_to_error_received() -> None:
    async def main() -> None:
        transport, proto = await endpoint()
        with batchudp.Socket.bind("127.0.0.1", 0) as rx:
            dest = rx.local_addr()
            transport.sendto(b"before", dest)
            transport.sendto(bytes(70000), dest)  # refused
            transport.sendto(b"after", dest)
            await until(lambda: proto.errors)
            assert proto.errors[0].errno in (errno.EINVAL, errno.EMSGSIZE)  # type: ignore[attr-defined]
            assert transport.dropped == 1
            assert [d.data for d in recv_n(rx, 2)] == [b"before", b"after"]
        transport.close()
        await proto.lost

    run(main())


def test_remote_addr_connects() -> None:
    async def main() -> None:
        with batchudp.Socket.bind("127.0.0.1", 0) as peer:
            transport, proto = await endpoint(local_addr=None, remote_addr=peer.local_addr())
            assert transport.get_extra_info("peername") == peer.local_addr()
            # bound to the wildcard address, then connected: the address
            # the kernel picked for the peer
            local = transport.get_extra_info("sockname")
            assert local[0] == "127.0.0.1"
            transport.sendto(b"no address")
            transport.sendto(b"same address", peer.local_addr())
            with pytest.raises(ValueError):
                transport.sendto(b"elsewhere", ("127.0.0.1", 9))
            await asyncio.sleep(0.01)
            assert [d.data for d in recv_n(peer, 2)] == [b"no address", b"same address"]
            peer.send([(b"back", local)])
            await until(lambda: proto.received() == [b"back"])
            transport.close()
            await proto.lost

    run(main())


def test_pause_and_resume_reading() -> None:
    async def main() -> None:
        transport, proto = await endpoint()
        addr = transport.get_extra_info("sockname")
        sock = transport.get_extra_info("socket")
        transport.pause_reading()
        assert not transport.is_reading() and sock._aio_wait is None
        with batchudp.Socket.bind("127.0.0.1", 0) as tx:
            tx.send([(b"held", addr)])
            await asyncio.sleep(0.05)
            assert proto.received() == []
            transport.resume_reading()
            assert transport.is_reading()
            await until(lambda: proto.received() == [b"held"])
        transport.close()
        await proto.lost

    run(main())


def test_socket_closed_under_the_transport() -> None:
    async def main() -> None:
        transport, proto = await endpoint()
        sock = transport.get_extra_info("socket")
        fd = sock.fileno()
        closer = threading.Thread(target=sock.close)
        closer.start()
        exc = await proto.lost
        closer.join()
        assert isinstance(exc, batchudp.ClosedError)
        assert transport.is_closing()
        selector_map = asyncio.get_running_loop()._selector.get_map()  # type: ignore[attr-defined]
        assert fd not in selector_map

    run(main())


def test_endpoint_from_a_socket_and_bad_arguments() -> None:
    async def main() -> None:
        sock = batchudp.Socket.bind("127.0.0.1", 0)
        transport, proto = await batchudp.create_datagram_endpoint(Recorder, sock=sock)
        assert transport.get_extra_info("socket") is sock
        assert transport.get_extra_info("peername") is None
        transport.close()
        await proto.lost
        assert sock.closed  # the transport owned it
        with pytest.raises(ValueError):
            await batchudp.create_datagram_endpoint(
                Recorder, local_addr=("127.0.0.1", 0), sock=batchudp.Socket.bind("127.0.0.1", 0))
        with pytest.raises(batchudp.Error) as info:
            await batchudp.create_datagram_endpoint(Recorder, local_addr=("localhost", 0))
        assert "numeric address expected" in str(info.value)
        with pytest.raises(TypeError):
            await batchudp.create_datagram_endpoint(Recorder, local_addr="127.0.0.1")
        with pytest.raises(TypeError):
            await batchudp.create_datagram_endpoint(
                Recorder, local_addr=("127.0.0.1", 0), no_such_option=1)

    run(main())


def test_one_receiver_per_socket() -> None:
    async def main() -> None:
        transport, proto = await endpoint()
        sock = transport.get_extra_info("socket")
        with pytest.raises(RuntimeError):
            await sock.recv_async()
        transport.close()
        await proto.lost

    run(main())


def test_adapter_is_loaded_on_first_use() -> None:
    assert batchudp.BatchTransport.__module__ == "batchudp._transport"
    assert "create_datagram_endpoint" in dir(batchudp)
    assert _send.LIB is not None
