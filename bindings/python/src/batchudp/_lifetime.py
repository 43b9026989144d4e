"""The lifetime of a Socket's C handle against calls on several threads.

The library's model: budp_shutdown from any thread wakes every call blocked
on the socket and refuses later ones; budp_close frees the handle once no
call is inside.  Here every binding call into C is counted; close() shuts
down, waits until the count is zero, then frees (or, where it cannot wait,
leaves the free to the last call out).  A member of a Group is freed
through its group (budp_group_close_member, or budp_group_close once the
group closes), never by budp_close here.
"""

from __future__ import annotations

import errno
import threading

from ._errors import closed_error, raise_error
from ._lib import LIB

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, NoReturn, Optional

    from ._group import Group


class _ThreadState(threading.local):
    """What one thread is doing with one socket."""

    calls = 0
    """Binding calls on the socket in progress on this thread."""
    callbacks = 0
    """The socket's callbacks running on this thread (dispatch or receiver)."""


class LifetimeMixin:
    """shutdown(), close() and the call counting of :class:`Socket`."""

    # Provided by Socket and AsyncMixin.
    _h: Optional[int]
    _keep: Any
    _aio_wait: Any
    _aio_write: Any
    _release_views: Any
    _wake_async_waiter: Any

    def _init_lifetime(self) -> None:
        # Guarded by _lock.  _users counts the binding's calls into C on this
        # socket in progress (on every thread) and the event loop watches
        # of its fds (_aio.py); budp_close runs only once it is zero,
        # so the handle is never freed under a call.
        self._lock = threading.Lock()
        self._users_left = threading.Condition(self._lock)
        self._users = 0
        self._tls = _ThreadState()
        self._shut = False  # budp_shutdown called (by shutdown() or close())
        self._closing = False  # close() called
        self._close_deferred = False  # budp_close left to the last call out
        self._freed = False  # budp_close returned
        # Set by Group for its members: the group that frees the handle,
        # and the member's number in it.
        self._group: Optional[Group] = None
        self._member = -1

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (not after :meth:`shutdown`
        alone)."""
        return self._closing

    def shutdown(self) -> None:
        """Stop the socket without freeing it, from any thread, at any time
        (inside a callback too); idempotent.

        A call blocked on the socket in another thread (:meth:`wait`, a
        coroutine awaiting :meth:`recv_async`) raises :class:`ClosedError`
        at once, as does every later call but :meth:`close`; the receiver
        thread (threaded mode) stops after the callback it runs, if any.
        Datagrams still queued in the library are discarded.  The fd stays
        open and the memory allocated until :meth:`close`, which must still
        be called.  Use it to stop a thread that uses the socket, then join
        that thread, then close.
        """
        tls = self._tls
        tls.calls += 1
        counted = False
        try:
            with self._lock:
                if not self._shut:
                    self._shut = True
                    # Counted as a call: a close() on another thread waits
                    # for it before freeing the handle.
                    self._users += 1
                    counted = True
                    h = self._h
            if counted:
                LIB.budp_shutdown(h)
        finally:
            if counted:
                self._leave_counted()
            tls.calls -= 1
        if counted:
            self._wake_async_waiter()

    def close(self) -> None:
        """Close the socket: shut it down (see :meth:`shutdown`), wait for
        calls on it in other threads to return (they raise
        :class:`ClosedError` at once if they were blocked), then stop the
        receiver thread (threaded mode), free the buffers (views from
        :meth:`recv_views` are released) and close the fd if the library
        created it.  Idempotent; any thread may call it.

        Called where it cannot wait (inside one of the socket's callbacks, or
        while this thread is itself inside a call on the socket), it shuts
        the socket down at once and the rest completes when the calls in
        progress return: for a callback run by :meth:`dispatch`, when
        dispatch returns.
        """
        self._close()

    def _close(self) -> bool:
        """close(); True for the call that started the close (Group needs
        to know which call closed a member)."""
        tls = self._tls
        with self._lock:
            first = not self._closing
            self._closing = True
            self._shut = True
            h = self._h
        can_wait = tls.calls == 0 and tls.callbacks == 0
        if not first:
            # Another close() is finishing: wait for it where that cannot
            # deadlock, so that the socket is closed when this returns.
            if can_wait:
                with self._lock:
                    while not self._freed and not self._close_deferred:
                        self._users_left.wait()
            return False
        # h stays valid until this close() frees it below.
        LIB.budp_shutdown(h)
        self._release_views(quiet=True)
        self._wake_async_waiter()
        with self._lock:
            if can_wait:
                # After the shutdown no call blocks: they all leave soon.
                while self._users:
                    self._users_left.wait()
            elif self._users:
                # This thread is inside a call on the socket (or one of its
                # callbacks runs here, and another thread may be waiting for
                # it, as budp_set_callback does): the last call out closes.
                self._close_deferred = True
                self._users_left.notify_all()
                return True
            self._h = None
        self._free(h)
        return True

    def _free(self, h: Optional[int]) -> None:
        """budp_close, once no binding call is inside the socket."""
        # Inside a receiver-thread callback the library gives the fd and the
        # thread back now and frees the memory once the callback returns.
        group = self._group
        try:
            if group is None:
                LIB.budp_close(h)
            else:
                group._member_freed(self._member, h)
        finally:
            self._keep = None
            with self._lock:
                self._freed = True
                self._close_deferred = False
                self._users_left.notify_all()

    # Every call into C runs between _enter and _leave.  _enter refuses calls
    # once the socket is shut down; close() waits until _users is zero before
    # budp_close.  The per-thread count goes up before and down after the
    # shared one, so it is never lower than this thread's share of _users:
    # a close() from a signal handler (or an exception raised by one halfway
    # through) never makes this thread wait for itself; at worst the close
    # is left to the last call out.
    def _enter(self) -> int:
        tls = self._tls
        tls.calls += 1
        counted = False
        try:
            with self._lock:
                if self._shut:
                    raise closed_error()
                self._users += 1
                counted = True
                h = self._h
        except BaseException:
            if counted:
                self._leave_counted()
            tls.calls -= 1
            raise
        return h  # type: ignore[return-value]

    def _leave(self) -> None:
        self._leave_counted()
        self._tls.calls -= 1

    def _hold_watch(self, w: Any) -> None:
        """Count an event loop's watch of a fd as a user and publish it
        (_aio.py)."""
        with self._lock:
            if self._shut:
                raise closed_error()
            if (self._aio_write if w.writer else self._aio_wait) is not None:
                # Checked here, under the lock, as loops on two threads may
                # try at once: a second watch would never be counted down.
                if w.writer:
                    raise RuntimeError("this socket is already watched for writability")
                raise RuntimeError("another coroutine is already receiving on this socket")
            self._users += 1
            if w.writer:
                self._aio_write = w
            else:
                self._aio_wait = w

    def _leave_counted(self) -> None:
        """Drop one user; the last one out finishes a deferred close."""
        with self._lock:
            self._users -= 1
            if not self._closing or self._users:
                return
            self._users_left.notify_all()
            if not self._close_deferred or self._h is None:
                return
            h, self._h = self._h, None
        self._free(h)

    def _raise(self, rc: int, detail: str) -> NoReturn:
        """Raise the error for rc: ClosedError for the -EBADF of a socket
        shut down while the call ran."""
        if rc == -errno.EBADF and self._shut:
            raise closed_error()
        raise_error(rc, detail)
