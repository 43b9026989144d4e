"""An echo server written the natural async way keeps the batching: 10,000
datagrams of every size from 0 to 1400 bytes, echoed and checked for
content and order, in well under 1,000 send system calls on each side."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, List, Tuple

import pytest

import batchudp

COUNT = 10_000
# Datagrams in flight at most: the client sends more only as echoes come
# back, so neither socket's receive buffer can overflow (64 of 1400 bytes
# fit in the kernel's default buffer; recv_buffer asks for more anyway).
WINDOW = 64
OPTIONS = {"batch_size": 64, "recv_buffer": 1 << 20}
_PATTERN = bytes(range(256)) * 6


def payload(i: int) -> bytes:
    """Datagram i: i % 1401 bytes (every size 0..1400), starting with i."""
    return (i.to_bytes(4, "big") + _PATTERN)[: i % 1401]


class EchoProtocol(batchudp.BatchProtocol):
    """The adapter's way: each batch goes back whole."""

    def datagrams_received(self, batch: List[batchudp.Datagram]) -> None:
        self.transport.send_batch(batch)


async def protocol_server() -> Tuple[batchudp.Address, batchudp.Socket, Callable[[], Any]]:
    transport, _ = await batchudp.create_datagram_endpoint(
        EchoProtocol, local_addr=("127.0.0.1", 0), **OPTIONS)
    return transport.get_extra_info("sockname"), transport.get_extra_info("socket"), transport.close


async def stream_server() -> Tuple[batchudp.Address, batchudp.Socket, Callable[[], Any]]:
    """The socket's own way: async for batch ... await send_all(batch)."""
    sock = batchudp.Socket.bind("127.0.0.1", 0, **OPTIONS)

    async def serve() -> None:
        async for batch in sock.batches():
            await sock.send_all(batch)

    task = asyncio.ensure_future(serve())

    def stop() -> None:
        sock.close()  # ends the async for

    stop.task = task  # type: ignore[attr-defined]
    return sock.local_addr(), sock, stop


async def client(server: batchudp.Address) -> Tuple[List[bytes], batchudp.Socket]:
    sock = batchudp.Socket.bind("127.0.0.1", 0, **OPTIONS)
    got: List[bytes] = []
    sent = WINDOW
    await sock.send_all([(payload(i), server) for i in range(WINDOW)])
    async for batch in sock.batches():
        got += [d.data for d in batch]
        more = min(len(batch), COUNT - sent)
        if more:
            await sock.send_all([(payload(i), server) for i in range(sent, sent + more)])
            sent += more
        if len(got) == COUNT:
            break
    return got, sock


@pytest.mark.parametrize("make_server", [protocol_server, stream_server],
                         ids=["BatchProtocol", "batches-send_all"])
def test_echo_10000(make_server: Callable[[], Awaitable[Any]]) -> None:
    async def main() -> None:
        address, server_sock, stop = await make_server()
        got, client_sock = await asyncio.wait_for(client(address), 120)
        try:
            assert len(got) == COUNT
            # content and order
            expected = [payload(i) for i in range(COUNT)]
            assert got == expected
            assert {len(g) for g in got} == set(range(1401))
            server_stats, client_stats = server_sock.stats(), client_sock.stats()
            print("tx_syscalls: server %d, client %d"
                  % (server_stats.tx_syscalls, client_stats.tx_syscalls))
            assert server_stats.tx_datagrams == COUNT
            assert server_stats.tx_syscalls < 1000
            assert client_stats.tx_syscalls < 1000
        finally:
            client_sock.close()
            stop()
            task = getattr(stop, "task", None)
            if task is not None:
                await task
            await asyncio.sleep(0)

    asyncio.run(main())
