"""Reading budp_datagram descriptors (budp_recv, callbacks): zero-copy
views, and the detailed records of recv(detailed=True) and the callbacks.

The data pointers of one budp_recv batch all point into one block owned by
the socket (its receive slots, or its ring's, are one allocation), so a
batch needs one memoryview over the span they cover, made by one foreign
call; each datagram's view is a slice of it, cut by C-level calls (map
over slice objects), and a copy is bytes() of that slice.  The data
pointers and lengths are read through strided memoryviews of the
descriptors, with no Python loop.
"""

from __future__ import annotations

import ctypes
import struct
from itertools import repeat
from operator import add, getitem, sub

from ._addr import ADDR_SIZE
from ._lib import BUDP_MEMORY_LIMIT, budp_datagram
from ._types import Datagram, DatagramBatch

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, List, Optional, Tuple

#: budp_datagram as struct: data, len, flags, peer, local, time_ns,
#: segment_size, ecn, reserved[21].
DGRAM = struct.Struct("@PII%ds%dsQHB21x" % (ADDR_SIZE, ADDR_SIZE))
assert DGRAM.size == ctypes.sizeof(budp_datagram)
DGRAM_SIZE = DGRAM.size

_string_at = ctypes.string_at
# operator.getitem, typed for the one use here (its stub's overloads do not
# cover memoryview slicing).
_cut: Callable[[memoryview, slice], memoryview] = getitem  # type: ignore[assignment]

# The data pointer and the length of each descriptor, read as arrays of
# pointers and of 32-bit words: index and stride in each.
_PTR_STRIDE = DGRAM_SIZE // ctypes.sizeof(ctypes.c_void_p)
_LEN_INDEX = ctypes.sizeof(ctypes.c_void_p) // 4
_LEN_STRIDE = DGRAM_SIZE // 4
assert budp_datagram.data.offset == 0 and budp_datagram.len.offset == _LEN_INDEX * 4

# A span wider than the most receive memory a socket may have means the
# pointers are not in one block: each view is then made on its own.
_SPAN_MAX = BUDP_MEMORY_LIMIT


def _memoryview_factory() -> Callable[[int, int], memoryview]:
    """A function (address, length) -> read-only memoryview, no copy."""
    try:
        from_memory = ctypes.pythonapi.PyMemoryView_FromMemory
        from_memory.restype = ctypes.py_object
        from_memory.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int]
        pybuf_read = 0x100

        def view(address: int, length: int) -> memoryview:
            return from_memory(address, length, pybuf_read)  # type: ignore[no-any-return]

    except (AttributeError, OSError):  # not CPython

        def view(address: int, length: int) -> memoryview:
            arr = (ctypes.c_ubyte * length).from_address(address)
            return memoryview(arr).cast("B").toreadonly()

    return view


_view = _memoryview_factory()


class Cutter:
    """Cuts a socket's batches into views.

    Keeps the layout of the last batch: its pointers (with the span's start
    and each datagram's offset in it) and its lengths (with the span's
    length and the slice objects).  A socket that receives into the same
    slots again reuses the offsets, and one that also receives datagrams of
    the same sizes (fixed-size traffic) reuses the slices; each check is a
    comparison of two memoryviews, made without an int per pointer or
    length.  Kept in one attribute, so a thread reading it sees a whole one.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        none = memoryview(b"")
        self._last: Tuple[Any, ...] = (none, 0, [], none, 0, [])

    def slices(self, raw: bytes) -> Iterator[memoryview]:
        """A read-only view of each datagram of the descriptors in raw,
        all cut from one view of the span they cover."""
        # The pointers and the lengths, as strided views of the descriptors
        # (compared element by element in C, no int made for either).
        ptrs = memoryview(raw).cast("P")[::_PTR_STRIDE]
        lens = memoryview(raw).cast("I")[_LEN_INDEX::_LEN_STRIDE]
        last_ptrs, base, starts, last_lens, span, cuts = self._last
        if ptrs == last_ptrs:
            if lens == last_lens:
                return map(_cut, repeat(_view(base, span)), cuts)
        else:
            addresses = ptrs.tolist()
            base = min(addresses)
            starts = list(map(sub, addresses, repeat(base)))
        stops = list(map(add, starts, lens.tolist()))
        span = max(stops)
        if span > _SPAN_MAX:
            return map(_view, ptrs.tolist(), lens.tolist())
        cuts = list(map(slice, starts, stops))
        self._last = (ptrs, base, starts, lens, span, cuts)
        # Each slice registers with the buffer itself: the span's view, never
        # handed out, goes away with this map, and the slices stay valid.
        return map(_cut, repeat(_view(base, span)), cuts)

    def views(self, address: int, n: int) -> DatagramBatch:
        """The DatagramBatch for n > 0 descriptors at address, as budp_recv
        returns them (valid until the next receive)."""
        raw = _string_at(address, n * DGRAM_SIZE)
        return DatagramBatch(self.slices(raw), raw)

    def copies(self, address: Any, n: int) -> List[Datagram]:
        """Datagrams (payloads copied, every field) for n > 0 descriptors at
        address (an int or a ctypes pointer)."""
        raw = _string_at(address, n * DGRAM_SIZE)
        _, _, flags, peers, locals_, times, segs, ecns = zip(*DGRAM.iter_unpack(raw))
        datas = map(bytes, self.slices(raw))
        return list(map(Datagram, zip(datas, peers, flags, segs, ecns, locals_, times)))


def records(got: List[memoryview], raw: bytes) -> Iterator[Tuple[Any, ...]]:
    """(view, raw peer, flags, segment_size, ecn, raw local, time_ns) per
    datagram, from the descriptors copied at receive time."""
    # Columns: data, len, flags, peer, local, time_ns, segment_size, ecn.
    _, _, flags, peers, locals_, times, segs, ecns = zip(*DGRAM.iter_unpack(raw))
    return zip(got, peers, flags, segs, ecns, locals_, times)
