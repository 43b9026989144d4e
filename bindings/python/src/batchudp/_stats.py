"""Stats: the counters of one socket, as Socket.stats() returns them.

A module of its own because dataclasses imports inspect, which together
take longer to import than the rest of the package: the package loads this
on first use (batchudp.Stats, Socket.stats()).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Stats:
    """The counters of one socket (``budp_stats``)."""

    rx_datagrams: int = 0
    """Datagrams delivered to the application (truncated ones included)."""
    rx_bytes: int = 0
    """Payload bytes delivered."""
    rx_syscalls: int = 0
    """Receive system calls that returned data."""
    rx_truncated: int = 0
    """Datagrams delivered truncated."""
    rx_kernel_drops: int = 0
    """Datagrams the kernel dropped for a full socket buffer (where reported)."""
    rx_ring_full: int = 0
    """Threaded, overflow='wait': times the receiver stopped for a full ring."""
    rx_dropped: int = 0
    """Threaded, overflow='drop': datagrams dropped for a full ring."""
    rx_errors: int = 0
    """Receive errors reported."""
    tx_datagrams: int = 0
    """Datagrams sent."""
    tx_bytes: int = 0
    """Payload bytes sent."""
    tx_syscalls: int = 0
    """Send system calls that sent something."""
    tx_errors: int = 0
    """Send errors."""
    rx_coalesced: int = 0
    """GRO receives that carried more than one datagram."""
    tx_coalesced: int = 0
    """GSO sends."""
    tx_gso_fallbacks: int = 0
    """Times GSO was refused by the kernel and turned off."""
    rx_control_truncated: int = 0
    """Datagrams delivered with their control data cut short by the kernel
    (:attr:`Datagram.control_truncated`)."""
    kernel_anomalies: int = 0
    """Kernel results no kernel should give, caught and not trusted (a count
    above what was asked, an impossible GRO segment size)."""
    tx_unconfirmed: int = 0
    """Datagrams counted in ``tx_datagrams`` that the kernel may have dropped:
    Apple's sendmsg_x failed with an error that does not say how many of a
    batch went.  They are not sent again, so none is sent twice."""
    error_events: int = 0
    """Error events read from the kernel's error queue (``errors=True``,
    :meth:`Socket.recv_errors`)."""
    error_events_dropped: int = 0
    """Error events dropped because 64 were already waiting for
    :meth:`Socket.recv_errors` (threaded mode's receiver thread, or the
    asyncio receive path)."""
