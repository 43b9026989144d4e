"""Socket groups: n members bound to one address, steered by the kernel's
hash, a key in the payload or the CPU; members closed one at a time, with
what was queued to them counted; the members' Socket objects closed with
the group.

A flow is a plain socket.socket with a port of its own; its datagrams
carry the flow's number (4 bytes, big-endian), a sequence number, and for
key steering the key, so that each arrival can be checked against the
member it reached.
"""

from __future__ import annotations

import errno
import gc
import os
import socket
import struct
import sys
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import batchudp
from batchudp import _group, _lib, _lifetime, _options

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="key and CPU steering, and the counting close, are Linux's",
)

MODES = ["inline", "threaded"]
HANG = 5.0

# Every datagram of a test is sent before any is read: room for them.
ROOM = {"recv_buffer": 4 << 20}


def bind_group(n: int, mode: str = "inline", **options: Any) -> batchudp.Group:
    if mode == "threaded":
        options["threaded"] = True
    return batchudp.Group.bind("127.0.0.1", 0, n, **ROOM, **options)


class Flows:
    """n plain sockets on 127.0.0.1, each a flow (a source port)."""

    def __init__(self, n: int, dest: batchudp.Address):
        self.dest = dest
        self.socks = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            self.socks.append(s)
        self.sent = 0

    def send(self, flow: int, payload: bytes) -> None:
        assert self.socks[flow].sendto(payload, self.dest) == len(payload)
        self.sent += 1

    def send_keyed(self, per: int, key: Optional[Callable[[int, int], int]] = None) -> None:
        """per datagrams from each flow: flow, seq, key (12 bytes)."""
        for seq in range(per):
            for flow in range(len(self.socks)):
                k = key(flow, seq) if key is not None else 0
                self.send(flow, struct.pack(">III", flow, seq, k))

    def close(self) -> None:
        for s in self.socks:
            s.close()


@pytest.fixture
def flows() -> Iterator[Callable[[int, batchudp.Group], Flows]]:
    made: List[Flows] = []

    def make(n: int, group: batchudp.Group) -> Flows:
        f = Flows(n, group.local_addr())
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()


class Arrivals:
    """What arrived: (member, datagram) pairs."""

    def __init__(self) -> None:
        self.got: List[Tuple[int, batchudp.Datagram]] = []

    @property
    def total(self) -> int:
        return len(self.got)

    def on_member(self, m: int) -> int:
        return sum(1 for member, _ in self.got if member == m)

    def members_used(self) -> int:
        return len({member for member, _ in self.got})

    def members_of_flows(self, flow_of: Callable[[bytes], int]) -> Dict[int, set]:
        """flow -> the members its datagrams reached."""
        seen: Dict[int, set] = {}
        for member, d in self.got:
            seen.setdefault(flow_of(d.data), set()).add(member)
        return seen


def flow_of(data: bytes) -> int:
    """A short datagram's flow is its first byte, else its first four."""
    return data[0] if len(data) < 4 else struct.unpack(">I", data[:4])[0]


def collect(group: batchudp.Group, want: int, quiet: float = 2.0) -> Arrivals:
    """Receive from every open member until want datagrams arrived or quiet
    seconds pass without one."""
    a = Arrivals()
    quiet_until = time.monotonic() + quiet
    while a.total < want and time.monotonic() < quiet_until:
        got = 0
        for m, sock in enumerate(group):
            if sock.closed:
                continue
            for d in sock.recv():
                a.got.append((m, d))
                got += 1
        if got:
            quiet_until = time.monotonic() + quiet
        else:
            time.sleep(0.001)
    return a


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def assert_closed(sock: batchudp.Socket) -> None:
    """Every call on a closed member raises the closed error at once."""
    assert sock.closed
    calls: List[Callable[[], Any]] = [
        sock.recv,
        lambda: sock.wait(0),
        lambda: sock.send([(b"x", ("127.0.0.1", 9))]),
        sock.stats,
        sock.local_addr,
        sock.fileno,
        lambda: sock.fd,
        lambda: sock.backend,
        lambda: sock.dispatch(),
    ]
    for call in calls:
        with pytest.raises(batchudp.ClosedError) as info:
            call()
        assert info.value.errno == errno.EBADF
    sock.close()  # idempotent
    sock.shutdown()
    assert "closed" in repr(sock)


