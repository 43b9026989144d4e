"""Received datagrams: Datagram, DatagramView and DatagramBatch (Stats is in
_stats.py, OutgoingDatagram in _outgoing.py).

A received record is a tuple (data, raw peer, flags[, segment_size, ecn,
raw local, time_ns]): building one is a single C-level call per datagram,
and the fields most programs never read (the peer's text form, the flags'
meanings) are worked out on access.
"""

from __future__ import annotations

from operator import itemgetter

from . import _addr
from ._lib import (
    BUDP_DGRAM_COALESCED,
    BUDP_DGRAM_CONTROL_TRUNCATED,
    BUDP_DGRAM_HAS_ECN,
    BUDP_DGRAM_HAS_LOCAL,
    BUDP_DGRAM_HAS_TIME,
    BUDP_DGRAM_TRUNCATED,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import datetime
    from typing import Any, Iterable, List, Optional, Tuple

    #: An address as this package takes and gives it: ``(host, port)``, the
    #: host numeric ("192.0.2.1", "2001:db8::1", "fe80::1%2").
    Address = Tuple[str, int]
    _Record = Tuple[Any, ...]
    _MemoryviewList = List[memoryview]
else:
    Address = tuple
    _Record = tuple
    _MemoryviewList = list


_tuple_len = tuple.__len__


class _Received(_Record):
    """The fields a Datagram and a DatagramView share."""

    __slots__ = ()

    if TYPE_CHECKING:

        @property
        def flags(self) -> int:
            """The raw BUDP_DGRAM_* flag bits."""
            ...

    else:
        flags = property(itemgetter(2), doc="The raw BUDP_DGRAM_* flag bits.")

    @property
    def peer(self) -> Address:
        """The source address, ``(host, port)``: the form :meth:`Socket.send`
        and the transports take back."""
        return _addr.decode_peer(self[1])

    @property
    def truncated(self) -> bool:
        """True when the datagram was cut to ``max_datagram`` bytes."""
        return bool(self[2] & BUDP_DGRAM_TRUNCATED)

    @property
    def coalesced(self) -> bool:
        """True for one segment of a GRO receive."""
        return bool(self[2] & BUDP_DGRAM_COALESCED)

    @property
    def control_truncated(self) -> bool:
        """True when the kernel cut the datagram's control data (MSG_CTRUNC)."""
        return bool(self[2] & BUDP_DGRAM_CONTROL_TRUNCATED)

    @property
    def segment_size(self) -> Optional[int]:
        """GRO segment size: 0 when not a segment, None when not reported."""
        if _tuple_len(self) > 3:
            return int(self[3])
        return None if self[2] & BUDP_DGRAM_COALESCED else 0

    @property
    def ecn(self) -> Optional[int]:
        """The received ECN codepoint, or None when not reported."""
        if self[2] & BUDP_DGRAM_HAS_ECN and _tuple_len(self) > 4:
            return int(self[4])
        return None

    @property
    def local(self) -> Optional[Address]:
        """The destination address (``pktinfo=True``), or None."""
        if self[2] & BUDP_DGRAM_HAS_LOCAL and _tuple_len(self) > 5:
            return _addr.decode(self[5])
        return None

    @property
    def time_ns(self) -> Optional[int]:
        """The kernel's receive time, in nanoseconds since the Unix epoch
        (CLOCK_REALTIME, as :func:`time.time_ns`), when the socket has
        ``timestamps=True``; else None."""
        # Only the detailed paths (budp_recv, callbacks, views) read the
        # field, and a socket with timestamps on always takes them.
        if self[2] & BUDP_DGRAM_HAS_TIME and _tuple_len(self) > 6:
            return int(self[6])
        return None

    @property
    def time(self) -> Optional[datetime.datetime]:
        """:attr:`time_ns` as an aware UTC :class:`datetime.datetime`
        (microseconds: the nanoseconds are cut), or None."""
        ns = self.time_ns
        if ns is None:
            return None
        import datetime  # loaded on first use, as the package loads nothing it need not

        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return epoch + datetime.timedelta(microseconds=ns // 1000)

    def __repr__(self) -> str:
        data = self[0]
        shown = repr(data) if isinstance(data, bytes) else "<memoryview %d bytes>" % len(data)
        extra = ""
        if self.truncated:
            extra += ", truncated=True"
        if self.control_truncated:
            extra += ", control_truncated=True"
        if self.coalesced:
            extra += ", segment_size=%r" % (self.segment_size,)
        if self.ecn is not None:
            extra += ", ecn=%d" % self.ecn
        if self.local is not None:
            extra += ", local=%r" % (self.local,)
        if self.time_ns is not None:
            extra += ", time_ns=%d" % self.time_ns
        return "%s(data=%s, peer=%r%s)" % (type(self).__name__, shown, self.peer, extra)


class Datagram(_Received):
    """One received datagram (a read-only record), as :meth:`Socket.recv`,
    the callbacks and the asyncio paths hand it over.

    Attributes:
        data: the payload (``bytes``).
        peer: the source address, ``(host, port)``, never None: pass it back
            to :meth:`Socket.send` or ``transport.sendto`` to answer.
        truncated: True when the datagram was longer than the socket's
            ``max_datagram``: ``data`` holds its first bytes, the rest is lost.
        coalesced: True for one segment of a GRO receive.
        control_truncated: True when the kernel ran out of room for the
            datagram's control data: what was cut (``local``, ``ecn``) is
            not reported, and with GRO the datagram is ``truncated`` too.
        segment_size: the GRO segment size; 0 for an ordinary datagram, None
            when the receive path did not report it (a GRO segment returned
            by the fast :meth:`Socket.recv` path; use ``detailed=True``).
        ecn: the ECN codepoint (0-3) when the socket has ``ecn=True``, else None.
        local: the destination address ``(host, port)`` when the socket has
            ``pktinfo=True``, else None.
        time_ns: the kernel's receive time in nanoseconds since the Unix
            epoch (as :func:`time.time_ns`) when the socket has
            ``timestamps=True``, else None; ``time`` gives it as a
            :class:`datetime.datetime`.
        flags: the raw ``BUDP_DGRAM_*`` bits.

    A received Datagram given to :meth:`Socket.send` (or a transport's
    ``send_batch``) is sent back to its ``peer``: an echo is
    ``sock.send(batch)``.
    """

    __slots__ = ()

    if TYPE_CHECKING:

        @property
        def data(self) -> bytes:
            """The payload."""
            ...

    else:
        data = property(itemgetter(0), doc="The payload (bytes).")


class DatagramView(_Received):
    """A received datagram whose ``data`` is a read-only ``memoryview`` into
    the library's buffer (:attr:`DatagramBatch.datagrams`): valid while
    its batch is, the other fields as :class:`Datagram`'s."""

    __slots__ = ()

    if TYPE_CHECKING:

        @property
        def data(self) -> memoryview:
            """The payload, a view released with its batch."""
            ...

    else:
        data = property(itemgetter(0), doc="The payload (a memoryview).")


_make = tuple.__new__


def make_datagram(fields: Any) -> Datagram:
    """Build a Datagram from (data, raw_peer, flags[, segment_size, ecn, raw_local, time_ns])."""
    return _make(Datagram, fields)


class DatagramBatch(_MemoryviewList):
    """The memoryviews of one zero-copy receive (see :meth:`Socket.recv_views`).

    A list of read-only memoryviews over buffers owned by the library,
    valid only inside the ``with`` block (they are released when it exits,
    or earlier when the socket receives again or closes).
    :attr:`datagrams` gives the same views with their metadata.
    """

    __slots__ = ("_raw",)

    def __init__(self, views: Iterable[memoryview], raw: bytes = b""):
        super().__init__(views)
        # The descriptors, copied at receive time: .datagrams reads the
        # peers and flags from them on access (most users of views never
        # read them).
        self._raw = raw

    @property
    def datagrams(self) -> List[DatagramView]:
        """One :class:`DatagramView` per view (``data`` is the memoryview)."""
        if not self._raw:
            return []
        from ._views import records

        return list(map(DatagramView, records(self, self._raw)))

    def release(self) -> None:
        """Release every view now; further access to them raises ValueError.

        Raises BufferError if an object still exports one of them (a
        ``numpy`` array over a view, say); the others are released."""
        self._raw = b""
        try:
            # any() drives the C-level map and discards the Nones.
            any(map(_release, self))
        except BufferError:
            failed = 0
            for view in self:
                try:
                    view.release()
                except BufferError:
                    failed += 1
            raise BufferError(
                "%d view(s) from recv_views() still exported (by another object "
                "holding its buffer) past their lifetime" % failed
            ) from None


_release = memoryview.release

#: The former name of :class:`DatagramBatch`.
ViewBatch = DatagramBatch
