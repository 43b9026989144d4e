"""Shared fixtures for the batchudp tests (loopback addresses only)."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import batchudp
from batchudp import _lib, _send


def source_dir() -> Path:
    """The libbatchudp source tree (for include/batchudp.h)."""
    env = os.environ.get("BATCHUDP_SOURCE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3]


def fake_library(tmp_path: Path, version: int) -> Path:
    """A stand-in libbatchudp whose budp_version returns version and whose
    other functions return 0."""
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        pytest.skip("no C compiler (%s) to build a stand-in library" % cc)
    stubs = ["int %s(void) { return 0; }" % n for n in _lib.PROTOTYPES if n != "budp_version"]
    src = tmp_path / "fake.c"
    src.write_text(
        "unsigned budp_version(void) { return %du; }\n" % version + "\n".join(stubs) + "\n"
    )
    lib = tmp_path / "libbatchudp.so.1"
    res = subprocess.run(
        [cc, "-shared", "-fPIC", "-o", str(lib), str(src)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    return lib


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def recv_n(sock: batchudp.Socket, n: int, timeout: float = 5.0, **kw) -> List[batchudp.Datagram]:
    """Receive until n datagrams arrived or timeout seconds passed."""
    out: List[batchudp.Datagram] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        got = sock.recv(**kw)
        if got:
            out.extend(got)
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.wait(left)
    return out


def exchange_in_chunks(tx: batchudp.Socket, rx: batchudp.Socket,
                       payloads: List[bytes]) -> List[batchudp.Datagram]:
    """Send payloads to rx, 50 at a time (a default-size socket buffer holds
    them), receiving each chunk before the next; what arrived."""
    dest = rx.local_addr()
    got: List[batchudp.Datagram] = []
    sent = 0
    while sent < len(payloads):
        sent += tx.send([(p, dest) for p in payloads[sent:sent + 50]])
        got.extend(recv_n(rx, sent - len(got)))
    return got


def bind_threaded(**options) -> batchudp.Socket:
    """A threaded socket, or a skip saying why there is none."""
    try:
        return batchudp.Socket.bind("127.0.0.1", 0, threaded=True, **options)
    except batchudp.Error as exc:
        if exc.errno == errno.ENOTSUP:
            pytest.skip("threaded mode not available in this libbatchudp (budp_bind: -ENOTSUP)")
        raise


def closed_port(host: str = "127.0.0.1") -> int:
    """A UDP port nothing listens on (bound then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@pytest.fixture
def pair() -> Iterator[Tuple[batchudp.Socket, batchudp.Socket]]:
    """(receiver, sender), both bound on 127.0.0.1."""
    with batchudp.Socket.bind("127.0.0.1", 0) as rx, batchudp.Socket.bind("127.0.0.1", 0) as tx:
        yield rx, tx


class SendGate:
    """Stands in for the library in batchudp._send: while ``full`` is set,
    budp_send reports a full send buffer (-EAGAIN) without sending; the
    next ``nobufs`` calls report a full interface queue (-ENOBUFS) without
    sending; with ``take`` set, each call sends at most that many.  Counts
    the calls.  (A UDP socket on loopback never fills: the kernel hands
    each datagram to the receiver, or drops it, within the send call; nor
    does loopback's interface queue.)"""

    def __init__(self, lib: Any):
        self._lib = lib
        self.full = False
        self.nobufs = 0
        self.take: Optional[int] = None
        self.calls = 0

    def budp_send(self, h: Any, table: Any, n: int) -> int:
        self.calls += 1
        if self.full:
            return -errno.EAGAIN
        if self.nobufs > 0:
            self.nobufs -= 1
            return -errno.ENOBUFS
        if self.take is not None:
            n = min(n, self.take)
        return self._lib.budp_send(h, table, n)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)


@pytest.fixture
def send_gate(monkeypatch: pytest.MonkeyPatch) -> SendGate:
    gate = SendGate(_send.LIB)
    monkeypatch.setattr(_send, "LIB", gate)
    return gate


class SleepLog:
    """Stands in for the time module in batchudp._send: records the
    length of every sleep, and sleeps it."""

    def __init__(self) -> None:
        self.sleeps: List[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def sleep_log(monkeypatch: pytest.MonkeyPatch) -> SleepLog:
    log = SleepLog()
    monkeypatch.setattr(_send, "time", log)
    return log


class HeldWriters:
    """Replaces a loop's add_writer/remove_writer: the registrations are
    recorded, and a callback runs only when the test fires it, as a socket
    that stays unwritable until then would have it."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.writers: Dict[int, Tuple[Callable[..., Any], tuple]] = {}
        self.added: List[int] = []
        loop.add_writer = self._add  # type: ignore[method-assign]
        loop.remove_writer = self._remove  # type: ignore[method-assign]

    def _add(self, fd: int, callback: Callable[..., Any], *args: Any) -> None:
        self.writers[fd] = (callback, args)
        self.added.append(fd)

    def _remove(self, fd: int) -> bool:
        return self.writers.pop(fd, None) is not None

    def fire(self, fd: int) -> None:
        callback, args = self.writers[fd]
        callback(*args)