class CloseSpy:
    """Stands in for the library in batchudp._lifetime and batchudp._group:
    records the handles budp_close was given and the members
    budp_group_close_member was."""

    def __init__(self, lib: Any):
        self._lib = lib
        self.budp_close_handles: List[Any] = []
        self.members_closed: List[int] = []
        self.groups_closed = 0

    def budp_close(self, h: Any) -> None:
        self.budp_close_handles.append(h)
        self._lib.budp_close(h)

    def budp_group_close_member(self, g: Any, i: int) -> int:
        self.members_closed.append(i)
        rc: int = self._lib.budp_group_close_member(g, i)
        return rc

    def budp_group_close(self, g: Any) -> None:
        self.groups_closed += 1
        self._lib.budp_group_close(g)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)


@pytest.fixture
def close_spy(monkeypatch: pytest.MonkeyPatch) -> CloseSpy:
    spy = CloseSpy(_lifetime.LIB)
    monkeypatch.setattr(_lifetime, "LIB", spy)
    monkeypatch.setattr(_group, "LIB", spy)
    return spy


# --- the API ----------------------------------------------------------------------


def test_steering_and_its_options() -> None:
    S = batchudp.Steering
    assert (S.HASH, S.KEY, S.CPU) == (
        _lib.BUDP_STEER_HASH,
        _lib.BUDP_STEER_KEY,
        _lib.BUDP_STEER_CPU,
    ) == (0, 1, 2)
    assert _options.KEYS["steering"] == _lib.BUDP_OPT_STEERING == 16
    assert _options.KEYS["steer_offset"] == _lib.BUDP_OPT_STEER_OFFSET == 17
    assert _options.KEYS["steer_length"] == _lib.BUDP_OPT_STEER_LENGTH == 18
    # The library's ranges, through the usual helper.
    assert batchudp.option_bounds("steering") == (0, 2, 0)
    assert batchudp.option_bounds("steer_offset") == (0, _lib.BUDP_STEER_PAYLOAD_MAX, 0)
    assert batchudp.option_bounds("steer_length") == (1, 8, 4)


def test_members_are_sockets() -> None:
    with bind_group(3, steering="key") as g, batchudp.Socket.bind("127.0.0.1", 0) as rx:
        assert g.steering is batchudp.Steering.KEY
        assert len(g) == 3
        assert list(g) == list(g.members) == [g[0], g[1], g[2]]
        assert all(type(m) is batchudp.Socket for m in g)
        assert len({id(m) for m in g}) == 3
        with pytest.raises(IndexError):
            g[3]
        port = g.local_addr()[1]
        assert port != 0
        assert {m.local_addr() for m in g} == {("127.0.0.1", port)}
        assert len({m.fd for m in g}) == 3
        # A member sends like any socket.
        assert g[2].sendall([(b"from member 2", rx.local_addr())] * 5) == 5
        got: List[batchudp.Datagram] = []
        deadline = time.monotonic() + HANG
        while len(got) < 5 and time.monotonic() < deadline:
            rx.wait(0.2)
            got.extend(rx.recv())
        assert [d.data for d in got] == [b"from member 2"] * 5
        assert {d.peer for d in got} == {("127.0.0.1", port)}
        assert g[2].stats().tx_datagrams == 5
        assert "steering=key members=3 open=3" in repr(g)


