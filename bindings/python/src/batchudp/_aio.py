"""asyncio support for Socket: coroutines that wait on the event loop
(loop.add_reader on the poll fd, loop.add_writer on the UDP socket).

asyncio itself is imported by the methods that need it, not by this
module: it costs more to import than the rest of the package, and a
program that never awaits a socket should not pay for it.

Every fd registration with a loop is a Watch, counted as a user of the
socket while it lasts: close() removes it, on the loop's thread, before
the library closes the fd, so a loop never watches a closed (possibly
reused) fd.  A socket has at most one reader watch (one receiver at a
time) and one writer watch, shared by every coroutine of that loop that
waits to send.
"""

from __future__ import annotations

import errno
import threading

from . import _outgoing
from ._backoff import Backoff
from ._errors import ClosedError, closed_error

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import asyncio
    from typing import Any, AsyncIterator, Callable, Iterable, List, Optional, Tuple

    from ._outgoing import Outgoing, Sendable
    from ._types import Datagram


class Watch:
    """One registration of a socket's fd with an event loop."""

    __slots__ = ("loop", "fd", "fut", "writer")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, fd: int, fut: asyncio.Future[None], writer: bool
    ):
        self.loop = loop
        self.fd = fd
        #: Done when the watch ends for good: a result when the fd was
        #: ready (one-shot watches), ClosedError when the socket shut down.
        self.fut = fut
        self.writer = writer


def _ready(w: Watch) -> None:
    """The callback of a one-shot reader watch."""
    if not w.fut.done():
        w.fut.set_result(None)


