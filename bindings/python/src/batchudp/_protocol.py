"""BatchProtocol: the asyncio protocol that receives whole batches.

Imported on first use of batchudp.BatchProtocol, as it imports asyncio.
"""

from __future__ import annotations

import asyncio

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import List

    from ._events import ErrorEvent
    from ._transport import BatchTransport
    from ._types import Datagram


class BatchProtocol(asyncio.DatagramProtocol):
    """The protocol of :func:`batchudp.create_datagram_endpoint`.

    Override :meth:`datagrams_received` to handle each received batch at
    once (answer with ``self.transport.send_batch(...)``: one system call
    for the batch).  Code written for :class:`asyncio.DatagramProtocol`
    works unchanged: the default :meth:`datagrams_received` calls
    ``datagram_received(data, addr)`` for each datagram, and a transport's
    ``sendto`` calls made in one event loop iteration leave in one batch.

    The other callbacks are asyncio's: ``connection_made(transport)``
    (this class keeps the transport in :attr:`transport`),
    ``error_received(exc)`` (a receive error, or a send error: the
    datagram that met it was dropped), ``connection_lost(exc)`` (None after
    ``close()``/``abort()``, a :class:`ClosedError` when the socket was
    closed under the transport), ``pause_writing()``/``resume_writing()``
    (the transport's queue passed the high-water mark / fell to the
    low-water mark).

    On a socket opened with ``errors=True`` the transport reads the error
    events and hands them to :meth:`error_events_received`; a protocol
    without that method gets ``error_received(exc)`` per event instead.
    """

    #: The transport, set by :meth:`connection_made`.
    transport: BatchTransport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport in :attr:`transport` (call this when
        overriding)."""
        from ._transport import BatchTransport

        if not isinstance(transport, BatchTransport):
            raise TypeError("BatchProtocol needs a batchudp.BatchTransport")
        self.transport = transport

    def datagrams_received(self, batch: List[Datagram]) -> None:
        """Called with each received batch (a new list, the protocol's to
        keep).  The default calls :meth:`datagram_received` per datagram."""
        received = self.datagram_received
        for d in batch:
            received(d.data, d.peer)

    def error_events_received(self, events: List[ErrorEvent]) -> None:
        """Called with the error events read (``errors=True``; see
        :meth:`Socket.recv_errors`).  The default calls
        ``error_received(event.exception())`` for each."""
        for event in events:
            self.error_received(event.exception())
