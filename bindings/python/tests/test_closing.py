"""Closing and shutting down: from other threads, inside callbacks, twice.

A call blocked on a socket in one thread must end with ClosedError soon
after another thread closes or shuts the socket down.  The tests guard
against a hang with a generous join timeout (HANG) and print how long the
blocked call took to return after the close (run pytest with -s to see it);
they assert no timing beyond the hang guard.
"""

from __future__ import annotations

import asyncio
import errno
import os
import selectors
import signal
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

import batchudp
from batchudp import _lifetime, _socket
from conftest import bind_threaded

HANG = 5.0
MODES = ["inline", "threaded"]


def bind(mode: str, **options: Any) -> batchudp.Socket:
    if mode == "threaded":
        return bind_threaded(**options)
    return batchudp.Socket.bind("127.0.0.1", 0, **options)


class LibSpy:
    """Stands in for the library in batchudp._socket and batchudp._lifetime:
    records the arguments of the functions watched, flags the moment a call
    starts, and notes whether budp_close ran while a watched call was still
    inside."""

    def __init__(self, lib: Any):
        self._lib = lib
        self.args: Dict[str, List[tuple]] = {}
        self.entered: Dict[str, threading.Event] = {}
        self.inside = 0
        self.closed_under_a_call = False
        self.on_close: Optional[Callable[[Any], None]] = None
        self._delay: Dict[str, float] = {}
        self._lock = threading.Lock()

    def watch(self, name: str, delay: float = 0.0) -> threading.Event:
        """Watch name; with delay, sleep that long inside it before calling C."""
        self.args[name] = []
        self.entered[name] = threading.Event()
        self._delay[name] = delay
        real = getattr(self._lib, name)

        def spy(*args: Any) -> Any:
            with self._lock:
                self.args[name].append(args[1:])
                self.inside += 1
            self.entered[name].set()
            try:
                if self._delay[name]:
                    time.sleep(self._delay[name])
                return real(*args)
            finally:
                with self._lock:
                    self.inside -= 1

        setattr(self, name, spy)
        return self.entered[name]

    def budp_close(self, h: Any) -> None:
        with self._lock:
            if self.inside:
                self.closed_under_a_call = True
        if self.on_close is not None:
            self.on_close(h)
        self._lib.budp_close(h)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> LibSpy:
    s = LibSpy(_socket.LIB)
    monkeypatch.setattr(_socket, "LIB", s)
    monkeypatch.setattr(_lifetime, "LIB", s)
    return s


