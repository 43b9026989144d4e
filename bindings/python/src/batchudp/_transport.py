"""The asyncio adapter: create_datagram_endpoint and BatchTransport.

Imported on first use of batchudp.create_datagram_endpoint (or
BatchTransport), as it imports asyncio.

Receiving: a reader on the socket's poll fd hands each batch recv()
returns to the protocol at once.  Sending: sendto() and send_batch() only
queue; the queue is flushed by one budp_send from a callback scheduled
with call_soon, so every datagram queued in one loop iteration leaves in
one call, and, when the kernel takes only part of it, by a writer on the
UDP socket (never a retry loop), or, when the interface's queue is full
(ENOBUFS, which writability does not report clearing), by a timer: 1 ms
doubling to 16 ms while the refusals go on.  The queue's size drives the
protocol's pause_writing()/resume_writing().
"""

from __future__ import annotations

import asyncio
import errno
from itertools import islice

from . import _addr, _outgoing
from ._backoff import Backoff
from ._errors import ClosedError
from ._lib import BUDP_ERROR_QUEUE_EVENTS
from ._outgoing import Outgoing
from ._socket import Socket

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, List, Optional, Tuple, TypeVar

    from ._aio import Watch
    from ._outgoing import BytesLike, PeerAddress, Sendable
    from ._types import Address, Datagram

    _P = TypeVar("_P", bound=asyncio.BaseProtocol)

#: asyncio's defaults for a transport's write buffer.
_HIGH_WATER = 64 * 1024
# Batches received per wake-up of the reader before the loop's other
# callbacks get a turn.
_BATCHES_PER_WAKE = 8
# A sent head longer than this is cut off the queue while more waits.
_COMPACT_AT = 4096


async def create_datagram_endpoint(
    protocol_factory: Callable[[], _P],
    local_addr: Optional[Address] = None,
    remote_addr: Optional[Address] = None,
    *,
    sock: Optional[Socket] = None,
    **options: Any,
) -> Tuple[BatchTransport, _P]:
    """Open a batchudp socket as an asyncio datagram endpoint, as
    :meth:`asyncio.loop.create_datagram_endpoint` does a socket.

    ``local_addr=(host, port)`` binds (numeric host; default: the
    wildcard address of ``remote_addr``'s family, port 0);
    ``remote_addr=(host, port)`` also connects.  Or ``sock=`` takes an
    open :class:`Socket` (then neither address nor options may be given).
    ``**options`` are :meth:`Socket.bind`'s (``batch_size``, ``gro``,
    ...).  The transport owns the socket: closing it closes the socket.

    ``protocol_factory()`` makes the protocol: a :class:`BatchProtocol`
    gets each batch through ``datagrams_received(batch)``; any other
    :class:`asyncio.DatagramProtocol` gets ``datagram_received(data,
    addr)`` per datagram.  Returns ``(transport, protocol)`` once
    ``connection_made`` has been called.
    """
    loop = asyncio.get_running_loop()
    owned = sock is None
    peer: Optional[Address] = None
    if sock is None:
        if local_addr is None:
            wildcard = "::" if remote_addr is not None and ":" in str(remote_addr[0]) else "0.0.0.0"
            local_addr = (wildcard, 0)
        sock = Socket.bind(*_pair(local_addr, "local_addr"), **options)
    elif local_addr is not None or remote_addr is not None or options:
        raise ValueError("local_addr, remote_addr and options cannot be given with sock")
    try:
        if remote_addr is not None:
            peer = _pair(remote_addr, "remote_addr")
            sock.connect(*peer)
        protocol = protocol_factory()
        transport = BatchTransport(loop, sock, protocol, peer)
    except BaseException:
        if owned:
            sock.close()
        raise
    waiter = loop.create_future()
    loop.call_soon(protocol.connection_made, transport)
    loop.call_soon(transport._start_reading)
    loop.call_soon(_wake, waiter)
    try:
        await waiter
    except BaseException:
        transport.close()
        raise
    return transport, protocol


