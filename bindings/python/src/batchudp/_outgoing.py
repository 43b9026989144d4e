"""Outgoing datagrams: OutgoingDatagram, and turning what send() is given
into the budp_datagram table budp_send takes.

The table is built with C-level calls over whole lists (map, join,
accumulate): the payloads are joined into one buffer, so one address
lookup serves the batch, and the peers are kept as raw 24-byte budp_addr
strings (a received Datagram carries its peer in that form already, so an
echo encodes nothing).
"""

from __future__ import annotations

import ctypes
import struct
from collections import namedtuple
from itertools import accumulate, islice, repeat
from operator import itemgetter

from . import _addr
from ._views import DGRAM_SIZE
from ._types import Datagram, DatagramView

_DOC = """One datagram to send.

    data: the payload (bytes, bytearray or memoryview, up to 65535 bytes).
    peer: the destination ``(host, port)``; None on a connected socket.
    local: the source address to send from ``(host, port)`` (IP_PKTINFO;
        the port is ignored), None to let the kernel pick.
    ecn: the ECN codepoint (0-3) to set, on a socket with ``ecn=True``.
    time_ns: the earliest departure time, in nanoseconds of the clock the
        socket's ``pacing`` option names (``time.monotonic_ns()`` for
        'monotonic', CLOCK_TAI for 'tai'); 0 leaves at once.  Only with
        pacing on: otherwise a non-zero time is refused (EINVAL).

    A plain ``(data, peer)`` pair or bare ``data`` does as well where
    local, ecn and time_ns are not needed.
    """

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Iterable, List, NamedTuple, Optional, Tuple, Union

    from ._types import Address

    BytesLike = Union[bytes, bytearray, memoryview]
    #: A destination: ``(host, port)``, or an IPv6 ``(host, port, flowinfo,
    #: scope_id)`` as the socket module spells it.
    PeerAddress = Union[Address, Tuple[str, int, int, int]]

    class OutgoingDatagram(NamedTuple):
        """One datagram to send: the payload, the destination (None on a
        connected socket), the source address to send from (None: the
        kernel picks), the ECN codepoint and the departure time (with
        pacing on; 0: at once)."""

        data: BytesLike
        peer: Optional[PeerAddress] = None
        local: Optional[PeerAddress] = None
        ecn: int = 0
        time_ns: int = 0

    #: What :meth:`Socket.send` takes per datagram.
    Sendable = Union[
        bytes,
        bytearray,
        memoryview,
        OutgoingDatagram,
        Datagram,
        DatagramView,
        Tuple[BytesLike, PeerAddress],
    ]
else:
    OutgoingDatagram = namedtuple(
        "OutgoingDatagram", ("data", "peer", "local", "ecn", "time_ns"), defaults=(None, None, 0, 0)
    )
    OutgoingDatagram.__module__ = "batchudp"
    OutgoingDatagram.__doc__ = _DOC

# budp_datagram for sending: data pointer, len, flags=0, peer, then zero
# bytes (pad bytes pack as zero) for local (the kernel picks the source),
# time_ns (no pacing: the library refuses anything but 0), and
# segment_size, ecn and reserved[21] (which must be zero).
_SEND = struct.Struct("@PII%ds%dx8x24x" % (_addr.ADDR_SIZE, _addr.ADDR_SIZE))
# The same with local, time_ns and ecn set: segment_size stays zero.
_SEND_FULL = struct.Struct("@PII%ds%dsQ2xB21x" % (_addr.ADDR_SIZE, _addr.ADDR_SIZE))
assert _SEND.size == _SEND_FULL.size == DGRAM_SIZE
SEND_PACK = _SEND.pack
_SEND_FULL_PACK = _SEND_FULL.pack

BYTES_LIKE = (bytes, bytearray, memoryview)
_BYTES_KINDS = frozenset((bytes, bytearray))
_RECEIVED = (Datagram, DatagramView)
_UNSPEC = _addr.UNSPEC
_first = itemgetter(0)
_second = itemgetter(1)


