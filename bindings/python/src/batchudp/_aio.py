"""asyncio support for Socket: waiting on the poll fd with loop.add_reader."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, AsyncIterator, List, Optional, Tuple

from ._errors import ClosedError, closed_error

if TYPE_CHECKING:
    from ._types import Datagram


class AsyncMixin:
    """The coroutine methods of :class:`batchudp.Socket`."""

    _aio_wait: Optional[Tuple[asyncio.AbstractEventLoop, int, "asyncio.Future[None]"]]

    if TYPE_CHECKING:

        def recv(self, max: Optional[int] = None) -> List[Datagram]: ...

        def fileno(self) -> int: ...

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
        """Sleep until the poll fd is readable (or the socket closes)."""
        if self._aio_wait is not None:
            raise RuntimeError("another coroutine is already receiving on this socket")
        loop = asyncio.get_running_loop()
        fd = self.fileno()
        fut: "asyncio.Future[None]" = loop.create_future()

        def ready() -> None:
            if not fut.done():
                fut.set_result(None)

        loop.add_reader(fd, ready)
        self._aio_wait = (loop, fd, fut)
        try:
            await fut
        finally:
            if self._aio_wait is not None and self._aio_wait[2] is fut:
                self._aio_wait = None
                loop.remove_reader(fd)

    def _wake_async_waiter(self) -> None:
        """On close: stop watching the fd and fail the waiting coroutine."""
        waiter, self._aio_wait = self._aio_wait, None
        if waiter is None:
            return
        loop, fd, fut = waiter

        def wake() -> None:
            loop.remove_reader(fd)
            if not fut.done():
                fut.set_exception(closed_error())

        try:
            running: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(wake)
