"""Shared fixtures for the batchudp tests (loopback addresses only)."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

import batchudp
from batchudp import _lib


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