class Worker:
    """Runs fn on its own thread and keeps what it returned or raised."""

    def __init__(self, fn: Callable[[], Any], name: str = "worker"):
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.ended = 0.0
        self.thread = threading.Thread(target=self._run, args=(fn,), name=name, daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self.result = fn()
        except BaseException as exc:  # noqa: B036 - examined by the test
            self.error = exc
        finally:
            self.ended = time.monotonic()

    def join(self, what: str, since: Optional[float] = None) -> None:
        """Fail if the thread is still running HANG seconds on; print how
        long after `since` (the close) it returned."""
        self.thread.join(HANG)
        assert not self.thread.is_alive(), "%s still blocked after %.0f s" % (what, HANG)
        if since is not None:
            print("%s: returned %.2f ms after the close" % (what, (self.ended - since) * 1e3))

    def raised_closed(self) -> bool:
        return isinstance(self.error, batchudp.ClosedError) and self.error.errno == errno.EBADF


def close_timed(sock: batchudp.Socket, how: str = "close") -> float:
    """Close (or shut down) sock on another thread, failing rather than
    hanging if it never returns; return the moment it started."""
    t0 = time.monotonic()
    closer = Worker(getattr(sock, how), how + "()")
    closer.join(how + "()")
    assert closer.error is None, closer.error
    print("%s() took %.2f ms" % (how, (closer.ended - t0) * 1e3))
    return t0


def every_call(sock: batchudp.Socket) -> Dict[str, Callable[[], Any]]:
    """Every socket method that must raise ClosedError once it is shut down."""
    return {
        "recv": lambda: sock.recv(),
        "recv(detailed)": lambda: sock.recv(detailed=True),
        "recv_views": lambda: sock.recv_views().__enter__(),
        "send": lambda: sock.send([(b"x", ("127.0.0.1", 9))]),
        "connect": lambda: sock.connect("127.0.0.1", 9),
        "local_addr": lambda: sock.local_addr(),
        "fileno": lambda: sock.fileno(),
        "fd": lambda: sock.fd,
        "backend": lambda: sock.backend,
        "backend_reason": lambda: sock.backend_reason,
        "wait(0)": lambda: sock.wait(0),
        "wait(1)": lambda: sock.wait(1),
        "wait()": lambda: sock.wait(),
        "stats": lambda: sock.stats(),
        "on_datagrams(None)": lambda: sock.on_datagrams(None),
        "on_datagrams(fn)": lambda: sock.on_datagrams(lambda batch: None),
        "dispatch": lambda: sock.dispatch(),
        "recv_async": lambda: asyncio.run(sock.recv_async()),
        "sendall": lambda: sock.sendall([(b"x", ("127.0.0.1", 9))]),
        "send_all": lambda: asyncio.run(sock.send_all([(b"x", ("127.0.0.1", 9))])),
    }


def assert_every_call_raises_closed(sock: batchudp.Socket) -> None:
    for name, call in every_call(sock).items():
        with pytest.raises(batchudp.ClosedError) as info:
            call()
        assert info.value.errno == errno.EBADF, name
    assert asyncio.run(_collect(sock)) == []
    assert asyncio.run(_collect_batches(sock)) == []


async def _collect(sock: batchudp.Socket) -> list:
    return [d async for d in sock.datagrams()]


async def _collect_batches(sock: batchudp.Socket) -> list:
    return [b async for b in sock.batches()]


# --- a thread blocked in wait() --------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_close_wakes_a_thread_waiting_forever(spy: LibSpy, mode: str) -> None:
    sock = bind(mode)
    entered = spy.watch("budp_wait")
    waiter = Worker(sock.wait, "wait()")
    assert entered.wait(HANG)
    time.sleep(0.05)  # let it reach poll()
    t0 = close_timed(sock)
    waiter.join("%s wait()" % mode, t0)
    assert waiter.raised_closed(), waiter.error
    # one call into the library, for the whole wait: no slicing off the
    # main thread
    assert spy.args["budp_wait"] == [(-1,)]
    assert not spy.closed_under_a_call
    assert_every_call_raises_closed(sock)


@pytest.mark.parametrize("mode", MODES)
def test_close_wakes_a_thread_waiting_with_a_timeout(spy: LibSpy, mode: str) -> None:
    sock = bind(mode)
    entered = spy.watch("budp_wait")
    waiter = Worker(lambda: sock.wait(60), "wait(60)")
    assert entered.wait(HANG)
    time.sleep(0.05)
    t0 = close_timed(sock)
    waiter.join("%s wait(60)" % mode, t0)
    assert waiter.raised_closed(), waiter.error
    assert spy.args["budp_wait"] == [(60000,)]


@pytest.mark.parametrize("mode", MODES)
def test_shutdown_wakes_a_waiting_thread(spy: LibSpy, mode: str) -> None:
    sock = bind(mode)
    fd = sock.fd
    entered = spy.watch("budp_wait")
    waiter = Worker(sock.wait, "wait()")
    assert entered.wait(HANG)
    time.sleep(0.05)
    t0 = close_timed(sock, "shutdown")
    waiter.join("%s wait() after shutdown()" % mode, t0)
    assert waiter.raised_closed(), waiter.error
    assert not sock.closed
    os.fstat(fd)  # shut down, not freed: the fd is still open
    sock.close()
    with pytest.raises(OSError):
        os.fstat(fd)


@pytest.mark.parametrize("mode", MODES)
def test_close_ends_a_receive_loop(mode: str) -> None:
    sock = bind(mode)
    got: List[bytes] = []

    def loop() -> None:
        while True:
            batch = sock.recv()
            got.extend(d.data for d in batch)
            if not batch:
                sock.wait()

    with batchudp.Socket.bind("127.0.0.1", 0) as tx:
        receiver = Worker(loop, "receive loop")
        tx.send([(b"r%d" % i, sock.local_addr()) for i in range(5)])
        deadline = time.monotonic() + HANG
        while len(got) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == [b"r%d" % i for i in range(5)]
        time.sleep(0.05)  # back asleep in wait()
        t0 = close_timed(sock)
        receiver.join("%s receive loop" % mode, t0)
        assert receiver.raised_closed(), receiver.error


def test_wait_on_the_main_thread_runs_signal_handlers() -> None:
    # On the main thread wait() returns to Python often enough for signal
    # handlers to run: Ctrl-C interrupts a wait without a timeout.
    assert threading.current_thread() is threading.main_thread()
    sock = batchudp.Socket.bind("127.0.0.1", 0)
    guard_fired = threading.Event()

    def guard() -> None:  # ends the wait if the signal is never seen
        guard_fired.set()
        sock.close()

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupt = threading.Timer(0.2, signal.pthread_kill,
                                (threading.main_thread().ident, signal.SIGINT))
    hang = threading.Timer(HANG, guard)
    try:
        interrupt.start()
        hang.start()
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            sock.wait()
        print("KeyboardInterrupt after %.0f ms" % ((time.monotonic() - t0) * 1e3))
        assert not guard_fired.is_set(), "the signal was seen only once the socket closed"
    finally:
        hang.cancel()
        interrupt.cancel()
        signal.signal(signal.SIGINT, previous)
        sock.close()


class Hung(Exception):
    """Raised on the main thread by the hang guard's signal."""


def test_close_from_a_signal_handler_during_wait() -> None:
    # The handler runs on the main thread while it is inside wait(): close()
    # must not wait for that call, which cannot return before the handler.
    assert threading.current_thread() is threading.main_thread()
    sock = batchudp.Socket.bind("127.0.0.1", 0)
    fd = sock.fd
    handled: List[float] = []

    def close_handler(signum: int, frame: Any) -> None:
        t0 = time.monotonic()
        sock.close()
        handled.append(time.monotonic() - t0)

    def hang_handler(signum: int, frame: Any) -> None:
        raise Hung()

    main = threading.main_thread().ident
    old_usr1 = signal.signal(signal.SIGUSR1, close_handler)
    old_usr2 = signal.signal(signal.SIGUSR2, hang_handler)
    trigger = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGUSR1))
    guard = threading.Timer(HANG, signal.pthread_kill, (main, signal.SIGUSR2))
    try:
        trigger.start()
        guard.start()
        with pytest.raises(batchudp.ClosedError):
            sock.wait()
    finally:
        guard.cancel()
        trigger.cancel()
        signal.signal(signal.SIGUSR1, old_usr1)
        signal.signal(signal.SIGUSR2, old_usr2)
    assert len(handled) == 1
    print("close() in the signal handler took %.2f ms" % (handled[0] * 1e3))
    assert sock.closed
    with pytest.raises(OSError):
        os.fstat(fd)  # freed once wait() left the socket
    assert_every_call_raises_closed(sock)


