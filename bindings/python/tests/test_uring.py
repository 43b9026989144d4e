"""The io_uring backend (backend="uring") and its zerocopy option.

The backend is there in builds made with liburing, on Linux 6.0 or later;
elsewhere (a wheel's bundled library among them) asking for it is ENOTSUP,
and where the kernel forbids io_uring (the io_uring_disabled sysctl, a
seccomp filter) EPERM: the tests that need it skip then, saying which.
"""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap

import pytest

import batchudp
from batchudp import _lib, _options
from conftest import exchange_in_chunks, has_ipv6_loopback, recv_n


def bind_uring(host: str = "127.0.0.1", **options) -> batchudp.Socket:
    """A socket on the io_uring backend, or a skip saying why there is none."""
    try:
        return batchudp.Socket.bind(host, 0, backend="uring", **options)
    except batchudp.Error as exc:
        if exc.errno in (errno.ENOTSUP, errno.EPERM):
            pytest.skip("backend 'uring' not available here (%s)" % exc)
        raise


# --- the option and the value ----------------------------------------------------


def test_uring_names() -> None:
    assert _options.BACKENDS["uring"] == _lib.BUDP_BACKEND_URING == 4
    assert _options.KEYS["zerocopy"] == _lib.BUDP_OPT_ZEROCOPY == 19
    assert _lib.BUDP_ZEROCOPY_MIN_BYTES == 16384
    assert batchudp.option_bounds("zerocopy") == (0, 1, 0)


@pytest.mark.parametrize(
    "kwargs, key, value",
    [
        ({"zerocopy": True}, "zerocopy", 1),
        ({"zerocopy": False}, "zerocopy", 0),
        ({"zerocopy": 1}, "zerocopy", 1),
        ({}, "zerocopy", 0),
        ({"backend": "uring"}, "backend", 4),
    ],
)
def test_options_round_trip(kwargs, key, value) -> None:
    with _options.Options(kwargs) as opts:
        assert opts.get(key) == value


def test_zerocopy_takes_a_bool() -> None:
    with pytest.raises(TypeError):
        batchudp.Socket.bind("127.0.0.1", 0, zerocopy="yes")
    with pytest.raises(batchudp.Error) as info:
        batchudp.Socket.bind("127.0.0.1", 0, zerocopy=2)
    assert info.value.errno == errno.EINVAL


@pytest.mark.parametrize("backend", ["mmsg", "loop"])
def test_zerocopy_is_refused_with_another_backend(backend: str) -> None:
    with pytest.raises(batchudp.Error) as info:
        batchudp.Socket.bind("127.0.0.1", 0, backend=backend, zerocopy=True)
    assert info.value.errno == errno.ENOTSUP
    assert type(info.value) is batchudp.Error


# --- on the backend ----------------------------------------------------------------


def test_backend_name_reads_uring() -> None:
    with bind_uring() as sock:
        assert sock.backend == "uring"
        assert sock.backend_reason.startswith("uring: ")
        assert "asked for" in sock.backend_reason
        assert "backend=uring" in repr(sock)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_round_trip_through_uring(host: str) -> None:
    if host == "::1" and not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback (::1) here")
    count = 300
    with bind_uring(host, batch_size=16) as rx, bind_uring(host) as tx:
        assert rx.local_addr()[0] == host
        # Sizes that change from one datagram to the next: no GSO train.
        payloads = [i.to_bytes(2, "big") * (1 + i % 9) for i in range(count)]
        got = exchange_in_chunks(tx, rx, payloads)
        assert [d.data for d in got] == payloads
        assert all(d.peer == tx.local_addr() for d in got)
        assert not any(d.truncated for d in got)
        assert rx.recv() == []
        rx_stats, tx_stats = rx.stats(), tx.stats()
        assert rx_stats.rx_datagrams == count
        assert rx_stats.rx_bytes == sum(map(len, payloads))
        # uring: batches taken from the completion queue.
        assert 1 <= rx_stats.rx_syscalls <= count
        assert tx_stats.tx_datagrams == count


