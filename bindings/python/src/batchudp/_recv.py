"""The receive paths: turning what the C library hands back into Datagrams.

Crossing into C and reading ctypes fields is what costs in a ctypes
binding, so the fast path makes one call per batch (budp_recv_packed) and
then works on whole buffers with C-level builtins: one struct unpack cuts
every payload out of the buffer, the peers stay raw 24-byte strings until
someone reads .peer, and the records are built by map() and zip().
"""

from __future__ import annotations

import ctypes
import errno
import struct
from itertools import repeat

from ._addr import ADDR_SIZE
from ._errors import raise_error
from ._lib import LIB, budp_datagram
from ._types import Datagram

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Tuple

    _StrByInt = Dict[int, str]
else:
    _StrByInt = dict

_budp_recv_packed = LIB.budp_recv_packed

#: budp_datagram as struct: data, len, flags, peer, local, time_ns,
#: segment_size, ecn, reserved[21].
_DGRAM = struct.Struct("@PII%ds%dsQHB21x" % (ADDR_SIZE, ADDR_SIZE))
assert _DGRAM.size == ctypes.sizeof(budp_datagram)
DGRAM_SIZE = _DGRAM.size

# Largest receive buffer allocated up front; a socket with a big
# max_datagram and a big batch receives in several calls instead.
_BUF_LIMIT = 8 << 20
_MAX_UDP = 65535


class PackedReceiver:
    """Reusable buffers for budp_recv_packed and the conversion to Datagrams."""

    def __init__(self, max_datagram: int):
        self.max_datagram = max_datagram
        self.cap = 0
        self.size = 0
        self.pending_error = 0

    def _grow(self, count: int, size: int) -> None:
        if count > self.cap:
            self.lens = (ctypes.c_uint32 * count)()
            self.flags = (ctypes.c_uint32 * count)()
            peers = bytearray(ADDR_SIZE * count)
            self.peers = peers
            self.peers_view = memoryview(peers)
            self.peers_addr = ctypes.addressof((ctypes.c_char * len(peers)).from_buffer(peers))
            self.lens_addr = ctypes.addressof(self.lens)
            self.flags_addr = ctypes.addressof(self.flags)
            self.cap = count
        if size > self.size:
            buf = bytearray(size)
            self.buf_view = memoryview(buf)
            self.buf_addr = ctypes.addressof((ctypes.c_char * size).from_buffer(buf))
            self.size = size

    def recv(self, handle: int, max: int) -> List[Datagram]:
        """Receive up to max datagrams in as few calls as the buffer allows."""
        if self.pending_error:
            code, self.pending_error = self.pending_error, 0
            raise_error(code, "recv")
        want = max
        self._grow(want, min(want * self.max_datagram, max_size(self.max_datagram)))
        out: List[Datagram] = []
        while True:
            n = _budp_recv_packed(
                handle,
                self.buf_addr,
                self.size,
                self.lens_addr,
                self.flags_addr,
                self.peers_addr,
                want,
            )
            if n <= 0:
                if n == 0:
                    return out
                if n == -errno.EMSGSIZE and self.size < _MAX_UDP:
                    # A datagram larger than max_datagram (a GRO segment):
                    # make room for the largest UDP payload and retry.
                    self._grow(want, _MAX_UDP)
                    continue
                if out:
                    # The library reports a receive error once: keep it for
                    # the next call and hand over what was received first.
                    self.pending_error = n
                    return out
                raise_error(n, "recv")
            total = self._convert(n, out)
            want -= n
            # Stop unless the buffer, not the batch, limited this call: a
            # datagram left in the library would not wake a poller.
            if want == 0 or self.size - total >= self.max_datagram:
                return out

    def _convert(self, n: int, out: List[Datagram]) -> int:
        lens = self.lens[:n]
        flags = self.flags[:n]
        if n == 1:
            total = lens[0]
            data = self.buf_view[:total].tobytes()
            out.append(Datagram((data, self.peers_view[:ADDR_SIZE].tobytes(), flags[0])))
            return total
        # One struct format per sequence of lengths ("64s64s..."): unpacking
        # cuts every payload out of the buffer in one C call.
        key = tuple(lens)
        layout = _layouts.get(key)
        if layout is None:
            layout = struct.Struct("".join(map(_field_formats.__getitem__, lens)))
            if len(_layouts) >= _LAYOUTS_MAX:
                _layouts.clear()
            _layouts[key] = layout
        datas = layout.unpack_from(self.buf_view)
        praw = self.peers_view[: n * ADDR_SIZE].tobytes()
        first = praw[:ADDR_SIZE]
        if praw == first * n:
            peers: Any = repeat(first)
        else:
            peers = map(
                praw.__getitem__,
                map(
                    slice,
                    range(0, n * ADDR_SIZE, ADDR_SIZE),
                    range(ADDR_SIZE, (n + 1) * ADDR_SIZE, ADDR_SIZE),
                ),
            )
        out.extend(map(Datagram, zip(datas, peers, flags)))
        return layout.size


class _FieldFormats(_StrByInt):
    """length -> "<length>s", filled on demand."""

    def __missing__(self, length: int) -> str:
        if len(self) >= 4096:
            self.clear()
        fmt = self[length] = "%ds" % length
        return fmt


_field_formats = _FieldFormats()
_layouts: Dict[Tuple[int, ...], struct.Struct] = {}
_LAYOUTS_MAX = 64


def max_size(max_datagram: int) -> int:
    """The receive buffer size limit for a given max_datagram."""
    return _BUF_LIMIT if _BUF_LIMIT > max_datagram else max_datagram


# --- views (budp_recv, callbacks) -----------------------------------------

_string_at = ctypes.string_at


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
_EMPTY = b""


def unpack(address: int, n: int, as_views: bool) -> List[Tuple[Any, ...]]:
    """Datagram fields for n budp_datagram structs at address.

    Each entry is (data, raw peer, flags, segment_size, ecn, raw local,
    time_ns); data is bytes (a copy) or, with as_views, a memoryview over
    the library's buffer.
    """
    raw = _string_at(address, n * DGRAM_SIZE)
    out = []
    for ptr, length, flags, peer, local, time_ns, seg, ecn in _DGRAM.iter_unpack(raw):
        if length == 0:
            data: Any = memoryview(_EMPTY) if as_views else _EMPTY
        elif as_views:
            data = _view(ptr, length)
        else:
            data = _string_at(ptr, length)
        out.append((data, peer, flags, seg, ecn, local, time_ns))
    return out


def to_datagrams(fields: List[Tuple[Any, ...]]) -> List[Datagram]:
    """Datagrams from the tuples unpack() returns."""
    return list(map(Datagram, fields))