# --- steering -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_hash_keeps_each_of_100_flows_on_one_member(mode: str, flows: Any) -> None:
    FLOWS, PER, MEMBERS = 100, 10, 4
    with bind_group(MEMBERS, mode) as g:
        assert g.steering is batchudp.Steering.HASH
        f = flows(FLOWS, g)
        f.send_keyed(PER)
        a = collect(g, FLOWS * PER)
        assert a.total == FLOWS * PER
        seen = a.members_of_flows(flow_of)
        assert sorted(seen) == list(range(FLOWS))
        assert all(len(members) == 1 for members in seen.values()), seen
        per_flow: Dict[int, List[int]] = {}
        for _, d in a.got:
            flow, seq, _ = struct.unpack(">III", d.data)
            per_flow.setdefault(flow, []).append(seq)
        assert all(sorted(seqs) == list(range(PER)) for seqs in per_flow.values())
        # 100 flows hashed onto 4 members: on fewer than 3 has a chance far
        # below 1e-20.
        assert a.members_used() >= 3
        assert sum(m.stats().rx_datagrams for m in g) == FLOWS * PER
        assert g.dropped == 0


@pytest.mark.parametrize(
    "steering", [batchudp.Steering.KEY, "key"], ids=["Steering.KEY", "'key'"]
)
def test_key_steers_k_mod_4_whatever_the_source(steering: Any, flows: Any) -> None:
    FLOWS, PER, MEMBERS = 20, 20, 4
    with bind_group(MEMBERS, steering=steering, steer_offset=8, steer_length=4) as g:
        f = flows(FLOWS, g)
        f.send_keyed(PER, lambda flow, seq: flow * 7 + seq * 13)
        a = collect(g, FLOWS * PER)
        assert a.total == FLOWS * PER
        for member, d in a.got:
            assert len(d.data) == 12
            key = struct.unpack(">I", d.data[8:])[0]
            assert key % MEMBERS == member, (key, member)
        assert a.members_used() == MEMBERS
        # Every flow was spread: the source does not decide.
        seen = a.members_of_flows(flow_of)
        assert all(len(members) > 1 for members in seen.values())


def test_key_of_eight_bytes_is_one_big_endian_number(flows: Any) -> None:
    COUNT, MEMBERS = 300, 3
    with bind_group(MEMBERS, steering="key", steer_offset=4, steer_length=8) as g:
        f = flows(1, g)
        k = 0x0123456789ABCDEF
        for _ in range(COUNT):
            # A generator that changes high and low bytes alike.
            k = (k * 6364136223846793005 + 1442695040888963407) % 2**64
            f.send(0, struct.pack(">IQ", 0, k))
        a = collect(g, COUNT)
        assert a.total == COUNT
        for member, d in a.got:
            assert int.from_bytes(d.data[4:12], "big") % MEMBERS == member
        assert a.members_used() == MEMBERS


@pytest.mark.parametrize("mode", MODES)
def test_short_datagrams_follow_their_source(mode: str, flows: Any) -> None:
    FLOWS, PER, MEMBERS = 60, 5, 4
    with bind_group(MEMBERS, mode, steering="key", steer_offset=2, steer_length=2) as g:
        f = flows(FLOWS, g)
        for seq in range(PER):
            for flow in range(FLOWS):
                # 3 bytes: one short of the key's end at 4.
                f.send(flow, bytes([flow, seq, 0xFF]))
        a = collect(g, FLOWS * PER)
        assert a.total == FLOWS * PER
        seen = a.members_of_flows(flow_of)
        assert sorted(seen) == list(range(FLOWS))
        assert all(len(members) == 1 for members in seen.values()), seen
        assert a.members_used() >= 3


def test_cpu_steering_follows_the_sending_cpu(flows: Any) -> None:
    # Loopback receives on the CPU that sent: datagrams sent from CPU c
    # reach member c mod 2.
    PER, MEMBERS = 50, 2
    before = os.sched_getaffinity(0)
    with bind_group(MEMBERS, steering=batchudp.Steering.CPU) as g:
        f = flows(1, g)
        tried = 0
        try:
            for cpu in sorted(before)[:4]:
                os.sched_setaffinity(0, {cpu})  # this thread alone (Linux)
                f.send_keyed(PER)
                a = collect(g, PER)
                assert a.total == PER
                assert a.on_member(cpu % MEMBERS) == PER, cpu
                tried += 1
        finally:
            os.sched_setaffinity(0, before)
        assert tried >= 1


