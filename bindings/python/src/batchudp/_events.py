"""Error events (``errors=True``): ErrorEvent, and reading them with
budp_recv_errors into a reusable array."""

from __future__ import annotations

from collections import namedtuple

from . import _addr
from ._errors import make_error
from ._lib import (
    BUDP_ERROR_ORIGIN_ICMP,
    BUDP_ERROR_ORIGIN_ICMP6,
    BUDP_ERROR_ORIGIN_LOCAL,
    BUDP_ERROR_QUEUE_EVENTS,
    LIB,
    budp_error_event,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import List, NamedTuple, Optional

    from ._errors import Error
    from ._types import Address

    class _ErrorEventFields(NamedTuple):
        destination: Address
        offender: Optional[Address]
        errno: int
        mtu: Optional[int]
        origin: str
        icmp_type: int
        icmp_code: int

else:
    _ErrorEventFields = namedtuple(
        "ErrorEvent",
        ("destination", "offender", "errno", "mtu", "origin", "icmp_type", "icmp_code"),
    )

#: BUDP_ERROR_ORIGIN_* -> ErrorEvent.origin
ORIGINS = {
    BUDP_ERROR_ORIGIN_LOCAL: "local",
    BUDP_ERROR_ORIGIN_ICMP: "icmp",
    BUDP_ERROR_ORIGIN_ICMP6: "icmp6",
}

#: The most events one recv_errors() call returns by default.
DEFAULT_MAX = BUDP_ERROR_QUEUE_EVENTS


class ErrorEvent(_ErrorEventFields):
    """One error the kernel reported for a datagram the socket sent
    (``budp_error_event``), from :meth:`Socket.recv_errors` on a socket
    with ``errors=True``.  A read-only record:

    Attributes:
        destination: where the datagram that met the error was going,
            ``(host, port)``.
        offender: who reported it, ``(host, 0)``: the router or host that
            sent the ICMP message; None for a local error.
        errno: the error, a positive errno value (``errno.ECONNREFUSED``
            for a port unreachable, ``EHOSTUNREACH``, ``EMSGSIZE``, ...);
            :meth:`exception` makes the matching :class:`batchudp.Error`.
        mtu: for ``EMSGSIZE``, the path MTU reported (the IP packet size,
            headers included); else None.
        origin: ``'local'`` (this host refused the send), ``'icmp'`` or
            ``'icmp6'``.
        icmp_type, icmp_code: the ICMP message's (0 for local errors).
    """

    __slots__ = ()

    def exception(self) -> Error:
        """The error as the exception a failed call would raise: a
        :class:`batchudp.Error` (``ConnectionRefusedError`` for
        ``ECONNREFUSED``, ...) naming the destination."""
        host, port = self.destination
        return make_error(self.errno, "error event for %s port %d" % (host, port))


ErrorEvent.__module__ = "batchudp"


def decode(ev: budp_error_event) -> ErrorEvent:
    """An ErrorEvent from the C struct."""
    dest = _addr.decode(bytes(ev.destination))
    err = -ev.error if ev.error < 0 else ev.error
    return ErrorEvent(
        dest if dest is not None else ("", 0),
        _addr.decode(bytes(ev.offender)),
        err,
        ev.mtu or None,
        ORIGINS.get(ev.origin, str(ev.origin)),
        ev.icmp_type,
        ev.icmp_code,
    )


def recv_errors(handle: int, max: int) -> "tuple[int, List[ErrorEvent]]":
    """budp_recv_errors of up to max events: (rc, events); rc < 0 is the
    error, with no events."""
    array = (budp_error_event * max)()
    rc: int = LIB.budp_recv_errors(handle, array, max)
    if rc <= 0:
        return rc, []
    return rc, [decode(array[i]) for i in range(rc)]

