"""batchudp: receive and send UDP datagrams in batches (libbatchudp).

A pure-ctypes binding: one call into the C library per batch of datagrams
(recvmmsg/sendmmsg on Linux, recvmsg_x/sendmsg_x on Apple platforms, UDP
GRO/GSO where the kernel has them).

    import batchudp

    with batchudp.Socket.bind("127.0.0.1", 0) as sock:
        sock.wait(1.0)
        for d in sock.recv():
            print(d.peer, d.data)

The shared library is the one named by the BATCHUDP_LIBRARY environment
variable (a path), else the one a wheel carries inside this package, else
the system's: ``pkg-config --variable=libdir batchudp``, then
``ctypes.util.find_library``.
"""

from __future__ import annotations

from ._errors import ClosedError, Error, error_class, strerror
from ._events import ErrorEvent
from ._group import Group, Steering
from ._lib import LIB as _LIB
from ._lib import LIB_PATH as library_path
from ._options import bounds as option_bounds
from ._outgoing import OutgoingDatagram
from ._socket import Socket
from ._types import Address, Datagram, DatagramBatch, DatagramView, ViewBatch

# typing is imported by mypy alone (here and in every module): the
# annotations are strings at run time, and typing takes longer to import than
# this package.  Likewise asyncio, socket and dataclasses are imported where
# first used, not with the package.
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, List

    from ._protocol import BatchProtocol
    from ._stats import Stats
    from ._transport import BatchTransport, create_datagram_endpoint

__all__ = [
    "Address",
    "BatchProtocol",
    "BatchTransport",
    "ClosedError",
    "Datagram",
    "DatagramBatch",
    "DatagramView",
    "Error",
    "ErrorEvent",
    "Group",
    "OutgoingDatagram",
    "Socket",
    "Stats",
    "Steering",
    "ViewBatch",
    "create_datagram_endpoint",
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
    text: bytes = _LIB.budp_version_string()
    return text.decode()


# Names loaded on first use rather than with the package: Stats (see
# _stats.py), and the asyncio adapter, which imports asyncio.
_LAZY = {
    "Stats": "_stats",
    "BatchProtocol": "_protocol",
    "BatchTransport": "_transport",
    "create_datagram_endpoint": "_transport",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    # __import__ with a fromlist returns the submodule (importlib is not
    # loaded at startup, and not worth loading for this).
    value = getattr(__import__(__name__ + "." + module, None, None, [name]), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))