class AsyncMixin:
    """The coroutine methods of :class:`batchudp.Socket`."""

    _aio_wait: Optional[Watch]
    _aio_write: Optional[Watch]
    _lock: threading.Lock
    _errors: bool

    if TYPE_CHECKING:

        def recv(self, max: Optional[int] = None) -> List[Datagram]: ...

        def fileno(self) -> int: ...

        @property
        def fd(self) -> int: ...

        def _hold_watch(self, w: Watch) -> None: ...

        def _leave_counted(self) -> None: ...

        def _send_until_full(self, out: Outgoing, sent: int) -> Tuple[int, int]: ...

        def _stash_error_events(self) -> None: ...

    # --- receiving -----------------------------------------------------------

    async def recv_async(self, max: Optional[int] = None) -> List[Datagram]:
        """Await at least one datagram and return up to ``max`` of them.

        Sleeps on the event loop (``loop.add_reader`` on :meth:`fileno`)
        only after a receive found nothing, as the poll fd requires: a
        wake-up may be spurious, and one wake-up may stand for many
        datagrams.  One coroutine at a time per socket.

        With ``errors=True``, the error events that wait (which keep the
        poll fd readable) are moved into the socket's own list before it
        sleeps, 64 at most (more are dropped, counted in
        ``Stats.error_events_dropped``): :meth:`recv_errors` returns them,
        from the loop body of :meth:`batches` say.
        """
        while True:
            got = self.recv(max)
            if got:
                return got
            if self._errors:
                self._stash_error_events()
            await self._readable()

    async def batches(self, max: Optional[int] = None) -> AsyncIterator[List[Datagram]]:
        """``async for batch in sock.batches():`` each batch as it arrives,
        a new ``list[Datagram]`` of up to ``max`` (default ``batch_size``)
        that the loop body owns.  Ends when the socket is closed.

        Handle a batch as a whole to keep the batching (an echo:
        ``await sock.send_all(batch)``).
        """
        while True:
            try:
                batch = await self.recv_async(max)
            except ClosedError:
                return
            yield batch

    async def datagrams(self, max: Optional[int] = None) -> AsyncIterator[Datagram]:
        """``async for d in sock.datagrams():`` every datagram as it
        arrives, received ``max`` at a time (built on :meth:`batches`).
        Ends when the socket is closed."""
        async for batch in self.batches(max):
            for d in batch:
                yield d

    async def _readable(self) -> None:
        """Sleep until the poll fd is readable (or the socket shuts down)."""
        import asyncio

        loop = asyncio.get_running_loop()
        w = self._watch(loop, False, _ready)
        try:
            await w.fut
        finally:
            self._unwatch(w, False)

    # --- sending ---------------------------------------------------------------

    async def send_all(self, datagrams: Iterable[Sendable]) -> int:
        """Send every datagram, in order, waiting on the event loop
        (``loop.add_writer`` on the UDP socket) while its send buffer is
        full, and sleeping (1 ms doubling to 16 ms between tries) while the
        interface's queue is (ENOBUFS, which writability does not report
        clearing); never spins.  Returns how many were sent: all of them,
        none twice.

        Items as for :meth:`send`; their buffers must not change until it
        returns.  An error is raised as :meth:`send` raises it, after the
        datagrams before the one that failed were sent.  Raises
        :class:`ClosedError` if the socket is shut down or closed meanwhile.
        Coroutines sending on one socket at once may interleave their
        datagrams.
        """
        import asyncio

        out = _outgoing.prepare(datagrams)
        total = len(out)
        backoff = Backoff()
        sent, refused = self._send_until_full(out, 0)
        while sent < total:
            if refused == errno.ENOBUFS:
                await asyncio.sleep(backoff.next_delay())
            else:
                await self._writable()
            before = sent
            # Raises ClosedError when the socket was shut down meanwhile.
            sent, refused = self._send_until_full(out, sent)
            if sent > before:
                backoff.reset()
        return total

    async def _writable(self) -> None:
        """Sleep until the UDP socket is writable (or the socket shuts down)."""
        import asyncio

        # Shielded: the watch's future is shared by every coroutine of the
        # loop waiting to send, and one being cancelled must not cancel it.
        await asyncio.shield(self._writable_future(asyncio.get_running_loop()))

    def _writable_future(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """A future done when the UDP socket is writable: a result, or
        ClosedError when the socket shuts down first.  Shared by everyone
        on loop waiting to send."""
        w = self._aio_write
        if w is not None and not w.fut.done():
            if w.loop is not loop:
                raise RuntimeError("a coroutine on another event loop waits to send on this socket")
            return w.fut
        return self._watch(loop, True, self._on_writable).fut

    def _on_writable(self, w: Watch) -> None:
        self._unwatch(w, False)
        if not w.fut.done():
            w.fut.set_result(None)

    # --- watches -------------------------------------------------------------

    def _watch(
        self, loop: asyncio.AbstractEventLoop, writer: bool, callback: Callable[[Watch], Any]
    ) -> Watch:
        """Register callback(watch) with loop for the poll fd's readability
        or (writer) the UDP socket's writability, counted as a user of the
        socket until _unwatch."""
        fd = self.fd if writer else self.fileno()
        w = Watch(loop, fd, loop.create_future(), writer)
        # Counted and published at once, under the lock shutdown() and
        # close() take first: either this raises ClosedError, or they see the
        # watch and end it.  RuntimeError if the socket has one already.
        self._hold_watch(w)
        try:
            if writer:
                loop.add_writer(fd, callback, w)
            else:
                loop.add_reader(fd, callback, w)
        except BaseException:
            self._unwatch(w, False)
            raise
        if w.fut.done():  # ended already (a shutdown from a signal handler)
            self._remove(w)
            w.fut.exception()  # raised here instead: retrieved
            raise closed_error()
        return w

    def _unwatch(self, w: Watch, fail: bool) -> None:
        """Remove the watch's registration and drop its count, once; with
        fail, make its future raise ClosedError.  On the loop's thread, or
        on any thread when the loop does not run."""
        with self._lock:
            if w.writer:
                if self._aio_write is not w:
                    return
                self._aio_write = None
            else:
                if self._aio_wait is not w:
                    return
                self._aio_wait = None
        try:
            self._remove(w)
        finally:
            self._leave_counted()
        if fail and not w.fut.done():
            try:
                w.fut.set_exception(closed_error())
            except RuntimeError:  # its loop is closed: nobody awaits it
                pass

    @staticmethod
    def _remove(w: Watch) -> None:
        try:
            if w.writer:
                w.loop.remove_writer(w.fd)
            else:
                w.loop.remove_reader(w.fd)
        except Exception:  # a closed loop, or a fd it never registered
            pass

    def _wake_async_waiter(self) -> None:
        """On shutdown and close: end every watch, failing its future, on
        the loop's thread when the loop runs."""
        for w in (self._aio_wait, self._aio_write):
            if w is not None:
                self._end_watch(w)

    def _end_watch(self, w: Watch) -> None:
        import asyncio  # loaded already: a coroutine registered the watch

        try:
            running: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not w.loop and w.loop.is_running():
            try:
                w.loop.call_soon_threadsafe(self._unwatch, w, True)
                return
            except RuntimeError:  # closed meanwhile
                pass
        # The loop is this thread's, or it does not run: nothing else uses
        # its selector now.
        self._unwatch(w, True)
