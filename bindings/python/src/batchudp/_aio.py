"""asyncio support for Socket: waiting on the poll fd with loop.add_reader.

asyncio itself is imported by the methods that need it, not by this
module: it costs more to import than the rest of the package, and a
program that never awaits a socket should not pay for it.
"""

from __future__ import annotations

import threading

from ._errors import ClosedError, closed_error

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import asyncio
    from typing import AsyncIterator, List, Optional, Tuple

    from ._types import Datagram


class AsyncMixin:
    """The coroutine methods of :class:`batchudp.Socket`."""

    _aio_wait: Optional[Tuple[asyncio.AbstractEventLoop, int, "asyncio.Future[None]"]]
    _lock: threading.Lock

    if TYPE_CHECKING:

        def recv(self, max: Optional[int] = None) -> List[Datagram]: ...

        def fileno(self) -> int: ...

        def _hold_reader(
            self, waiter: Tuple[asyncio.AbstractEventLoop, int, "asyncio.Future[None]"]
        ) -> None: ...

        def _leave_counted(self) -> None: ...

    async def recv_async(self, max: Optional[int] = None) -> List[Datagram]:
        """Await at least one datagram and return up to ``max`` of them.

        Sleeps on the event loop (``loop.add_reader`` on :meth:`fileno`)
        only after a receive found nothing, as the poll fd requires: a
        wake-up may be spurious, and one wake-up may stand for many
        datagrams.  One coroutine at a time per socket.
        """
        while True:
            got = self.recv(max)
            if got:
                return got
            await self._readable()

    async def datagrams(self, max: Optional[int] = None) -> AsyncIterator[Datagram]:
        """``async for d in sock.datagrams():`` every datagram as it
        arrives, received ``max`` at a time.  Ends when the socket is closed.
        """
        while True:
            try:
                batch = await self.recv_async(max)
            except ClosedError:
                return
            for d in batch:
                yield d

    async def _readable(self) -> None:
        """Sleep until the poll fd is readable (or the socket shuts down).

        While the reader is registered it counts as a user of the socket,
        so close() removes it (on the loop's thread) before the library
        closes the fd: the loop never watches a closed, possibly reused, fd.
        """
        if self._aio_wait is not None:
            raise RuntimeError("another coroutine is already receiving on this socket")
        import asyncio

        loop = asyncio.get_running_loop()
        fd = self.fileno()
        fut: "asyncio.Future[None]" = loop.create_future()

        def ready() -> None:
            if not fut.done():
                fut.set_result(None)

        waiter = (loop, fd, fut)
        # Counted and published at once, under the lock shutdown() and
        # close() take first: either this raises ClosedError, or they see the
        # waiter and wake it.
        self._hold_reader(waiter)
        try:
            loop.add_reader(fd, ready)
            if self._aio_wait is not waiter:  # woken already (a signal handler)
                loop.remove_reader(fd)
                raise closed_error()
            await fut
        finally:
            self._unwatch(waiter, False)

    def _unwatch(
        self,
        waiter: Tuple[asyncio.AbstractEventLoop, int, "asyncio.Future[None]"],
        fail: bool,
    ) -> None:
        """Remove the waiter's reader and drop its count, once; with fail,
        make its future raise ClosedError.  On the loop's thread, or on any
        thread when the loop does not run."""
        with self._lock:
            if self._aio_wait is not waiter:
                return
            self._aio_wait = None
        loop, fd, fut = waiter
        try:
            loop.remove_reader(fd)
        except Exception:  # a closed loop, or a fd it never registered
            pass
        finally:
            self._leave_counted()
        if fail and not fut.done():
            try:
                fut.set_exception(closed_error())
            except RuntimeError:  # its loop is closed: nobody awaits it
                pass

    def _wake_async_waiter(self) -> None:
        """On shutdown and close: stop watching the fd and fail the waiting
        coroutine, on the loop's thread when the loop runs."""
        waiter = self._aio_wait
        if waiter is None:
            return
        import asyncio  # loaded already: a coroutine registered the waiter

        loop = waiter[0]
        try:
            running: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop and loop.is_running():
            try:
                loop.call_soon_threadsafe(self._unwatch, waiter, True)
                return
            except RuntimeError:  # closed meanwhile
                pass
        # The loop is this thread's, or it does not run: nothing else uses
        # its selector now.
        self._unwatch(waiter, True)
