"""Conversions between ``(host, port)`` tuples and raw ``budp_addr`` bytes.

Both directions keep a small cache: a receiver usually hears from few
peers, and a sender usually talks to few, so most conversions are one dict
look-up.
"""

from __future__ import annotations

import ctypes
import errno
import struct

from ._errors import raise_error
from ._lib import BUDP_AF_INET, BUDP_AF_INET6, LIB, budp_addr

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Dict, NoReturn, Optional, Tuple

    Address = Tuple[str, int]


ADDR_SIZE = ctypes.sizeof(budp_addr)
_HEAD = struct.Struct("=HHI")
_CACHE_MAX = 256

_decoded: Dict[bytes, Optional[Address]] = {}
_encoded: Dict[Tuple[Any, ...], bytes] = {}

#: The raw form of "no address" (BUDP_AF_UNSPEC), e.g. for a connected send.
UNSPEC = bytes(ADDR_SIZE)


def decode(raw: bytes) -> Optional[Address]:
    """``(host, port)`` for a raw budp_addr, or None for BUDP_AF_UNSPEC."""
    try:
        return _decoded[raw]
    except KeyError:
        pass
    # Only a new address gets here; socket is imported on the first one
    # rather than with the package, as it takes long to import.
    import socket

    family, port, scope = _HEAD.unpack_from(raw)
    if family == BUDP_AF_INET:
        result: Optional[Address] = (socket.inet_ntop(socket.AF_INET, raw[8:12]), port)
    elif family == BUDP_AF_INET6:
        host = socket.inet_ntop(socket.AF_INET6, raw[8:24])
        if scope:
            host = "%s%%%d" % (host, scope)
        result = (host, port)
    else:
        result = None
    if len(_decoded) >= _CACHE_MAX:
        _decoded.clear()
    _decoded[raw] = result
    return result


#: What a received datagram with no source address would report (UDP always
#: gives one; this keeps Datagram.peer a plain address type).
NO_PEER: Address = ("", 0)


def decode_peer(raw: bytes) -> Address:
    """``(host, port)`` for a raw source address (never None)."""
    try:
        got = _decoded[raw]
    except KeyError:
        got = decode(raw)
    return NO_PEER if got is None else got


#: Appended to the EINVAL of a host that is not a numeric address.
NUMERIC_EXPECTED = (
    "numeric address expected (such as 127.0.0.1, ::1 or fe80::1%%eth0), not %r; "
    "resolve a host name first, e.g. with socket.getaddrinfo"
)


def host_error(rc: int, host: str, detail: str) -> NoReturn:
    """Raise the error for rc, a failed call given host: the EINVAL of a
    host that does not parse says a numeric address is expected."""
    if rc == -errno.EINVAL and not parses(host):
        raise_error(rc, "%s: %s" % (detail, NUMERIC_EXPECTED % (host,)))
    raise_error(rc, detail)


def parses(host: str) -> bool:
    """Whether the library reads host as a numeric address."""
    try:
        host_b = check_host(host)
    except (TypeError, ValueError):
        return False
    rc: int = LIB.budp_addr_from_string(ctypes.byref(budp_addr()), host_b, 0)
    return rc == 0


def check_port(port: Any) -> int:
    """Validate a port number (an int in 0..65535)."""
    if not isinstance(port, int) or isinstance(port, bool):
        raise TypeError("port must be an int, not %s" % type(port).__name__)
    if not 0 <= port <= 0xFFFF:
        raise ValueError("port must be in 0..65535, not %d" % port)
    return port


def check_host(host: Any) -> bytes:
    """Validate a host (a str holding a numeric address); return it encoded."""
    if not isinstance(host, str):
        raise TypeError("host must be a str, not %s" % type(host).__name__)
    if "\0" in host:
        raise ValueError("host must not contain NUL characters")
    return host.encode()


def encode(addr: Any) -> bytes:
    """Raw budp_addr bytes for ``(host, port)`` (or an IPv6 4-tuple)."""
    key = addr if type(addr) is tuple else None
    if key is not None:
        try:
            return _encoded[key]
        except (KeyError, TypeError):
            pass
    if not isinstance(addr, (tuple, list)) or len(addr) not in (2, 4):
        raise TypeError(
            "address must be a (host, port) tuple, not %r" % (addr,)
        )
    host = check_host(addr[0])
    port = check_port(addr[1])
    a = budp_addr()
    rc = LIB.budp_addr_from_string(ctypes.byref(a), host, port)
    if rc < 0:
        host_error(rc, addr[0], "address %r" % (addr[0],))
    if len(addr) == 4 and addr[3]:
        if not isinstance(addr[3], int) or not 0 <= addr[3] <= 0xFFFFFFFF:
            raise ValueError("scope_id must be an int in 0..2**32-1")
        a.scope_id = addr[3]
    raw = bytes(a)
    if key is not None:
        try:
            if len(_encoded) >= _CACHE_MAX:
                _encoded.clear()
            _encoded[key] = raw
        except TypeError:
            pass
    return raw