# --- closing members ------------------------------------------------------------------


def take_all_but(g: batchudp.Group, gone: int, seconds: float = 0.3) -> int:
    """Receive from every member but gone for a while; the count."""
    others = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for m, sock in enumerate(g):
            if m != gone and not sock.closed:
                others += len(sock.recv())
        time.sleep(0.001)
    return others


@pytest.mark.parametrize("how", ["close_member", "member.close"])
@pytest.mark.parametrize("mode", MODES)
def test_closing_a_member_counts_what_was_queued(
    mode: str, how: str, flows: Any, close_spy: CloseSpy
) -> None:
    FLOWS, PER, MEMBERS, GONE = 60, 8, 4, 1
    with bind_group(MEMBERS, mode) as g:
        f = flows(FLOWS, g)
        f.send_keyed(PER)
        # Take the others' datagrams, leaving GONE's queued.
        others = take_all_but(g, GONE)
        gone = g[GONE]
        if how == "close_member":
            dropped = g.close_member(GONE)
            assert g.dropped == dropped
        else:
            gone.close()
            dropped = g.dropped
        # 60 flows on 4 members: member 1 had some.
        assert dropped > 0
        assert others + dropped == FLOWS * PER
        # Through the group, never budp_close.
        assert close_spy.members_closed == [GONE]
        assert close_spy.budp_close_handles == []
        assert_closed(gone)
        assert g[GONE] is gone
        with pytest.raises(batchudp.ClosedError) as info:
            g.close_member(GONE)
        assert info.value.errno == errno.EBADF
        assert "open=3" in repr(g)

        # Every flow again: nothing reaches the closed member, nothing lost,
        # each flow still on one member.
        f.send_keyed(PER)
        a = collect(g, FLOWS * PER)
        assert a.total == FLOWS * PER
        assert a.on_member(GONE) == 0
        seen = a.members_of_flows(flow_of)
        assert all(len(members) == 1 for members in seen.values())
        assert g.dropped == dropped
    assert close_spy.groups_closed == 1
    assert close_spy.budp_close_handles == []


def test_closing_members_in_turn_with_key_steering(flows: Any) -> None:
    FLOWS, PER = 8, 16
    with bind_group(4, steering="key", steer_offset=8) as g:
        f = flows(FLOWS, g)
        assert g.close_member(2) == 0  # nothing was queued to it
        f.send_keyed(PER, lambda flow, seq: flow * 7 + seq * 13)
        a = collect(g, FLOWS * PER)
        assert a.total == FLOWS * PER
        for member, d in a.got:
            want = struct.unpack(">I", d.data[8:])[0] % 4
            # Member 2's keys go to the next open member.
            assert member == (3 if want == 2 else want)
        assert a.on_member(3) > 0
        assert g.close_member(0) == 0
        assert g.close_member(3) == 0
        f.send_keyed(PER, lambda flow, seq: flow * 7 + seq * 13)
        a = collect(g, FLOWS * PER)
        assert a.on_member(1) == a.total == FLOWS * PER
        assert g.close_member(1) == 0
        assert all(m.closed for m in g)
        with pytest.raises(batchudp.ClosedError):
            g.local_addr()
        assert "open=0" in repr(g)


def test_close_member_inside_its_dispatch_callback(flows: Any) -> None:
    # The close cannot complete under the member's own dispatch: it does when
    # dispatch returns, and what the member still held is counted then.
    COUNT = 10
    with bind_group(2, steering="key", steer_offset=0, steer_length=1) as g:
        f = flows(1, g)
        for _ in range(COUNT):
            f.send(0, b"\x00 to member 0")
        assert g[0].wait(HANG)
        time.sleep(0.05)
        returned: List[int] = []

        def handler(batch: List[batchudp.Datagram]) -> None:
            returned.append(g.close_member(0))
            assert g[0].closed
            with pytest.raises(batchudp.ClosedError):
                g.close_member(0)

        g[0].on_datagrams(handler)
        handed = g[0].dispatch(max=2)
        assert returned == [0]
        assert 1 <= handed <= 2
        assert handed + g.dropped == COUNT
        assert_closed(g[0])
        assert not g[1].closed
        g[1].local_addr()


