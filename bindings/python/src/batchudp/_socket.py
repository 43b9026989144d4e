"""batchudp.Socket: a libbatchudp socket for Python code."""

from __future__ import annotations

import ctypes
import errno
import math
import threading
import time
import warnings

from . import _addr, _events
from ._aio import AsyncMixin
from ._errors import ClosedError, Error, closed_error, raise_error
from ._lib import (
    BUDP_CALLBACK_CONTINUE,
    BUDP_STEER_HASH,
    LIB,
    budp_addr,
    budp_recv_fn,
    budp_stats,
)
from ._lifetime import LifetimeMixin
from ._options import Options
from ._recv import PackedReceiver
from ._send import SendMixin, deadline_after
from ._types import Datagram, DatagramBatch
from ._views import Cutter

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional

    from ._events import ErrorEvent
    from ._outgoing import PeerAddress
    from ._stats import Stats
    from ._types import Address

    DatagramHandler = Callable[[List[Datagram]], Any]

# wait() on the main thread sleeps at most this long per call into C, so
# that Python signal handlers (KeyboardInterrupt on Ctrl-C) run while it
# waits: Python runs them on the main thread only, between bytecodes, and the
# library retries poll() on EINTR.  Other threads wait in one call; close()
# and shutdown() wake any thread at once, sliced or not.
_SIGNAL_SLICE_MS = 200

# The longest timeout one budp_wait call takes (its int milliseconds).
_MAX_WAIT_MS = 2**31 - 1

# Most datagrams one receive returns (a full ring at its largest capacity).
_MAX_BATCH = 65536

# Error events one recv_errors() reads by default (BUDP_ERROR_QUEUE_EVENTS).
DEFAULT_ERROR_EVENTS = _events.DEFAULT_MAX


