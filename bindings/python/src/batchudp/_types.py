"""Value types handed to Python code: Datagram and ViewBatch (Stats is in
_stats.py)."""

from __future__ import annotations

from operator import itemgetter

from . import _addr
from ._lib import (
    BUDP_DGRAM_COALESCED,
    BUDP_DGRAM_CONTROL_TRUNCATED,
    BUDP_DGRAM_HAS_ECN,
    BUDP_DGRAM_HAS_LOCAL,
    BUDP_DGRAM_TRUNCATED,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, List, Optional, Tuple

    Address = Tuple[str, int]
    _MemoryviewList = List[memoryview]
else:
    _MemoryviewList = list


_tuple_len = tuple.__len__


class Datagram(tuple):
    """One received datagram (a read-only record).

    Attributes:
        data: the payload (``bytes``; a ``memoryview`` for the entries of
            :attr:`ViewBatch.datagrams`).
        peer: the source address, ``(host, port)``.
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
        time_ns: the kernel's receive time in nanoseconds; 0 unless an
            option that fills it is on (none does in libbatchudp 0.2.0).
        flags: the raw ``BUDP_DGRAM_*`` bits.

    Instances are created by the library; the peer address is kept in its
    raw form and converted on first access (through a small cache).
    """

    __slots__ = ()

    data = property(itemgetter(0), doc="The payload.")
    flags = property(itemgetter(2), doc="The raw BUDP_DGRAM_* flag bits.")

    @property
    def peer(self) -> Optional[Address]:
        """The source address, ``(host, port)``."""
        return _addr.decode(self[1])

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
            return self[3]
        return None if self[2] & BUDP_DGRAM_COALESCED else 0

    @property
    def ecn(self) -> Optional[int]:
        """The received ECN codepoint, or None when not reported."""
        if self[2] & BUDP_DGRAM_HAS_ECN and _tuple_len(self) > 4:
            return self[4]
        return None

    @property
    def local(self) -> Optional[Address]:
        """The destination address (``pktinfo=True``), or None."""
        if self[2] & BUDP_DGRAM_HAS_LOCAL and _tuple_len(self) > 5:
            return _addr.decode(self[5])
        return None

    @property
    def time_ns(self) -> int:
        """The kernel's receive time in nanoseconds: 0 unless an option that
        fills it is on (none does in libbatchudp 0.2.0)."""
        # Only the detailed paths (budp_recv, callbacks) read the field; the
        # packed fast path does not carry it, and it is 0 there anyway.
        if _tuple_len(self) > 6:
            return self[6]  # type: ignore[no-any-return]
        return 0

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
        return "Datagram(data=%s, peer=%r%s)" % (shown, self.peer, extra)


_make = tuple.__new__


def make_datagram(fields: Any) -> Datagram:
    """Build a Datagram from (data, raw_peer, flags[, segment_size, ecn, raw_local, time_ns])."""
    return _make(Datagram, fields)


class ViewBatch(_MemoryviewList):
    """The memoryviews of one zero-copy receive (see :meth:`Socket.recv_views`).

    A list of read-only memoryviews over buffers owned by the library,
    valid only inside the ``with`` block (they are released when it exits,
    or earlier when the socket receives again or closes).
    :attr:`datagrams` gives the same views with their metadata.
    """

    __slots__ = ("_details",)

    def __init__(self, views: List[memoryview], details: List[Tuple[Any, ...]]):
        super().__init__(views)
        self._details = details

    @property
    def datagrams(self) -> List[Datagram]:
        """One :class:`Datagram` per view (``data`` is the memoryview)."""
        return [make_datagram(d) for d in self._details]

    def release(self) -> None:
        """Release every view now; further access to them raises ValueError."""
        for view in self:
            view.release()
        self._details = []
