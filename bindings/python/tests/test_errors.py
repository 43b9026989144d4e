"""Bad input, closed sockets and error mapping."""

from __future__ import annotations

import errno
import time

import pytest

import batchudp
from conftest import closed_port, recv_n


def test_error_classes() -> None:
    refused = batchudp.error_class(errno.ECONNREFUSED)
    assert issubclass(refused, batchudp.Error)
    assert issubclass(refused, ConnectionRefusedError)
    assert issubclass(batchudp.error_class(errno.EAGAIN), BlockingIOError)
    assert issubclass(batchudp.error_class(errno.EINVAL), ValueError)
    assert batchudp.error_class(errno.ENOTSUP) is batchudp.Error
    assert issubclass(batchudp.Error, OSError)
    exc = refused(errno.ECONNREFUSED, "x")
    assert exc.errno == errno.ECONNREFUSED
    assert batchudp.strerror(-errno.EINVAL)


@pytest.mark.parametrize(
    "args, kwargs, exc",
    [
        ((123, 0), {}, TypeError),
        (("127.0.0.1", "80"), {}, TypeError),
        (("127.0.0.1", 70000), {}, ValueError),
        (("127.0.0.1", -1), {}, ValueError),
        (("127.0.0.1", 0), {"no_such_option": 1}, TypeError),
        (("127.0.0.1", 0), {"batch_size": "32"}, TypeError),
        (("127.0.0.1", 0), {"batch_size": True}, TypeError),
        (("127.0.0.1", 0), {"backend": "bogus"}, ValueError),
        (("127.0.0.1", 0), {"overflow": 3.5}, TypeError),
        (("127.0.0.1", 0), {"gro": "yes"}, TypeError),
    ],
)
def test_bind_rejects_wrong_types(args, kwargs, exc) -> None:
    with pytest.raises(exc):
        batchudp.Socket.bind(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": 1025},
        {"max_datagram": 0},
        {"max_datagram": 70000},
        {"ring_capacity": 1},
        {"ring_capacity": 3},
        {"recv_buffer": -1},
        {"gro": 2},
        {"backend": 42},
        {"batch_size": 2**70},
    ],
)
def test_bind_rejects_out_of_range_options(kwargs) -> None:
    with pytest.raises(batchudp.Error) as info:
        batchudp.Socket.bind("127.0.0.1", 0, **kwargs)
    assert info.value.errno == errno.EINVAL
    assert isinstance(info.value, ValueError)
    assert next(iter(kwargs)) in str(info.value)


def test_option_bounds() -> None:
    assert batchudp.option_bounds("batch_size")[:2] == (1, 1024)
    # 0, the default, sizes the ring automatically.
    assert batchudp.option_bounds("ring_capacity") == (0, 65536, 0)


def test_memory_limit() -> None:
    from batchudp._lib import BUDP_MEMORY_LIMIT

    assert BUDP_MEMORY_LIMIT == 256 << 20
    # 65536 GRO slots of 64 KiB: 4 GiB, over the limit.
    with pytest.raises(batchudp.Error) as info:
        batchudp.Socket.bind("127.0.0.1", 0, threaded=True, ring_capacity=65536, gro=True)
    assert info.value.errno in (errno.EINVAL, errno.ENOTSUP)


def test_bind_rejects_bad_hosts() -> None:
    with pytest.raises(batchudp.Error) as info:
        batchudp.Socket.bind("not-an-address", 0)
    assert info.value.errno == errno.EINVAL
    with pytest.raises(ValueError):
        batchudp.Socket.bind("127.0.0.1\0", 0)


@pytest.mark.parametrize("where", ["bind", "connect", "send", "sendall"])
def test_host_names_are_refused_as_such(pair, where: str) -> None:
    # The library takes numeric addresses only; the error says so rather
    # than a bare "Invalid argument".
    rx, tx = pair
    with pytest.raises(batchudp.Error) as info:
        if where == "bind":
            batchudp.Socket.bind("localhost", 0)
        elif where == "connect":
            tx.connect("localhost", rx.local_addr()[1])
        elif where == "send":
            tx.send([(b"x", ("localhost", 9))])
        else:
            tx.sendall([(b"x", ("localhost", 9))])
    assert info.value.errno == errno.EINVAL
    assert "numeric address expected" in str(info.value)
    assert "'localhost'" in str(info.value)
    # a numeric address refused for another reason says nothing of the kind
    with pytest.raises(batchudp.Error) as info:
        batchudp.Socket.bind(*rx.local_addr())
    assert info.value.errno == errno.EADDRINUSE
    assert "numeric" not in str(info.value)


def test_bind_address_in_use(pair) -> None:
    rx, _ = pair
    with pytest.raises(OSError) as info:
        batchudp.Socket.bind(*rx.local_addr())
    assert info.value.errno == errno.EADDRINUSE
    assert isinstance(info.value, batchudp.Error)