@pytest.mark.parametrize("how", ["close_member", "group.close"])
def test_close_inside_a_receiver_thread_callback(how: str, flows: Any) -> None:
    # callback_thread=True: the callback runs on the member's receiver
    # thread, where the close completes at once.
    COUNT = 5
    g = bind_group(
        3, "threaded", callback_thread=True, steering="key", steer_offset=0, steer_length=1
    )
    try:
        f = flows(1, g)
        handed = [0, 0, 0]
        calls = [0, 0, 0]
        counts: List[int] = []
        done = threading.Event()

        def handler(m: int) -> Callable[[List[batchudp.Datagram]], None]:
            def handle(batch: List[batchudp.Datagram]) -> None:
                handed[m] += len(batch)
                calls[m] += 1
                if m != 1:
                    return
                if how == "close_member":
                    counts.append(g.close_member(1))
                else:
                    g.close()
                done.set()

            return handle

        for m in range(3):
            g[m].on_datagrams(handler(m))
        for _ in range(COUNT):
            f.send(0, b"\x01 to member 1")
        assert done.wait(HANG)
        assert calls[1] == 1  # no callback after the close
        assert_closed(g[1])
        if how == "close_member":
            # What member 1 did not take is counted, or went on to member 2
            # (the next open one) once it was closed.
            deadline = time.monotonic() + HANG
            while sum(handed) + g.dropped < COUNT and time.monotonic() < deadline:
                time.sleep(0.01)
            assert counts == [g.dropped]
            assert handed[1] >= 1 and handed[0] == 0
            assert sum(handed) + g.dropped == COUNT
            assert not g[0].closed and not g[2].closed
        else:
            assert g.closed and g._g is None
            for m in g:
                assert_closed(m)
    finally:
        g.close()
    assert g._g is None


@pytest.mark.parametrize("mode", MODES)
def test_group_close_closes_every_member(mode: str, close_spy: CloseSpy) -> None:
    g = bind_group(4, mode)
    members = list(g)
    port = g.local_addr()[1]
    g.close_member(3)
    g.close()
    assert g.closed
    for m in members:
        assert_closed(m)
    assert close_spy.budp_close_handles == []
    assert close_spy.members_closed == [3]
    assert close_spy.groups_closed == 1
    g.close()  # idempotent
    assert close_spy.groups_closed == 1
    with pytest.raises(batchudp.ClosedError) as info:
        g.close_member(0)
    assert info.value.errno == errno.EBADF
    with pytest.raises(batchudp.ClosedError):
        g.local_addr()
    assert g.dropped == 0  # still readable
    assert repr(g) == "<batchudp.Group closed>"
    # The fds went with it: the port is free for a lone socket again.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))


def test_group_close_wakes_threads_waiting_on_members() -> None:
    g = bind_group(4)
    errors: List[Optional[BaseException]] = [None] * 4
    waiting = threading.Barrier(5)

    def serve(i: int) -> None:
        waiting.wait()
        try:
            while True:
                g[i].wait()
                g[i].recv()
        except BaseException as exc:
            errors[i] = exc

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    waiting.wait()
    time.sleep(0.1)  # into wait()
    g.close()
    for t in threads:
        t.join(HANG)
        assert not t.is_alive()
    assert all(isinstance(e, batchudp.ClosedError) for e in errors), errors
    assert g._g is None  # freed


def test_group_close_inside_a_member_callback(flows: Any) -> None:
    with bind_group(2, steering="key", steer_offset=0, steer_length=1) as g:
        f = flows(1, g)
        f.send(0, b"\x01 to member 1")
        assert g[1].wait(HANG)
        g[1].on_datagrams(lambda batch: g.close())
        assert g[1].dispatch() == 1
        assert g.closed and g._g is None  # completed when dispatch returned
        for m in g:
            assert_closed(m)