class Socket(LifetimeMixin, SendMixin, AsyncMixin):
    """A UDP socket that receives and sends in batches through libbatchudp.

    Create one with :meth:`bind` or :meth:`from_fd`.  A socket is a context
    manager; :meth:`close` is idempotent and every other call on a closed
    socket raises :class:`batchudp.ClosedError` (errno ``EBADF``).

    Threads: one thread at a time receives (recv, recv_views, dispatch,
    wait and the asyncio methods); send and stats may run on other threads
    concurrently.  :meth:`close` and :meth:`shutdown` may be called from any
    thread, inside a callback too: a call blocked on the socket in another
    thread (wait, an awaiting coroutine) then raises ClosedError at once.
    """

    def __init__(self, _handle: ctypes.c_void_p, _options: Options, _keep: Any = None):
        """Internal: use :meth:`bind` or :meth:`from_fd`."""
        self._h: Optional[int] = None
        self._keep = _keep
        self._init_lifetime()
        self.batch_size: int = _options.get("batch_size")
        """Datagrams per system call (the default ``max`` of :meth:`recv`)."""
        self.max_datagram: int = _options.get("max_datagram")
        """Largest datagram received whole, in bytes."""
        self.threaded: bool = bool(_options.get("threaded"))
        """True when a receiver thread fills a ring."""
        self._cb_thread = bool(_options.get("callback_thread"))
        self._detailed = bool(
            _options.get("pktinfo") or _options.get("ecn") or _options.get("timestamps")
        )
        self._errors = bool(_options.get("errors"))
        # Error events the asyncio receive path read to stop the poll fd
        # from waking it (see _stash_error_events), for recv_errors().
        self._error_stash: List[ErrorEvent] = []
        self._error_stash_dropped = 0
        self._error_stash_lock = threading.Lock()
        self._rx = PackedReceiver(self.max_datagram)
        self._cutter = Cutter()
        self._views: Optional[DatagramBatch] = None
        self._thunk: Any = None
        self._handler: Optional[DatagramHandler] = None
        self._cb_error: Optional[BaseException] = None
        self._cb_pending: List[Datagram] = []
        self._aio_wait = None
        self._aio_write = None
        self._backend: Optional[str] = None
        self._backend_reason: Optional[str] = None
        # Last: a socket whose __init__ failed is closed by _wrap alone.
        self._h = _handle.value

    # --- creation and teardown -------------------------------------------

    @classmethod
    def bind(cls, host: str, port: int = 0, **options: Any) -> "Socket":
        """Create a UDP socket bound to ``host:port`` (numeric host; port 0
        picks a free port, see :meth:`local_addr`).

        Keyword options mirror the C library's ``BUDP_OPT_*`` keys:
        ``batch_size``, ``max_datagram``, ``backend`` ('auto', 'mmsg',
        'msgx', 'loop', 'uring'), ``threaded``, ``ring_capacity``, ``overflow``
        ('wait', 'drop'), ``gro``, ``gso``, ``pktinfo``, ``ecn``,
        ``recv_buffer``, ``callback_thread``, ``timestamps`` (report each
        datagram's receive time, :attr:`Datagram.time_ns`), ``pacing``
        ('off', 'monotonic', 'tai': the clock of
        :attr:`OutgoingDatagram.time_ns` departure times), ``errors``
        (report ICMP and local send errors as events, :meth:`recv_errors`),
        ``zerocopy`` (backend 'uring' only: GSO trains of at least
        ``BUDP_ZEROCOPY_MIN_BYTES`` go without a copy).
        ``steering``, ``steer_offset`` and ``steer_length`` are for
        :meth:`Group.bind`: a lone socket takes ``steering='hash'`` alone.
        An unknown keyword raises TypeError; a value out of range raises :class:`Error` (EINVAL, also
        a ValueError); a mode not available here raises :class:`Error`
        (ENOTSUP: backend 'uring' in a build without liburing or before
        Linux 6.0, ``zerocopy`` with another backend); backend 'uring' where
        the kernel forbids io_uring (a sysctl, a seccomp filter) raises
        :class:`Error` EPERM, also a :class:`PermissionError`.
        """
        host_b = _addr.check_host(host)
        port = _addr.check_port(port)
        with Options(options) as opts:
            handle = ctypes.c_void_p()
            rc = LIB.budp_bind(ctypes.byref(handle), host_b, port, opts.handle)
            if rc < 0:
                detail = "bind %s port %d" % (host, port)
                _check_lone(rc, opts, detail)
                _addr.host_error(rc, host, detail)
            return cls._wrap(handle, opts, None)

    @classmethod
    def from_fd(cls, fd: Any, **options: Any) -> "Socket":
        """Wrap an existing UDP socket: an fd number or an object with
        ``fileno()`` (such as a :class:`socket.socket`, which is then kept
        alive).  The fd stays the caller's: :meth:`close` does not close it,
        and it must stay open until this socket is closed.  Options as for
        :meth:`bind`.
        """
        if isinstance(fd, int) and not isinstance(fd, bool):
            num, keep = fd, None
        elif hasattr(fd, "fileno"):
            num, keep = fd.fileno(), fd
        else:
            raise TypeError("fd must be an int or have fileno(), not %s" % type(fd).__name__)
        if not -(2**31) <= num < 2**31:
            raise_error(-errno.EBADF, "fd %d" % num)
        with Options(options) as opts:
            handle = ctypes.c_void_p()
            rc = LIB.budp_open(ctypes.byref(handle), num, opts.handle)
            if rc < 0:
                _check_lone(rc, opts, "open fd %d" % num)
                raise_error(rc, "open fd %d" % num)
            return cls._wrap(handle, opts, keep)

    @classmethod
    def _wrap(cls, handle: ctypes.c_void_p, opts: Options, keep: Any) -> "Socket":
        try:
            return cls(handle, opts, keep)
        except BaseException:
            LIB.budp_close(handle)
            raise

    def __enter__(self) -> "Socket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            # A group's member is closed by its group's __del__ (the group
            # and its members go together: each holds the other).
            if self._h and not self._closing and self._group is None:
                warnings.warn("unclosed %r" % self, ResourceWarning, source=self)
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self._closing:
            return "<batchudp.Socket closed>"
        if self._shut:
            return "<batchudp.Socket shut down>"
        try:
            return "<batchudp.Socket backend=%s local=%r>" % (self.backend, self.local_addr())
        except Error:
            return "<batchudp.Socket>"

    # --- addresses and descriptors --------------------------------------

    def connect(self, host: str, port: int) -> None:
        """Connect to ``host:port``: plain bytes may then be sent without an
        address, and only that peer's datagrams arrive."""
        host_b = _addr.check_host(host)
        port = _addr.check_port(port)
        h = self._enter()
        try:
            rc = LIB.budp_connect(h, host_b, port)
        finally:
            self._leave()
        if rc < 0:
            if rc == -errno.EBADF and self._shut:
                raise closed_error()
            _addr.host_error(rc, host, "connect %s port %d" % (host, port))

    def local_addr(self) -> Address:
        """The address the socket is bound to, ``(host, port)``."""
        a = budp_addr()
        h = self._enter()
        try:
            rc = LIB.budp_local_addr(h, ctypes.byref(a))
        finally:
            self._leave()
        if rc < 0:
            self._raise(rc, "local_addr")
        return _addr.decode(bytes(a))  # type: ignore[return-value]

    def fileno(self) -> int:
        """The fd to poll for readability before receiving (the socket in
        inline mode, an eventfd on backend 'uring', the receiver's notify fd
        in threaded mode), so that
        ``selectors``, ``select`` and asyncio work.  A hint: a wake-up may
        find nothing; receive until :meth:`recv` returns fewer datagrams than
        asked before polling again.  Do not read from it or close it."""
        h = self._enter()
        try:
            rc = LIB.budp_poll_fd(h)
        finally:
            self._leave()
        if rc < 0:
            self._raise(rc, "poll fd")
        return rc  # type: ignore[no-any-return]

    @property
    def fd(self) -> int:
        """The UDP socket's own fd."""
        h = self._enter()
        try:
            rc = LIB.budp_socket_fd(h)
        finally:
            self._leave()
        if rc < 0:
            self._raise(rc, "socket fd")
        return rc  # type: ignore[no-any-return]

    @property
    def backend(self) -> str:
        """The backend in use: 'mmsg', 'msgx', 'loop' or 'uring'."""
        h = self._enter()
        try:
            if self._backend is None:
                name = LIB.budp_backend_name(h).decode()
                if not name:  # shut down while the call ran
                    raise closed_error()
                self._backend = name
            return self._backend
        finally:
            self._leave()

    @property
    def backend_reason(self) -> str:
        """Why the socket got its backend, one line for logs and support
        requests: the backend's name, ``": "``, and what decided it, e.g.
        ``'loop: recvmsg_x avoided below macOS 15.6 (this is macOS 15.5)'``.
        The words after the colon may change between releases: show them,
        do not parse them."""
        h = self._enter()
        try:
            if self._backend_reason is None:
                reason = LIB.budp_backend_reason(h).decode()
                if not reason:  # shut down while the call ran
                    raise closed_error()
                self._backend_reason = reason
            return self._backend_reason
        finally:
            self._leave()

    def stats(self) -> Stats:
        """A snapshot of the socket's counters."""
        st = budp_stats()
        h = self._enter()
        try:
            rc = LIB.budp_get_stats(h, ctypes.byref(st), ctypes.sizeof(st))
        finally:
            self._leave()
        if rc < 0:
            self._raise(rc, "stats")
        from ._stats import Stats  # loaded on first use (see _stats.py)

        # Events the asyncio path read and had no room for count as dropped,
        # as the receiver thread's do.
        st.error_events_dropped += self._error_stash_dropped
        return Stats(*(getattr(st, field[0]) for field in budp_stats._fields_))

    # --- path events: errors and pacing -----------------------------------------

    def recv_errors(self, max: Optional[int] = None) -> List[ErrorEvent]:
        """Read up to ``max`` (default 64) error events, oldest first,
        without blocking: an empty list when none waits.  Needs
        ``errors=True`` (else raises :class:`Error` ``EINVAL``).

        Each :class:`ErrorEvent` is an ICMP error (port or host
        unreachable, fragmentation needed, ...) or a local send error
        reported for a datagram this socket sent, with the destination it
        concerns; while the option is on, those errors come here instead
        of failing :meth:`recv` or :meth:`send`.  While events wait, the
        poll fd is readable and :meth:`wait` returns True: a program that
        turns the option on reads them.  Any thread, inside a callback too.
        """
        max = DEFAULT_ERROR_EVENTS if max is None else self._check_max(max)
        with self._error_stash_lock:
            out = self._error_stash[:max]
            del self._error_stash[: len(out)]
        if len(out) == max:
            return out
        h = self._enter()
        try:
            rc, events = _events.recv_errors(h, max - len(out))
        finally:
            self._leave()
        if rc < 0:
            if out:  # a lasting error comes again with the next call
                return out
            if rc == -errno.EINVAL and not self._errors:
                self._raise(rc, "recv_errors (the socket has no errors=True)")
            self._raise(rc, "recv_errors")
        return out + events

    def _stash_error_events(self) -> None:
        """Read the error events that wait into the socket's own list (at
        most 64 kept, the others dropped and counted in
        ``error_events_dropped``), so that the poll fd stops waking a
        coroutine waiting for datagrams (asyncio watches it
        level-triggered); recv_errors() returns them first."""
        while True:
            h = self._enter()
            try:
                rc, events = _events.recv_errors(h, DEFAULT_ERROR_EVENTS)
            finally:
                self._leave()
            if rc <= 0:  # an error is recv_errors()'s to report
                return
            with self._error_stash_lock:
                room = DEFAULT_ERROR_EVENTS - len(self._error_stash)
                self._error_stash += events[:room]
                if len(events) > room:
                    self._error_stash_dropped += len(events) - max(room, 0)
            if rc < DEFAULT_ERROR_EVENTS:
                return

    def pacing_support(self, dest: Optional[PeerAddress] = None) -> "tuple[bool, str]":
        """Whether departure times (:attr:`OutgoingDatagram.time_ns`) sent
        to ``dest`` (``(host, port)``; None: the connected peer) would be
        honoured: the queue discipline of the interface the route leaves
        by holds packets back until their time (Linux fq or etf).

        Returns ``(honoured, detail)``, detail one line for logs, such as
        ``'lo: noqueue sends at once'`` (do not parse it).  ``honoured`` is
        False also when the socket's ``pacing`` is 'off'.  Raises
        :class:`Error`: ``ENOTSUP`` (no pacing on this system),
        ``ENETUNREACH`` (no route), ``EINVAL`` (dest None on an unconnected
        socket).
        """
        addr = None if dest is None else budp_addr.from_buffer_copy(_addr.encode(dest))
        detail = ctypes.create_string_buffer(256)
        h = self._enter()
        try:
            rc = LIB.budp_pacing_support(
                h, None if addr is None else ctypes.byref(addr), detail, len(detail)
            )
        finally:
            self._leave()
        if rc < 0:
            self._raise(rc, "pacing_support")
        return rc > 0, detail.value.decode("utf-8", "replace")

    # --- receiving ---------------------------------------------------------

    def _check_max(self, max: Optional[int]) -> int:
        if max is None:
            return self.batch_size
        if not isinstance(max, int) or isinstance(max, bool):
            raise TypeError("max must be an int, not %s" % type(max).__name__)
        if max < 1:
            raise ValueError("max must be at least 1, not %d" % max)
        return max if max <= _MAX_BATCH else _MAX_BATCH

    def recv(self, max: Optional[int] = None, *, detailed: bool = False) -> List[Datagram]:
        """Receive up to ``max`` datagrams (default: ``batch_size``) without
        blocking; an empty list when none is queued.

        The payloads are copied (``bytes``).  With ``detailed=True`` (implied
        by the ``pktinfo``, ``ecn`` and ``timestamps`` options) every field is reported,
        GRO ``segment_size`` included, at a higher cost per datagram.
        Raises the receive error met since the last call, once (a
        ConnectionRefusedError leaves the socket usable).
        """
        max = self._check_max(max)
        if self._views is not None:
            self._release_views()
        h = self._enter()
        try:
            if self._detailed or detailed:
                out = ctypes.c_void_p()
                n = LIB.budp_recv(h, ctypes.byref(out), max)
                if n < 0:
                    self._raise(n, "recv")
                return self._cutter.copies(out.value, n) if n else []
            return self._rx.recv(h, max)
        except Error as exc:
            if exc.errno == errno.EBADF and self._shut:
                raise closed_error() from None
            raise
        finally:
            self._leave()

    def recv_views(self, max: Optional[int] = None) -> "_ViewsContext":
        """Receive without copying: ``with sock.recv_views() as views:``.

        ``views`` is a :class:`DatagramBatch`, a list of read-only memoryviews
        over the library's buffers (``views.datagrams`` adds the peers and
        flags).  They are valid inside the block only: they are released
        when it exits, or earlier if the socket receives again or closes.
        Copy (``bytes(view)``) what must outlive the block; a slice of a view
        is no safer than the view.
        """
        return _ViewsContext(self, self._check_max(max))

    def _recv_views(self, max: int) -> DatagramBatch:
        self._release_views()
        h = self._enter()
        try:
            out = ctypes.c_void_p()
            n = LIB.budp_recv(h, ctypes.byref(out), max)
            if n < 0:
                self._raise(n, "recv")
            batch = self._cutter.views(out.value, n) if n and out.value else DatagramBatch([])
        finally:
            self._leave()
        self._views = batch
        return batch

    def _release_views(self, quiet: bool = False) -> None:
        batch, self._views = self._views, None
        if batch is None:
            return
        try:
            batch.release()
        except BufferError:
            if not quiet:
                raise

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until :meth:`recv` has something to return (True), or
        ``timeout`` seconds pass (False).  None waits forever.  With
        ``errors=True`` it also returns True while error events wait for
        :meth:`recv_errors`.

        With ``callback_thread=True`` there is nothing to receive: wait
        blocks until the receiver thread meets a receive error and raises it
        (False on timeout).  A transient error (ConnectionRefusedError, ...)
        is raised once and the thread goes on; a fatal one stopped the
        thread and is raised by every call from then on.

        Raises :class:`ClosedError` at once when another thread shuts the
        socket down or closes it meanwhile.  On the main thread the wait is
        made of calls of at most 0.2 s, between which Python runs signal
        handlers (Ctrl-C raises KeyboardInterrupt); on other threads it is
        one call into the library.
        """
        deadline = deadline_after(timeout)
        self._release_views()
        sliced = threading.current_thread() is threading.main_thread()
        longest = _SIGNAL_SLICE_MS if sliced else _MAX_WAIT_MS
        while True:
            if deadline is None:
                ms = longest if sliced else -1
            else:
                left = deadline - time.monotonic()
                ms = 0 if left <= 0 else min(longest, math.ceil(left * 1000))
            h = self._enter()
            try:
                rc = LIB.budp_wait(h, ms)
            finally:
                self._leave()
            if rc < 0:
                self._raise(rc, "wait")
            if rc > 0:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False

    # --- callbacks -----------------------------------------------------------

    def on_datagrams(self, fn: Optional[DatagramHandler]) -> None:
        """Set the function :meth:`dispatch` calls with each batch, a list of
        :class:`Datagram` (None clears it).  With ``callback_thread=True``
        (threaded mode) it runs on the receiver thread instead, as soon as
        a batch arrives.  An exception raised by fn is kept and re-raised by
        the next :meth:`dispatch`; datagrams that arrive in the same dispatch
        after it are kept for the next one.
        """
        if fn is not None and not callable(fn):
            raise TypeError("fn must be callable or None")
        if fn is not None and self._thunk is None:
            # One C thunk per socket, calling whatever handler is current;
            # it lives as long as the socket object, so the library can
            # never call into a freed one.
            self._thunk = budp_recv_fn(self._trampoline)
        # The handler is in place before the library may call it, and stays
        # until the library stopped calling it.
        h = self._enter()
        previous = self._handler
        if fn is not None:
            self._handler = fn
        try:
            rc = LIB.budp_set_callback(h, self._thunk if fn is not None else _NULL_FN, None)
        finally:
            self._leave()
        if rc < 0:
            self._handler = previous
            self._raise(rc, "set callback")
        self._handler = fn

    def _trampoline(self, user: Any, d: Optional[int], n: int) -> int:
        # Runs under the library; an exception must not escape into ctypes
        # (it would be printed and lost, and the library would get no
        # verdict).  The count tells close() that it runs inside a callback
        # on this thread, where it must not wait.  It always answers
        # BUDP_CALLBACK_CONTINUE: the handler's return value is not a
        # verdict (handlers return whatever their last call did), and
        # dispatch() holds datagrams back itself after an exception.
        tls = self._tls
        tls.callbacks += 1
        try:
            batch = self._cutter.copies(d, n) if d and n else []
            if self._cb_error is not None and not self._cb_thread:
                self._cb_pending.extend(batch)
                return BUDP_CALLBACK_CONTINUE
            fn = self._handler
            if fn is not None:
                fn(batch)
        except BaseException as exc:  # noqa: B036 - re-raised by dispatch()
            if self._cb_error is None:
                self._cb_error = exc
        finally:
            tls.callbacks -= 1
        return BUDP_CALLBACK_CONTINUE

    def dispatch(self, max: Optional[int] = None) -> int:
        """Receive up to ``max`` datagrams (default: ``batch_size``) without
        blocking and hand them to the :meth:`on_datagrams` function on this
        thread.  Returns how many were handed over.  Re-raises an exception
        the function raised."""
        max = self._check_max(max)
        self._raise_callback_error()
        if self._views is not None:
            self._release_views()
        done = 0
        if self._cb_pending:
            pending, self._cb_pending = self._cb_pending[:max], self._cb_pending[max:]
            done = len(pending)
            if self._handler is not None:
                self._handler(pending)
            if done >= max:
                return done
        try:
            h = self._enter()
        except ClosedError:
            if done:  # the handler closed the socket
                return done
            raise
        try:
            rc = LIB.budp_dispatch(h, max - done)
        finally:
            self._leave()
        self._raise_callback_error()
        if rc < 0:
            if done:
                return done
            self._raise(rc, "dispatch")
        return done + rc  # type: ignore[no-any-return]

    def _raise_callback_error(self) -> None:
        exc = self._cb_error
        if exc is not None:
            self._cb_error = None
            raise exc


_NULL_FN = budp_recv_fn()  # a NULL budp_recv_fn: clears the callback


def _check_lone(rc: int, opts: Options, detail: str) -> None:
    """Say so when the EINVAL of budp_bind/budp_open comes from steering
    options, which only a group takes."""
    if rc == -errno.EINVAL and opts.get("steering") != BUDP_STEER_HASH:
        raise_error(rc, "%s: steering is for Group.bind (a lone socket takes 'hash')" % detail)


class _ViewsContext:
    """The context manager :meth:`Socket.recv_views` returns."""

    def __init__(self, sock: Socket, max: int):
        self._sock = sock
        self._max = max
        self._batch: Optional[DatagramBatch] = None

    def __enter__(self) -> DatagramBatch:
        self._batch = self._sock._recv_views(self._max)
        return self._batch

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if self._sock._views is self._batch:
            self._sock._release_views(quiet=exc_type is not None)
        self._batch = None