class Outgoing:
    """Datagrams ready for budp_send: payloads, raw peers and, once a
    datagram sets one of them, raw local addresses, ECN codepoints and
    departure times (parallel lists; the last three are all None or all
    lists).  A transport keeps its queue in one of these."""

    __slots__ = ("payloads", "peers", "locals", "ecns", "times")

    def __init__(
        self,
        payloads: List[Any],
        peers: List[bytes],
        locals: Optional[List[bytes]] = None,
        ecns: Optional[List[int]] = None,
        times: Optional[List[int]] = None,
    ):
        self.payloads = payloads
        self.peers = peers
        self.locals = locals
        self.ecns = ecns
        self.times = times

    def __len__(self) -> int:
        return len(self.payloads)

    def append(self, data: Any, peer: bytes) -> None:
        """Add one datagram with no local address, ECN or departure time."""
        self.payloads.append(data)
        self.peers.append(peer)
        if self.locals is not None:
            self.locals.append(_UNSPEC)
            self.ecns.append(0)  # type: ignore[union-attr]
            self.times.append(0)  # type: ignore[union-attr]

    def extend(self, other: Outgoing) -> None:
        """Add other's datagrams after these."""
        if other.locals is not None and self.locals is None:
            self.locals = [_UNSPEC] * len(self.payloads)
            self.ecns = [0] * len(self.payloads)
            self.times = [0] * len(self.payloads)
        self.payloads += other.payloads
        self.peers += other.peers
        if self.locals is not None:
            n = len(other.payloads)
            self.locals += other.locals if other.locals is not None else [_UNSPEC] * n
            self.ecns += other.ecns if other.ecns is not None else [0] * n  # type: ignore[operator]
            self.times += other.times if other.times is not None else [0] * n  # type: ignore[operator]

    def drop_head(self, n: int) -> None:
        """Forget the first n datagrams."""
        del self.payloads[:n]
        del self.peers[:n]
        if self.locals is not None:
            del self.locals[:n]
            del self.ecns[:n]  # type: ignore[union-attr]
            del self.times[:n]  # type: ignore[union-attr]

    def table(self, start: int) -> Tuple[bytes, bytes, int]:
        """(payload buffer, budp_datagram table, count) for the datagrams
        from start on.  Both buffers must stay referenced during the call."""
        payloads = self.payloads
        if start:
            payloads = payloads[start:]
        blob = b"".join(payloads)
        lens = payload_lengths(payloads)
        offsets = accumulate(lens, initial=address_of(blob))
        peers = islice(self.peers, start, None)
        if self.locals is None:
            table = b"".join(map(SEND_PACK, offsets, lens, repeat(0), peers))
        else:
            locals_ = islice(self.locals, start, None)
            times = islice(self.times, start, None)  # type: ignore[arg-type]
            ecns = islice(self.ecns, start, None)  # type: ignore[arg-type]
            table = b"".join(
                map(_SEND_FULL_PACK, offsets, lens, repeat(0), peers, locals_, times, ecns)
            )
        return blob, table, len(lens)


def payload_lengths(payloads: List[Any]) -> List[int]:
    """Each payload's size in bytes."""
    if _BYTES_KINDS.issuperset(map(type, payloads)):
        return list(map(len, payloads))
    # memoryview: len() counts items, which need not be bytes
    return [len(p) if type(p) is bytes else memoryview(p).nbytes for p in payloads]


def address_of(data: bytes) -> int:
    """The address of a bytes object's buffer (kept alive by the caller)."""
    return ctypes.cast(data, ctypes.c_void_p).value  # type: ignore[arg-type,return-value]


def prepare(datagrams: Iterable[Sendable]) -> Outgoing:
    """Check and convert what send() was given (see Socket.send)."""
    if isinstance(datagrams, BYTES_LIKE + (str,)):
        raise TypeError("send() takes a list of datagrams, e.g. send([data])")
    items = datagrams if type(datagrams) is list else list(datagrams)
    kinds = set(map(type, items))
    # The common homogeneous batches convert with C-level calls alone.
    if len(kinds) == 1:
        kind = next(iter(kinds))
        if kind is Datagram or kind is DatagramView:
            return Outgoing(list(map(_first, items)), list(map(_second, items)))
        if kind is bytes:
            return Outgoing(items, [_UNSPEC] * len(items))
    return _prepare_mixed(items)


def _prepare_mixed(items: List[Any]) -> Outgoing:
    out = Outgoing([], [])
    encode = _addr.encode
    for item in items:
        kind = type(item)
        if kind is Datagram or kind is DatagramView:
            out.append(item[0], item[1])
        elif isinstance(item, BYTES_LIKE):
            out.append(item, _UNSPEC)
        elif kind is OutgoingDatagram:
            data, peer, local, ecn, time_ns = item
            check_data(data)
            raw_peer = _UNSPEC if peer is None else encode(peer)
            if local is None and not ecn and not time_ns:
                out.append(data, raw_peer)
                continue
            raw_local = _UNSPEC if local is None else encode(local)
            if type(ecn) is not int or not 0 <= ecn <= 3:
                raise ValueError("ecn must be an int in 0..3, not %r" % (ecn,))
            if type(time_ns) is not int or not 0 <= time_ns < 2**64:
                raise ValueError("time_ns must be an int in 0..2**64-1, not %r" % (time_ns,))
            out.extend(Outgoing([data], [raw_peer], [raw_local], [ecn], [time_ns]))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            check_data(item[0])
            out.append(item[0], encode(item[1]))
        else:
            raise TypeError(
                "each datagram must be bytes-like, a (data, (host, port)) pair or an "
                "OutgoingDatagram, not %s" % (kind.__name__,)
            )
    return out


def check_data(data: Any) -> None:
    """TypeError unless data is a payload (bytes, bytearray, memoryview)."""
    if not isinstance(data, BYTES_LIKE):
        raise TypeError(
            "datagram data must be bytes, bytearray or memoryview, not %s" % type(data).__name__
        )