# --- calls in progress on other threads -------------------------------------


def test_close_waits_for_a_call_in_another_thread(spy: LibSpy) -> None:
    sock = batchudp.Socket.bind("127.0.0.1", 0)
    entered = spy.watch("budp_get_stats", delay=0.3)
    caller = Worker(sock.stats, "stats()")
    assert entered.wait(HANG)
    t0 = close_timed(sock)
    caller.join("stats() in flight", t0)
    assert not spy.closed_under_a_call, "budp_close ran while stats() was inside"
    # it was inside before the shutdown: a result, or ClosedError
    assert caller.error is None or caller.raised_closed(), caller.error


@pytest.mark.parametrize("mode", MODES)
def test_close_while_threads_send(mode: str) -> None:
    sock = bind(mode)
    dest = sock.local_addr()
    sent = [0] * 4
    started = threading.Barrier(len(sent) + 1)

    def sender(i: int) -> None:
        started.wait()
        while True:
            try:
                sent[i] += sock.send([(b"s", dest)] * 8)
            except BlockingIOError:
                pass

    senders = [Worker(lambda i=i: sender(i), "sender %d" % i) for i in range(len(sent))]
    started.wait()
    time.sleep(0.1)  # every sender is sending
    t0 = close_timed(sock)
    for i, w in enumerate(senders):
        w.join("%s sender %d" % (mode, i), t0)
        assert w.raised_closed(), w.error
    assert all(sent)