def test_zerocopy_gso_train_arrives_intact() -> None:
    count, size = 46, 1400
    assert count * size >= _lib.BUDP_ZEROCOPY_MIN_BYTES
    with bind_uring(zerocopy=True, gso=True) as tx, batchudp.Socket.bind(
        "127.0.0.1", 0, batch_size=64
    ) as rx:
        dest = rx.local_addr()
        payloads = [bytes([i]) + bytes((i + j) % 251 for j in range(size - 1)) for i in range(count)]
        # One call, one train: equal sizes, one destination.
        assert tx.send([(p, dest) for p in payloads]) == count
        got = recv_n(rx, count)
        assert [d.data for d in got] == payloads
        assert all(d.peer == tx.local_addr() for d in got)
        assert rx.recv() == []
        st = tx.stats()
        assert (st.tx_datagrams, st.tx_bytes, st.tx_errors) == (count, count * size, 0)
        # Whether the train went as one zero-copy GSO send is not asserted:
        # the kernel refuses a zero-copy train whose payload spans more pages
        # than an skb holds (EMSGSIZE, depending on where the joined payload
        # buffer lies), and the library then sends those datagrams one by one
        # and keeps GSO off for their size (tx_gso_fallbacks).


# --- io_uring forbidden by the kernel --------------------------------------------

# Run in a child process: the seccomp filter stays with the process, and the
# library asks the kernel about io_uring once per process.
REFUSED_CHILD = textwrap.dedent(
    r"""
    import ctypes, errno, os, sys
    import batchudp

    class sock_filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8),
                    ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]

    class sock_fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(sock_filter))]

    NR_IO_URING_SETUP = 425  # the same number on every Linux architecture
    code = (sock_filter * 4)(
        sock_filter(0x20, 0, 0, 0),                      # ld [nr]
        sock_filter(0x15, 0, 1, NR_IO_URING_SETUP),      # jeq io_uring_setup
        sock_filter(0x06, 0, 0, 0x00050000 | errno.EPERM),  # ret ERRNO(EPERM)
        sock_filter(0x06, 0, 0, 0x7FFF0000),             # ret ALLOW
    )
    prog = sock_fprog(4, code)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong, ctypes.c_ulong]
    if (libc.prctl(38, 1, 0, 0, 0) != 0  # PR_SET_NO_NEW_PRIVS
            or libc.prctl(22, 2, ctypes.addressof(prog), 0, 0) != 0):  # SECCOMP_MODE_FILTER
        print("no seccomp filter: %s" % os.strerror(ctypes.get_errno()))
        sys.exit(3)
    os.environ.pop("BATCHUDP_BACKEND", None)
    # AUTO goes on without io_uring, whatever it finds.
    with batchudp.Socket.bind("127.0.0.1", 0) as sock:
        print("auto:", sock.backend)
    try:
        batchudp.Socket.bind("127.0.0.1", 0, backend="uring").close()
        print("bound")
        sys.exit(1)
    except batchudp.Error as exc:
        if exc.errno == errno.ENOTSUP:
            print("ENOTSUP: %s" % exc)
            sys.exit(4)
        print("by name:", type(exc).__name__, exc.errno, isinstance(exc, PermissionError))
    # The environment variable asks by name too.
    os.environ["BATCHUDP_BACKEND"] = "uring"
    try:
        batchudp.Socket.bind("127.0.0.1", 0).close()
        print("bound")
    except batchudp.Error as exc:
        print("by BATCHUDP_BACKEND:", type(exc).__name__, exc.errno)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp is Linux's")
def test_kernel_refusal_is_a_permission_error() -> None:
    res = subprocess.run(
        [sys.executable, "-c", REFUSED_CHILD], capture_output=True, text=True, timeout=60
    )
    if res.returncode == 3:
        pytest.skip("cannot install a seccomp filter here: " + res.stdout.strip())
    if res.returncode == 4:
        pytest.skip("backend 'uring' not in this libbatchudp (%s)" % res.stdout.strip())
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] in ("auto: mmsg", "auto: loop"), lines
    assert lines[1] == "by name: PermissionError %d True" % errno.EPERM, lines
    assert lines[2] == "by BATCHUDP_BACKEND: PermissionError %d" % errno.EPERM, lines
