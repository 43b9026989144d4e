"""batchudp.Group: sockets bound together to one address (SO_REUSEPORT),
among which the kernel spreads the datagrams that arrive."""

from __future__ import annotations

import ctypes
import enum
import errno
import threading
import warnings

from . import _addr
from ._errors import ClosedError, Error, raise_error
from ._lib import (
    BUDP_GROUP_MAX_MEMBERS,
    BUDP_STEER_CPU,
    BUDP_STEER_HASH,
    BUDP_STEER_KEY,
    BUDP_STEER_PAYLOAD_MAX,
    LIB,
)
from ._options import Options
from ._socket import Socket

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Iterator, List, Optional, Tuple

    from ._types import Address


class Steering(enum.IntEnum):
    """How a :class:`Group` picks the member for each arriving datagram
    (the ``steering`` option; the strings ``"hash"``, ``"key"`` and
    ``"cpu"`` do as well)."""

    HASH = BUDP_STEER_HASH
    """The kernel's hash of source and destination address and port: every
    datagram of a flow reaches the same member."""
    KEY = BUDP_STEER_KEY
    """The ``steer_length`` payload bytes at ``steer_offset``, read as a
    big-endian number k: member k mod n, whatever the source.  A datagram
    too short for the key goes by a hash of its source address and port."""
    CPU = BUDP_STEER_CPU
    """Member c mod n, c the CPU that received the packet."""


Steering.__module__ = "batchudp"


def _group_closed() -> ClosedError:
    return ClosedError(errno.EBADF, "group is closed")