@pytest.mark.parametrize("mode", MODES)
def test_close_from_several_threads_at_once(mode: str) -> None:
    sock = bind(mode)
    waiter = Worker(sock.wait, "wait()")
    time.sleep(0.05)
    gate = threading.Barrier(4)

    def close() -> None:
        gate.wait()
        sock.close()

    closers = [Worker(close, "close %d" % i) for i in range(4)]
    for c in closers:
        c.join("close()")
        assert c.error is None, c.error
    waiter.join("wait()")
    assert waiter.raised_closed(), waiter.error
    sock.close()
    assert_every_call_raises_closed(sock)


def test_double_close_and_shutdown_after_close() -> None:
    sock = batchudp.Socket.bind("127.0.0.1", 0)
    sock.close()
    sock.close()
    sock.shutdown()
    assert sock.closed
    assert repr(sock) == "<batchudp.Socket closed>"
    assert_every_call_raises_closed(sock)


@pytest.mark.parametrize("mode", MODES + ["callback_thread"])
def test_every_call_after_shutdown_raises_closed(mode: str) -> None:
    if mode == "callback_thread":
        sock = bind_threaded(callback_thread=True)
    else:
        sock = bind(mode)
    sock.shutdown()
    sock.shutdown()
    assert not sock.closed
    assert repr(sock) == "<batchudp.Socket shut down>"
    assert_every_call_raises_closed(sock)
    sock.close()
    assert sock.closed
    assert_every_call_raises_closed(sock)


@pytest.mark.parametrize("mode", MODES)
def test_every_call_after_close_raises_closed(mode: str) -> None:
    sock = bind(mode)
    sock.close()
    assert_every_call_raises_closed(sock)


# --- asyncio -------------------------------------------------------------------


class LoopThread(Worker):
    """Runs a coroutine on an event loop in its own thread, over a selector
    the test can look into; the loop is closed by close(), not when the
    coroutine ends, so the selector can still be read after that."""

    def __init__(self, coro_fn: Callable[[], Any]):
        self.sel = selectors.DefaultSelector()
        self.loop = asyncio.SelectorEventLoop(self.sel)
        super().__init__(lambda: self.loop.run_until_complete(coro_fn()), "event loop")

    def close(self) -> None:
        if not self.thread.is_alive():
            self.loop.close()


@pytest.mark.parametrize("mode", MODES)
def test_close_from_another_thread_ends_async_iteration(spy: LibSpy, mode: str) -> None:
    sock = bind(mode)
    fd = sock.fileno()
    got: List[bytes] = []

    async def consume() -> None:
        async for d in sock.datagrams():
            got.append(d.data)

    loop_thread = LoopThread(consume)
    sel = loop_thread.sel
    watched_at_close: List[bool] = []
    handle = sock._h

    def on_close(h: Any) -> None:
        if h == handle:
            watched_at_close.append(fd in sel.get_map())

    spy.on_close = on_close
    with batchudp.Socket.bind("127.0.0.1", 0) as tx:
        tx.send([(b"a%d" % i, sock.local_addr()) for i in range(3)])
        deadline = time.monotonic() + HANG
        while len(got) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert got == [b"a0", b"a1", b"a2"]
    time.sleep(0.05)  # asleep on the event loop again
    assert fd in sel.get_map()
    t0 = close_timed(sock)
    loop_thread.join("%s async for" % mode, t0)
    loop_thread.close()
    assert loop_thread.error is None, loop_thread.error
    # the reader was gone before the library closed the fd
    assert watched_at_close == [False]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", ["close", "shutdown"])
def test_stopping_from_another_thread_fails_recv_async(mode: str, how: str) -> None:
    sock = bind(mode)
    fd = sock.fileno()
    loop_thread = LoopThread(sock.recv_async)
    deadline = time.monotonic() + HANG
    while sock._aio_wait is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sock._aio_wait is not None
    t0 = close_timed(sock, how)
    loop_thread.join("%s recv_async after %s()" % (mode, how), t0)
    assert loop_thread.raised_closed(), loop_thread.error
    assert fd not in loop_thread.sel.get_map()  # the reader is gone
    loop_thread.close()
    sock.close()


def test_close_after_the_loop_stopped_with_a_waiter() -> None:
    # A coroutine left suspended in recv_async on a loop that no longer runs
    # must not keep close() waiting.
    sock = batchudp.Socket.bind("127.0.0.1", 0)
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(sock.recv_async())
        loop.run_until_complete(asyncio.sleep(0.05))
        assert sock._aio_wait is not None
        closer = Worker(sock.close, "close()")
        closer.join("close() with a stopped loop")
        assert closer.error is None, closer.error
        loop.run_until_complete(asyncio.wait([task], timeout=HANG))
        assert isinstance(task.exception(), batchudp.ClosedError)
    finally:
        loop.close()