def _pair(addr: Any, name: str) -> Address:
    if not isinstance(addr, tuple) or len(addr) != 2:
        raise TypeError("%s must be a (host, port) tuple, not %r" % (name, addr))
    return (addr[0], addr[1])


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class BatchTransport(asyncio.DatagramTransport):
    """The transport :func:`create_datagram_endpoint` returns.

    asyncio's DatagramTransport (``sendto``, ``abort``, ``close``,
    ``is_closing``, ``get_extra_info``, the write buffer limits), plus
    :meth:`send_batch` and :meth:`pause_reading`/:meth:`resume_reading`.
    Sends are queued and leave in batches: everything queued in one event
    loop iteration goes in one ``budp_send``, more when the socket is
    writable again.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: Socket,
        protocol: asyncio.BaseProtocol,
        peer: Optional[Address],
    ):
        super().__init__({"sockname": sock.local_addr(), "peername": peer, "socket": sock})
        self._loop = loop
        self._sock = sock
        self._peer = peer
        self._raw_peer = _addr.encode(peer) if peer is not None else None
        self.set_protocol(protocol)
        self._queue = Outgoing([], [])
        self._head = 0  # datagrams of the queue already sent
        self._size = 0  # payload bytes queued and not sent
        self._high = _HIGH_WATER
        self._low = _HIGH_WATER // 4
        self._writing_paused = False
        # A flush to come: this loop iteration's, or the retry after an
        # ENOBUFS.  While it is set, queueing schedules no other.
        self._flush_handle: Optional[asyncio.Handle] = None
        self._backoff = Backoff()
        self._writable: Optional[asyncio.Future[None]] = None
        self._reader: Optional[Watch] = None
        self._read_handle: Optional[asyncio.Handle] = None
        self._reading_paused = False
        self._closing = False
        self._lost = False
        self.dropped = 0
        """Datagrams discarded: queued when :meth:`abort` was called (or the
        socket closed under the transport), given after :meth:`close`, or
        refused by a send error (reported to ``error_received``)."""

    def __repr__(self) -> str:
        state = "closing" if self._closing else "open"
        return "<batchudp.BatchTransport %s %r>" % (state, self.get_extra_info("sockname"))

    # --- protocol ------------------------------------------------------------

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol
        batched = getattr(protocol, "datagrams_received", None)
        self._deliver: Callable[[List[Datagram]], Any] = (
            batched if batched is not None else self._one_by_one
        )

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def _one_by_one(self, batch: List[Datagram]) -> None:
        received = self._protocol.datagram_received  # type: ignore[attr-defined]
        for d in batch:
            received(d.data, d.peer)

    # --- sending ---------------------------------------------------------------

    def sendto(self, data: BytesLike, addr: Optional[PeerAddress] = None) -> None:  # type: ignore[override]
        """Queue one datagram to ``addr`` (None on a connected transport).
        It leaves with the others queued in this loop iteration."""
        _outgoing.check_data(data)
        if addr is None or (self._peer is not None and addr == self._peer):
            raw = _addr.UNSPEC
        elif self._peer is not None:
            raise ValueError("Invalid address: must be None or %s" % (self._peer,))
        else:
            raw = _addr.encode(addr)
        if self._closing:
            self.dropped += 1
            return
        # The caller may change a mutable buffer once this returns.
        payload = data if type(data) is bytes else bytes(data)
        self._queue.append(payload, raw)
        self._size += len(payload)
        self._queued()

    def send_batch(self, datagrams: Iterable[Sendable]) -> None:
        """Queue datagrams (items as for :meth:`Socket.send`: received
        :class:`Datagram` objects go back to their peers) to leave with the
        others queued in this loop iteration, in one ``budp_send``."""
        out = _outgoing.prepare(datagrams)
        if not len(out):
            return
        if self._closing:
            self.dropped += len(out)
            return
        payloads = out.payloads
        if not all(type(p) is bytes for p in payloads):
            out.payloads = [p if type(p) is bytes else bytes(p) for p in payloads]
        self._queue.extend(out)
        self._size += sum(map(len, out.payloads))
        self._queued()

    def _queued(self) -> None:
        self._maybe_pause_protocol()
        if self._flush_handle is None and self._writable is None:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        while self._head < len(self._queue):
            wanted = len(self._queue) - self._head
            try:
                n = self._sock._send_outgoing(self._queue, self._head)
            except BlockingIOError:
                self._wait_writable()
                return
            except ClosedError as exc:
                self._force_close(exc)
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    # A full interface queue: nothing went, and writability
                    # will not say when it clears.  Try again after a sleep
                    # (see _backoff); the queue keeps everything meanwhile.
                    self._flush_handle = self._loop.call_later(
                        self._backoff.next_delay(), self._flush
                    )
                    return
                # Only the first datagram failed: drop it, go on with the
                # rest (the protocol may close or abort meanwhile).
                self._sent(1)
                self.dropped += 1
                self._protocol.error_received(exc)  # type: ignore[attr-defined]
                continue
            self._backoff.reset()
            # May call resume_writing(), which may queue more.
            self._sent(n)
            if n < wanted:
                self._wait_writable()
                return
        if self._closing:
            self._connection_lost(None)

    def _sent(self, n: int) -> None:
        """Forget the next n datagrams of the queue (sent or dropped)."""
        queue, head = self._queue, self._head
        self._size -= sum(map(len, islice(queue.payloads, head, head + n)))
        head += n
        if head >= len(queue):
            self._queue, self._head = Outgoing([], []), 0
        elif head >= _COMPACT_AT and head * 2 >= len(queue):
            queue.drop_head(head)
            self._head = 0
        else:
            self._head = head
        self._maybe_resume_protocol()

    def _wait_writable(self) -> None:
        try:
            fut = self._sock._writable_future(self._loop)
        except ClosedError as exc:
            self._force_close(exc)
            return
        self._writable = fut
        fut.add_done_callback(self._on_writable)

    def _on_writable(self, fut: asyncio.Future[None]) -> None:
        if self._writable is not fut:  # aborted meanwhile
            return
        self._writable = None
        exc = fut.exception()
        if isinstance(exc, Exception):
            self._force_close(exc)
        else:
            self._flush()

    # --- flow control ------------------------------------------------------------

    def get_write_buffer_size(self) -> int:
        """Payload bytes queued and not yet sent."""
        return self._size

    def get_write_buffer_limits(self) -> Tuple[int, int]:
        return (self._low, self._high)

    def set_write_buffer_limits(self, high: Optional[int] = None, low: Optional[int] = None) -> None:
        """The queue sizes (payload bytes) at which the protocol's
        pause_writing() and resume_writing() are called: 64 KiB and a
        quarter of high by default, as in asyncio."""
        if high is None:
            high = _HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError("high (%r) must be >= low (%r) must be >= 0" % (high, low))
        self._high, self._low = high, low
        self._maybe_pause_protocol()
        self._maybe_resume_protocol()

    def _maybe_pause_protocol(self) -> None:
        if self._size > self._high and not self._writing_paused:
            self._writing_paused = True
            self._call_protocol("pause_writing")

    def _maybe_resume_protocol(self) -> None:
        if self._writing_paused and self._size <= self._low:
            self._writing_paused = False
            self._call_protocol("resume_writing")

    def _call_protocol(self, name: str) -> None:
        # As asyncio's transports do: an exception there is the loop's to
        # report, not the sender's.
        try:
            getattr(self._protocol, name)()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler(
                {
                    "message": "protocol.%s() failed" % name,
                    "exception": exc,
                    "transport": self,
                    "protocol": self._protocol,
                }
            )

    # --- receiving ---------------------------------------------------------------

    def _start_reading(self) -> None:
        if self._closing or self._reading_paused or self._reader is not None:
            return
        try:
            self._reader = self._sock._watch(self._loop, False, self._read_ready)
        except ClosedError as exc:
            self._force_close(exc)
            return
        self._reader.fut.add_done_callback(self._on_reader_end)
        # Datagrams may wait in the library already (a threaded socket's
        # ring) without the fd saying so: look once now.
        self._schedule_read()

    def _stop_reading(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            self._sock._unwatch(reader, False)
        if self._read_handle is not None:
            self._read_handle.cancel()
            self._read_handle = None

    def _schedule_read(self) -> None:
        if self._read_handle is None:
            self._read_handle = self._loop.call_soon(self._read_ready)

    def _read_ready(self, w: Any = None) -> None:
        self._read_handle = None
        if self._sock._errors and not self._read_errors():
            return
        recv = self._sock.recv
        for _ in range(_BATCHES_PER_WAKE):
            if self._reader is None:  # paused or closing (by the protocol)
                return
            try:
                batch = recv()
            except ClosedError as exc:
                self._force_close(exc)
                return
            except OSError as exc:  # reported once; the socket goes on
                self._protocol.error_received(exc)  # type: ignore[attr-defined]
                continue
            if not batch:
                return
            self._deliver(batch)
            if len(batch) < self._sock.batch_size:
                return
        # More may be waiting, and the poll fd need not say so again: come
        # back once the loop's other callbacks have run.
        self._schedule_read()

    def _read_errors(self) -> bool:
        """Hand the error events that wait (``errors=True``) to the
        protocol: its ``error_events_received(events)`` when it has one (a
        :class:`BatchProtocol` does), else ``error_received(exc)`` per
        event.  False when the transport stopped reading meanwhile."""
        while True:
            try:
                events = self._sock.recv_errors()
            except ClosedError as exc:
                self._force_close(exc)
                return False
            except OSError as exc:
                self._protocol.error_received(exc)  # type: ignore[attr-defined]
                return self._reader is not None
            if not events:
                return True
            batched = getattr(self._protocol, "error_events_received", None)
            if batched is not None:
                batched(events)
            else:
                for event in events:
                    self._protocol.error_received(event.exception())  # type: ignore[attr-defined]
            if self._reader is None:  # paused or closing (by the protocol)
                return False
            if len(events) < BUDP_ERROR_QUEUE_EVENTS:
                return True

    def _on_reader_end(self, fut: asyncio.Future[None]) -> None:
        exc = None if fut.cancelled() else fut.exception()
        if isinstance(exc, Exception):  # the socket shut down under it
            self._force_close(exc)

    def pause_reading(self) -> None:
        """Stop receiving (the reader is removed) until :meth:`resume_reading`."""
        if self._closing or self._reading_paused:
            return
        self._reading_paused = True
        self._stop_reading()

    def resume_reading(self) -> None:
        """Receive again after :meth:`pause_reading`."""
        if self._closing or not self._reading_paused:
            return
        self._reading_paused = False
        self._start_reading()

    def is_reading(self) -> bool:
        """False once paused or closing."""
        return self._reader is not None

    # --- closing -------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Stop receiving, send what is queued (as the socket takes it),
        then call the protocol's ``connection_lost(None)`` and close the
        socket.  Datagrams given after this are dropped (counted in
        :attr:`dropped`)."""
        if self._closing:
            return
        self._closing = True
        self._stop_reading()
        if self._head >= len(self._queue):
            self._connection_lost(None)

    def abort(self) -> None:
        """Close at once: what is queued is dropped (counted in
        :attr:`dropped`; :meth:`get_write_buffer_size` before tells the
        bytes), then ``connection_lost(None)`` and the socket closes."""
        self._force_close(None)

    def _force_close(self, exc: Optional[Exception]) -> None:
        if self._lost:
            return
        self._closing = True
        self._stop_reading()
        self.dropped += len(self._queue) - self._head
        self._queue, self._head, self._size = Outgoing([], []), 0, 0
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        # The writability future may be shared with send_all(): leave it.
        self._writable = None
        self._connection_lost(exc)

    def _connection_lost(self, exc: Optional[Exception]) -> None:
        if not self._lost:
            self._lost = True
            self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: Optional[Exception]) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._sock.close()