def test_unclosed_group_warns_and_closes(close_spy: CloseSpy) -> None:
    g = bind_group(2)
    port = g.local_addr()[1]
    with pytest.warns(ResourceWarning, match="unclosed <batchudp.Group"):
        del g
        gc.collect()
    assert close_spy.groups_closed == 1
    assert close_spy.budp_close_handles == []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, options, where",
    [
        (0, {}, "n=0: must be in 1..256"),
        (257, {}, "n=257: must be in 1..256"),
        (-1, {}, "n=-1: must be in 1..256"),
        (2, {"steer_length": 0}, "steer_length=0: must be in 1..8"),
        (2, {"steer_length": 9}, "steer_length=9: must be in 1..8"),
        (2, {"steer_offset": -1}, "steer_offset=-1: must be in 0..65527"),
        (2, {"steer_offset": 65528}, "steer_offset=65528: must be in 0..65527"),
        (2, {"steering": 3}, "steering=3: must be in 0..2"),
        # Each in range, together past the largest payload.
        (2, {"steering": "key", "steer_offset": 65524}, "steer_length = 65528, must be at most"),
        (2, {"steering": "key", "steer_offset": 65520, "steer_length": 8}, "= 65528"),
    ],
)
def test_bad_input_opens_nothing(n: int, options: Dict[str, Any], where: str) -> None:
    fds = open_fds()
    with pytest.raises(batchudp.Error) as info:
        batchudp.Group.bind("127.0.0.1", 0, n, **options)
    assert info.value.errno == errno.EINVAL
    assert isinstance(info.value, ValueError)
    assert where in str(info.value)
    assert open_fds() == fds


def test_largest_group_and_one_past_it() -> None:
    fds = open_fds()
    with batchudp.Group.bind("127.0.0.1", 0, 256, batch_size=4, gro=False) as g:
        assert len(g) == _lib.BUDP_GROUP_MAX_MEMBERS == 256
        assert open_fds() >= fds + 256
    assert open_fds() == fds
    with pytest.raises(batchudp.Error) as info:
        batchudp.Group.bind("127.0.0.1", 0, 257)
    assert info.value.errno == errno.EINVAL
    assert open_fds() == fds


def test_address_taken_opens_nothing() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0) as lone:
        fds = open_fds()
        with pytest.raises(batchudp.Error) as info:
            batchudp.Group.bind("127.0.0.1", lone.local_addr()[1], 3)
        assert info.value.errno == errno.EADDRINUSE
        assert isinstance(info.value, OSError)
        assert open_fds() == fds


def test_bad_types() -> None:
    with pytest.raises(TypeError):
        batchudp.Group.bind("127.0.0.1", 0, "4")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        batchudp.Group.bind("127.0.0.1", 0, True)
    with pytest.raises(ValueError, match="steering must be one of 'hash', 'key', 'cpu'"):
        batchudp.Group.bind("127.0.0.1", 0, 2, steering="round-robin")
    with pytest.raises(TypeError, match="unknown option"):
        batchudp.Group.bind("127.0.0.1", 0, 2, steer=1)


def test_close_member_out_of_range() -> None:
    with bind_group(4) as g:
        for i in (4, -1, 2**40):
            with pytest.raises(batchudp.Error) as info:
                g.close_member(i)
            assert info.value.errno == errno.EINVAL
            assert not isinstance(info.value, batchudp.ClosedError)
        with pytest.raises(TypeError):
            g.close_member("1")  # type: ignore[arg-type]
        assert not any(m.closed for m in g)
        assert g.dropped == 0


def test_lone_socket_takes_hash_steering_alone() -> None:
    with batchudp.Socket.bind("127.0.0.1", 0, steering="hash"):
        pass
    for steering in ("key", batchudp.Steering.CPU):
        with pytest.raises(batchudp.Error, match="steering is for Group.bind") as info:
            batchudp.Socket.bind("127.0.0.1", 0, steering=steering)
        assert info.value.errno == errno.EINVAL
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        with pytest.raises(batchudp.Error) as info:
            batchudp.Socket.from_fd(s, steering="key")
        assert info.value.errno == errno.EINVAL