class Group:
    """n UDP sockets bound to one address, among which the kernel spreads
    the datagrams that arrive (``budp_group *``).

    Create one with :meth:`bind`.  The members are ordinary
    :class:`Socket` objects, ``group[i]`` (``len(group)`` of them, closed
    ones included), each usable on a thread of its own: receive, send,
    wait, threaded mode, callbacks, asyncio.  They belong to the group:
    closing a member (:meth:`close_member`, or the member's own
    :meth:`Socket.close`) closes it through the group, which steers its
    traffic to the other members and counts what was queued to it
    (:attr:`dropped`).  :meth:`close` closes every member and the group;
    a group is a context manager.  After either close, every call on a
    closed member raises :class:`ClosedError`.
    """

    def __init__(self, _handle: ctypes.c_void_p, _options: Options):
        """Internal: use :meth:`bind`."""
        self._lock = threading.Lock()
        self._g: Optional[int] = _handle.value
        self._closing = False  # close() called
        self._members: Tuple[Socket, ...] = ()
        self._final_dropped = 0  # budp_group_dropped when the group was freed
        # Members whose handle the binding has not given up yet: the group
        # is freed once close() was called and this is 0.
        self._live = 0
        members: List[Socket] = []
        try:
            self.steering: Steering = Steering(_options.get("steering"))
            """How the kernel picks the member for each datagram."""
            n: int = LIB.budp_group_size(self._g)
            # Members' closes that budp_group_close_member counted, for
            # close_member() to return.
            self._counts: List[Optional[int]] = [None] * n
            for i in range(n):
                handle = LIB.budp_group_socket(self._g, i)
                sock = Socket(ctypes.c_void_p(handle), _options)
                sock._group = self
                sock._member = i
                members.append(sock)
        except BaseException:
            for sock in members:
                sock._closing = sock._shut = sock._freed = True
                sock._h = None
            g, self._g, self._closing = self._g, None, True
            LIB.budp_group_close(g)
            raise
        self._live = n
        self._members = tuple(members)

    @classmethod
    def bind(cls, host: str, port: int, n: int, **options: Any) -> "Group":
        """Open ``n`` UDP sockets (1 to 256) bound together to
        ``host:port`` (numeric host; port 0 picks one free port for all,
        see :meth:`local_addr`).

        Keyword options are :meth:`Socket.bind`'s, applied to every member,
        and three of the group's: ``steering`` (a :class:`Steering` or
        ``'hash'``, the default, ``'key'``, ``'cpu'``), and for key
        steering ``steer_offset`` (where the key starts in the payload,
        default 0) and ``steer_length`` (its length in bytes, 1 to 8,
        default 4); the key must end within 65527 bytes.  A bad value
        raises :class:`Error` (EINVAL, also a ValueError) and opens nothing;
        where groups or the steering asked for are not available,
        :class:`Error` (ENOTSUP): Linux has all three, FreeBSD hash alone.
        """
        host_b = _addr.check_host(host)
        port = _addr.check_port(port)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError("n must be an int, not %s" % type(n).__name__)
        detail = "group bind %s port %d n=%d" % (host, port, n)
        if not 0 <= n < 2**32:  # not an unsigned int: the library's EINVAL for n = 0
            raise_error(-errno.EINVAL, "%s: must be in 1..%d" % (detail, BUDP_GROUP_MAX_MEMBERS))
        with Options(options) as opts:
            handle = ctypes.c_void_p()
            rc = LIB.budp_group_bind(ctypes.byref(handle), host_b, port, n, opts.handle)
            if rc < 0:
                _bind_error(rc, host, n, opts, detail)
            return cls(handle, opts)  # which closes the group if it fails

    # --- the members -----------------------------------------------------------

    def __len__(self) -> int:
        """n, as given to :meth:`bind` (closed members included)."""
        return len(self._members)

    def __getitem__(self, i: int) -> Socket:
        """Member i (a :class:`Socket`; closed ones raise ClosedError when
        used)."""
        return self._members[i]

    def __iter__(self) -> Iterator[Socket]:
        return iter(self._members)

    @property
    def members(self) -> Tuple[Socket, ...]:
        """Every member, in order (closed ones included)."""
        return self._members

    def local_addr(self) -> Address:
        """The address the group is bound to, ``(host, port)`` (that of
        every member)."""
        for sock in self._members:
            try:
                return sock.local_addr()
            except ClosedError:
                continue
        raise _group_closed()

    @property
    def dropped(self) -> int:
        """Datagrams dropped by the closes of members so far: what was
        queued to a member, not yet received, when it was closed
        (:meth:`close_member` or its own close).  Still readable after
        :meth:`close` (which drops what the members hold without counting
        it)."""
        with self._lock:
            if self._g is None:
                return self._final_dropped
            count: int = LIB.budp_group_dropped(self._g)
            return count

    # --- closing ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closing

    def close_member(self, i: int) -> int:
        """Close member ``i``, the others going on, and return how many
        datagrams queued to it were dropped (also added to
        :attr:`dropped`).  The kernel stops steering to it first; its
        traffic goes to the open members (see the README, "Socket
        groups").  As :meth:`Socket.close`: it waits for calls on the
        member in other threads to return (they raise :class:`ClosedError`
        at once).  Called where that close cannot complete at once (in a
        callback run by the member's :meth:`Socket.dispatch`, or on a
        thread inside a call on the member), it completes when that call
        returns and this returns 0; the count still goes to
        :attr:`dropped`.

        Raises :class:`Error` (EINVAL) for ``i`` outside ``0..len-1``, and
        :class:`ClosedError` when the member or the group is closed.
        """
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError("member index must be an int, not %s" % type(i).__name__)
        if self._closing:
            raise _group_closed()
        if not 0 <= i < len(self._members):
            raise_error(
                -errno.EINVAL, "close member %d: must be in 0..%d" % (i, len(self._members) - 1)
            )
        if not self._members[i]._close():
            raise ClosedError(errno.EBADF, "member %d is closed" % i)
        with self._lock:
            count = self._counts[i]
            self._counts[i] = None
        return count or 0

    def _member_freed(self, i: int, h: Optional[int]) -> None:
        """Member i's Socket gives its handle up (LifetimeMixin._free): no
        binding call is inside it any more."""
        with self._lock:
            g = self._g
            closing = self._closing
        try:
            if g is not None and not closing:
                rc = LIB.budp_group_close_member(g, i)
                if rc < 0:
                    # Steering could not be changed (out of memory or
                    # fds): the member is closed all the same, as
                    # budp_close on a member does, its count going to
                    # dropped.
                    before = LIB.budp_group_dropped(g)
                    LIB.budp_close(h)
                    rc = LIB.budp_group_dropped(g) - before
                with self._lock:
                    self._counts[i] = rc
            # Else the group is closing: budp_group_close closes the
            # member once every member's handle is given up.
        finally:
            with self._lock:
                self._live -= 1
            self._free_if_done()

    def _free_if_done(self) -> None:
        """budp_group_close, once close() was called and no member's handle
        is in use."""
        with self._lock:
            if not self._closing or self._live or self._g is None:
                return
            g, self._g = self._g, None
            self._final_dropped = LIB.budp_group_dropped(g)
        LIB.budp_group_close(g)

    def close(self) -> None:
        """Close every member (each as :meth:`Socket.close` does: calls on
        it in other threads raise :class:`ClosedError` at once and are
        waited for) and free the group.  What the members still hold is
        dropped without being counted.  Idempotent; any thread may call
        it, inside a member's callback too.  Called in a callback run by a
        member's :meth:`Socket.dispatch`, or on a thread inside a call on a
        member, that member's close, and the group's, complete when that
        call returns."""
        with self._lock:
            self._closing = True
        for sock in self._members:
            sock.close()
        self._free_if_done()

    def __enter__(self) -> "Group":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._g and not self._closing:
                warnings.warn("unclosed %r" % self, ResourceWarning, source=self)
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self._closing:
            return "<batchudp.Group closed>"
        open_members = sum(1 for sock in self._members if not sock.closed)
        try:
            local = " local=%r" % (self.local_addr(),)
        except Error:
            local = ""
        return "<batchudp.Group steering=%s members=%d open=%d%s>" % (
            self.steering.name.lower(),
            len(self._members),
            open_members,
            local,
        )


def _bind_error(rc: int, host: str, n: int, opts: Options, detail: str) -> None:
    """Raise the error of a failed budp_group_bind, saying which input was
    refused where that can be told."""
    if rc == -errno.EINVAL:
        if not 1 <= n <= BUDP_GROUP_MAX_MEMBERS:
            raise_error(rc, "%s: must be in 1..%d" % (detail, BUDP_GROUP_MAX_MEMBERS))
        offset, length = opts.get("steer_offset"), opts.get("steer_length")
        if offset + length > BUDP_STEER_PAYLOAD_MAX:
            raise_error(
                rc,
                "%s: steer_offset + steer_length = %d, must be at most %d"
                % (detail, offset + length, BUDP_STEER_PAYLOAD_MAX),
            )
    _addr.host_error(rc, host, detail)