# --- callbacks ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_close_inside_a_dispatch_callback(spy: LibSpy, mode: str) -> None:
    sock = bind(mode)
    spy.watch("budp_dispatch")
    inside: List[Any] = []

    def fn(batch: list) -> None:
        sock.close()
        inside.append(sock.closed)
        with pytest.raises(batchudp.ClosedError):
            sock.stats()
        inside.append("after")

    def consume() -> None:
        deadline = time.monotonic() + HANG
        while not inside and time.monotonic() < deadline:
            if sock.dispatch() == 0:
                sock.wait(0.05)

    sock.on_datagrams(fn)
    with batchudp.Socket.bind("127.0.0.1", 0) as tx:
        tx.send([(b"d", sock.local_addr())])
        consumer = Worker(consume, "dispatch loop")
        consumer.join("dispatch() whose callback closes the socket")
    assert consumer.error is None, consumer.error
    assert inside == [True, "after"]
    assert not spy.closed_under_a_call
    assert_every_call_raises_closed(sock)


def test_close_a_callback_thread_socket_from_another_thread() -> None:
    sock = bind_threaded(callback_thread=True)
    in_callback = threading.Event()
    release = threading.Event()
    after: List[Any] = []

    def fn(batch: list) -> None:
        in_callback.set()
        release.wait(HANG)
        try:
            sock.stats()
            after.append("stats")
        except batchudp.ClosedError:
            after.append("closed")

    sock.on_datagrams(fn)
    with batchudp.Socket.bind("127.0.0.1", 0) as tx:
        tx.send([(b"c", sock.local_addr())])
        assert in_callback.wait(HANG)
    # close() while the callback runs: it returns once the callback did
    threading.Timer(0.1, release.set).start()
    close_timed(sock)  # returns once the callback did
    assert after == ["closed"]
    assert_every_call_raises_closed(sock)


def test_close_an_idle_callback_thread_socket() -> None:
    sock = bind_threaded(callback_thread=True)
    sock.on_datagrams(lambda batch: None)
    close_timed(sock)
    assert_every_call_raises_closed(sock)


def test_close_inside_a_receiver_thread_callback() -> None:
    sock = bind_threaded(callback_thread=True)
    fd = sock.fd
    closed = threading.Event()
    after: List[Any] = []

    def fn(batch: list) -> None:
        sock.close()
        after.append(sock.closed)
        with pytest.raises(batchudp.ClosedError):
            sock.send([(b"x", ("127.0.0.1", 9))])
        closed.set()

    sock.on_datagrams(fn)
    with batchudp.Socket.bind("127.0.0.1", 0) as tx:
        tx.send([(b"c", sock.local_addr())])
        assert closed.wait(HANG), "close() inside the callback did not return"
    assert after == [True]
    # the library gave the fd back inside the callback
    with pytest.raises(OSError):
        os.fstat(fd)
    sock.close()
    assert_every_call_raises_closed(sock)


def test_close_inside_a_receiver_thread_callback_while_on_datagrams_waits() -> None:
    # on_datagrams() in callback-thread mode waits in the library for the
    # running callback to return; a close() in that callback must not wait
    # for on_datagrams() in turn.
    sock = bind_threaded(callback_thread=True)
    in_callback = threading.Event()
    closed = threading.Event()
    setter: List[Worker] = []

    def fn(batch: list) -> None:
        in_callback.set()
        time.sleep(0.2)  # on_datagrams(None) is now blocked in the library
        sock.close()
        closed.set()

    sock.on_datagrams(fn)
    with batchudp.Socket.bind("127.0.0.1", 0) as tx:
        tx.send([(b"c", sock.local_addr())])
        assert in_callback.wait(HANG)
        setter.append(Worker(lambda: sock.on_datagrams(None), "on_datagrams(None)"))
        assert closed.wait(HANG), "close() inside the callback did not return"
        setter[0].join("on_datagrams(None) during the close")
    assert setter[0].error is None or setter[0].raised_closed(), setter[0].error
    close_timed(sock)
    assert_every_call_raises_closed(sock)
