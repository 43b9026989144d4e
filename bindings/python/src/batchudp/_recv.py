"""The fast receive path: budp_recv_packed into reusable buffers, then
Datagrams.

Crossing into C and reading ctypes fields is what costs in a ctypes
binding, so this path makes one call per batch and then works on whole
buffers with C-level builtins: the lengths and flags come out of their
arrays in one call each, the payloads are cut from the packed buffer by
one struct unpack when they have one size, else by io.BytesIO.read mapped
over the lengths (no format compiled per sequence of lengths), the peers
stay raw 24-byte strings until someone reads .peer, and the records are
built by map() and zip().
"""

from __future__ import annotations

import ctypes
import errno
import struct
from io import BytesIO
from itertools import repeat

from ._addr import ADDR_SIZE
from ._errors import raise_error
from ._lib import LIB
from ._types import Datagram

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Dict, List, Tuple

_budp_recv_packed = LIB.budp_recv_packed

# Largest receive buffer allocated up front; a socket with a big
# max_datagram and a big batch receives in several calls instead.
_BUF_LIMIT = 8 << 20
_MAX_UDP = 65535


def _buffer(size: int) -> "tuple[bytearray, memoryview, int]":
    """A zeroed buffer, a view of it and its address."""
    buf = bytearray(size)
    return buf, memoryview(buf), ctypes.addressof((ctypes.c_char * size).from_buffer(buf))


class PackedReceiver:
    """Reusable buffers for budp_recv_packed and the conversion to Datagrams."""

    def __init__(self, max_datagram: int):
        self.max_datagram = max_datagram
        self.cap = 0
        self.size = 0
        self.pending_error = 0

    def _grow(self, count: int, size: int) -> None:
        if count > self.cap:
            # uint32_t arrays read back with memoryview.tolist(): one call
            # for the whole batch.
            self._lens, lens, self.lens_addr = _buffer(4 * count)
            self._flags, flags, self.flags_addr = _buffer(4 * count)
            self.lens = lens.cast("I")
            self.flags = flags.cast("I")
            self.peers, self.peers_view, self.peers_addr = _buffer(ADDR_SIZE * count)
            self.cap = count
        if size > self.size:
            self.buf, self.buf_view, self.buf_addr = _buffer(size)
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
        # The common batches (one size, no flag) are told apart by comparing
        # whole arrays, without making an int per datagram.
        lens_raw = self._lens[: 4 * n]
        size = self.lens[0]
        datas: Any
        if lens_raw == _U32.pack(size) * n:
            # Datagrams of one size (fixed-size traffic): one unpack copies
            # them all, with a format made once per (size, count).
            total = size * n
            datas = _uniform_layout(size, n).unpack_from(self.buf_view)
        else:
            # Any sizes: one copy of the batch's bytes into the BytesIO,
            # then read() cuts each payload, with no format to compile.
            lens = self.lens[:n].tolist()
            total = sum(lens)
            datas = map(BytesIO(self.buf_view[:total]).read, lens)
        flags: Any
        if self._flags[: 4 * n] == bytes(4 * n):
            flags = repeat(0)
        else:
            flags = self.flags[:n].tolist()
        praw = self.peers_view[: n * ADDR_SIZE].tobytes()
        first = praw[:ADDR_SIZE]
        if praw == first * n:
            peers: Any = repeat(first)
        else:
            peers = map(BytesIO(praw).read, repeat(ADDR_SIZE, n))
        out.extend(map(Datagram, zip(datas, peers, flags)))
        return total


_U32 = struct.Struct("=I")
_uniform: Dict[Tuple[int, int], struct.Struct] = {}
_UNIFORM_MAX = 32


def _uniform_layout(size: int, n: int) -> struct.Struct:
    """The struct that cuts n payloads of size bytes from a buffer."""
    layout = _uniform.get((size, n))
    if layout is None:
        if len(_uniform) >= _UNIFORM_MAX:
            _uniform.clear()
        layout = _uniform[size, n] = struct.Struct("%ds" % size * n)
    return layout


def max_size(max_datagram: int) -> int:
    """The receive buffer size limit for a given max_datagram."""
    return _BUF_LIMIT if _BUF_LIMIT > max_datagram else max_datagram
