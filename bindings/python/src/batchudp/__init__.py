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
from ._lib import LIB as _LIB
from ._lib import LIB_PATH as library_path
from ._options import bounds as option_bounds
from ._socket import Socket
from ._types import Datagram, ViewBatch

# typing is imported by mypy alone (here and in every module): the
# annotations are strings at run time, and typing takes longer to import than
# this package.  Likewise asyncio, socket and dataclasses are imported where
# first used, not with the package.
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, List

    from ._stats import Stats

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


# Names loaded on first use rather than with the package (see _stats.py).
_LAZY = ("Stats",)


def __getattr__(name: str) -> Any:
    if name == "Stats":
        from ._stats import Stats

        globals()["Stats"] = Stats
        return Stats
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))