def test_from_fd_rejects_non_sockets(tmp_path) -> None:
    with pytest.raises(TypeError):
        batchudp.Socket.from_fd("3")
    with open(tmp_path / "f", "w") as f:
        with pytest.raises(batchudp.Error) as info:
            batchudp.Socket.from_fd(f)
        assert info.value.errno == errno.ENOTSOCK
    with pytest.raises(batchudp.Error) as info:
        batchudp.Socket.from_fd(10**6)
    assert info.value.errno == errno.EBADF


def test_bad_recv_and_send_arguments(pair) -> None:
    rx, tx = pair
    dest = rx.local_addr()
    with pytest.raises(ValueError):
        rx.recv(max=0)
    with pytest.raises(TypeError):
        rx.recv(max="8")
    with pytest.raises(TypeError):
        tx.send(b"not a list")
    with pytest.raises(TypeError):
        tx.send("text")
    with pytest.raises(TypeError):
        tx.send([123])
    with pytest.raises(TypeError):
        tx.send([("text", dest)])
    with pytest.raises(TypeError):
        tx.send([(b"x", "127.0.0.1")])
    with pytest.raises(TypeError):
        tx.send([(b"x", dest, 1)])
    with pytest.raises(ValueError):
        tx.send([(b"x", ("127.0.0.1", 99999))])
    with pytest.raises(batchudp.Error) as info:
        tx.send([(b"x", ("nowhere", 1))])
    assert info.value.errno == errno.EINVAL
    with pytest.raises(batchudp.Error) as info:
        tx.send([b"no destination"])
    assert info.value.errno == errno.EDESTADDRREQ
    with pytest.raises(batchudp.Error) as info:
        tx.send([(bytes(70000), dest)])
    assert info.value.errno in (errno.EINVAL, errno.EMSGSIZE)
    with pytest.raises(TypeError):
        rx.wait("1")
    with pytest.raises(ValueError):
        rx.wait(-1)
    # nothing above broke the sockets
    assert tx.send([(b"still fine", dest)]) == 1
    assert [d.data for d in recv_n(rx, 1)] == [b"still fine"]


def test_closed_socket_raises_ebadf() -> None:
    sock = batchudp.Socket.bind("127.0.0.1", 0)
    sock.close()
    sock.close()  # idempotent
    assert sock.closed
    calls = [
        lambda: sock.recv(),
        lambda: sock.recv_views().__enter__(),
        lambda: sock.send([(b"x", ("127.0.0.1", 9))]),
        lambda: sock.sendall([(b"x", ("127.0.0.1", 9))]),
        lambda: sock.connect("127.0.0.1", 9),
        lambda: sock.local_addr(),
        lambda: sock.fileno(),
        lambda: sock.fd,
        lambda: sock.backend,
        lambda: sock.backend_reason,
        lambda: sock.wait(0),
        lambda: sock.stats(),
        lambda: sock.on_datagrams(None),
        lambda: sock.dispatch(),
    ]
    for call in calls:
        with pytest.raises(batchudp.ClosedError) as info:
            call()
        assert info.value.errno == errno.EBADF
        assert isinstance(info.value, batchudp.Error)


def test_context_manager_closes() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0) as sock:
        assert not sock.closed
    assert sock.closed
    with pytest.raises(batchudp.Error):
        sock.recv()


def test_connection_refused_leaves_the_socket_usable() -> None:
    port = closed_port()
    with batchudp.Socket.bind("127.0.0.1", 0) as sock:
        sock.connect("127.0.0.1", port)
        refused = None
        deadline = time.monotonic() + 5
        while refused is None and time.monotonic() < deadline:
            try:
                sock.send([b"anyone?"])
                sock.wait(0.05)
                sock.recv()
            except ConnectionRefusedError as exc:
                refused = exc
        assert refused is not None, "no ECONNREFUSED reported"
        assert isinstance(refused, batchudp.Error)
        assert refused.errno == errno.ECONNREFUSED
        # the socket still works: talk to a live peer
        with batchudp.Socket.bind("127.0.0.1", 0) as peer:
            sock.connect(*peer.local_addr())
            assert sock.send([b"hello"]) == 1
            assert [d.data for d in recv_n(peer, 1)] == [b"hello"]
            peer.send([(b"back", sock.local_addr())])
            assert [d.data for d in recv_n(sock, 1)] == [b"back"]
        assert sock.stats().rx_errors + sock.stats().tx_errors >= 1


def test_unclosed_socket_warns() -> None:
    sock = batchudp.Socket.bind("127.0.0.1", 0)
    with pytest.warns(ResourceWarning):
        sock.__del__()
    assert sock.closed
