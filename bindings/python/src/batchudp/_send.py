"""Sending: Socket.send (what the kernel takes now) and Socket.sendall
(everything, waiting for the UDP socket to be writable, or sleeping while
the interface's queue is full)."""

from __future__ import annotations

import errno
import math
import time

from . import _outgoing
from ._backoff import Backoff
from ._errors import closed_error, raise_error
from ._lib import LIB

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Iterable, NoReturn, Optional, Tuple

    from ._outgoing import Outgoing, Sendable

# A thread waiting for writability polls in pieces of this long, so that a
# close() from another thread, which waits for it to leave, waits no longer.
_POLL_SLICE_MS = 50


class SendMixin:
    """The sending methods of :class:`batchudp.Socket`."""

    _shut: bool

    if TYPE_CHECKING:

        def _enter(self) -> int: ...

        def _leave(self) -> None: ...

        def _raise(self, rc: int, detail: str) -> NoReturn: ...

    def send(self, datagrams: Iterable[Sendable]) -> int:
        """Send datagrams without blocking, in order, in as few system calls
        as the backend allows.

        Each item is ``(data, (host, port))`` (a tuple, a list, any
        2-sequence), an :class:`OutgoingDatagram` (which may also set the
        source address and the ECN codepoint), a received
        :class:`Datagram` (sent back to its peer), or, on a connected
        socket, plain ``data`` (bytes, bytearray or memoryview).  Returns
        how many were sent: fewer than given when the kernel stops taking
        them (resend the rest, or use :meth:`sendall`).  Raises only when
        the first one fails (BlockingIOError for a full send buffer).
        """
        out = _outgoing.prepare(datagrams)
        if not len(out):
            return 0
        return self._send_outgoing(out, 0)

    def _send_outgoing(self, out: Outgoing, start: int) -> int:
        """budp_send of out's datagrams from start on; returns the count."""
        blob, table, n = out.table(start)
        h = self._enter()
        try:
            rc = LIB.budp_send(h, _outgoing.address_of(table), n)
        finally:
            self._leave()
        if rc < 0:
            self._raise(rc, "send")
        return rc  # type: ignore[no-any-return]

    def _send_until_full(self, out: Outgoing, sent: int) -> Tuple[int, int]:
        """Send out's datagrams from sent on until the kernel refuses one
        for want of room or all are sent.  Returns the new count sent and
        what refused: ``EAGAIN`` (a full send buffer: wait for the socket
        to be writable), ``ENOBUFS`` (a full interface queue, which poll
        does not report clearing: sleep, see _backoff), or 0 when the call
        took some or nothing was left.  The step sendall, send_all and the
        transport repeat between their waits."""
        if sent == len(out):  # nothing (left) to send: no call
            return sent, 0
        try:
            return sent + self._send_outgoing(out, sent), 0
        except BlockingIOError:
            return sent, errno.EAGAIN
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                return sent, errno.ENOBUFS
            raise

    def sendall(self, datagrams: Iterable[Sendable], timeout: Optional[float] = None) -> int:
        """Send every datagram, in order, blocking while the socket's send
        buffer is full (a poll of the UDP socket for POLLOUT, no spinning)
        or the interface's queue is (ENOBUFS, which poll does not report
        clearing: sleeps of 1 ms doubling to 16 ms between tries).
        Returns how many were sent: all of them, none twice.

        Items as for :meth:`send`.  ``timeout`` (seconds, None for no limit)
        bounds the whole call: past it, :class:`batchudp.Error` with errno
        ``ETIMEDOUT`` (also a TimeoutError) is raised, with the datagrams
        before the first unsent one sent.  Any other error is raised as
        :meth:`send` raises it, likewise after the datagrams before the one
        that failed.  Raises :class:`ClosedError` if the socket is shut
        down or closed meanwhile.
        """
        deadline = deadline_after(timeout)
        out = _outgoing.prepare(datagrams)
        total = len(out)
        backoff = Backoff()
        sent, refused = self._send_until_full(out, 0)
        while sent < total:
            if refused == errno.ENOBUFS:
                self._sleep_for_room(backoff.next_delay(), deadline, sent, total)
            else:
                self._wait_writable(deadline, sent, total)
            before = sent
            sent, refused = self._send_until_full(out, sent)
            if sent > before:
                backoff.reset()
        return total

    def _sleep_for_room(
        self, delay: float, deadline: Optional[float], sent: int, total: int
    ) -> None:
        """Sleep delay seconds after an ENOBUFS, no later than the deadline
        (raising once it has passed), then raise ClosedError if the socket
        was shut down meanwhile."""
        left = _time_left(deadline, sent, total)
        time.sleep(delay if left is None else min(delay, left))
        if self._shut:
            raise closed_error()

    def _wait_writable(self, deadline: Optional[float], sent: int, total: int) -> None:
        """Block until the UDP socket (not the poll fd, which is for
        readability) is writable, or raise at the deadline."""
        import select  # loaded on first use, as nothing else needs it

        while True:
            ms = _POLL_SLICE_MS
            left = _time_left(deadline, sent, total)
            if left is not None:
                ms = min(ms, int(left * 1000) + 1)
            # Counted as a call while it polls: a close() on another thread
            # waits for it before the fd is closed (never longer than a
            # slice), so the fd polled is never a closed or reused one.
            h = self._enter()
            try:
                fd = LIB.budp_socket_fd(h)
                if fd < 0:
                    self._raise(fd, "socket fd")
                poller = select.poll()
                poller.register(fd, select.POLLOUT)
                ready = poller.poll(ms)
            finally:
                self._leave()
            if self._shut:
                raise closed_error()
            if ready:
                return


def _time_left(deadline: Optional[float], sent: int, total: int) -> Optional[float]:
    """The seconds before sendall's deadline (None: it has none); raises
    ETIMEDOUT, with the count sent, once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise_error(
            -errno.ETIMEDOUT,
            "sendall: timed out with %d of %d datagrams sent" % (sent, total),
        )
    return left


def deadline_after(timeout: Optional[float]) -> Optional[float]:
    """The time.monotonic() at which a wait of ``timeout`` seconds ends,
    None for no end (None or infinity), after checking the argument: the
    one reading of a timeout for wait() and sendall()."""
    if timeout is None or timeout == math.inf:
        return None
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool):
        raise TypeError("timeout must be a number or None")
    if not timeout >= 0:  # NaN too
        raise ValueError("timeout must be >= 0")
    return time.monotonic() + timeout
