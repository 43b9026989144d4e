"""batchudp: receive and send UDP datagrams in batches (libbatchudp).

A pure-ctypes binding: one call into the C library per batch of datagrams
(recvmmsg/sendmmsg on Linux, recvmsg_x/sendmsg_x on Apple platforms, UDP
GRO/GSO where the kernel has them).

    import batchudp

    with batchudp.Socket.bind("127.0.0.1", 0) as sock:
        sock.wait(1.0)
        for d in sock.recv():
            print(d.peer, d.data)

The shared library is found through the BATCHUDP_LIBRARY environment
variable (a path), then ``pkg-config --variable=libdir batchudp``, then
``ctypes.util.find_library``.
"""

from __future__ import annotations

from ._errors import ClosedError, Error, error_class, strerror
from ._lib import LIB as _LIB
from ._lib import LIB_PATH as library_path
from ._options import bounds as option_bounds
from ._socket import Socket
from ._types import Datagram, Stats, ViewBatch

__all__ = [
    "ClosedError",
    "Datagram",
    "Error",
    "Socket",
    "Stats",
    "ViewBatch",
    "error_class",
    "library_path",
    "library_version",
    "library_version_string",
    "option_bounds",
    "strerror",
]

__version__ = "0.2.0"


def library_version() -> "tuple[int, int, int]":
    """The loaded library's version as (major, minor, patch)."""
    v = _LIB.budp_version()
    return (v >> 16, (v >> 8) & 0xFF, v & 0xFF)


def library_version_string() -> str:
    """The loaded library's version string, e.g. "0.2.0"."""
    return _LIB.budp_version_string().decode()
