//! Socket counters.

use batchudp_sys as sys;

/// A socket's counters, from [`Socket::stats`](crate::Socket::stats).
///
/// Every datagram the kernel hands the library is either delivered
/// (`rx_datagrams`) or dropped (`rx_dropped`).  New fields may be added in
/// later versions (hence `#[non_exhaustive]`).
///
/// ```
/// use batchudp::{OutgoingDatagram, Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let me = sock.local_addr()?;
/// sock.send(&[OutgoingDatagram::to(&b"12345"[..], me)])?;
/// sock.wait(None)?;
/// assert_eq!(sock.recv()?.len(), 1);
/// let stats = sock.stats();
/// assert_eq!((stats.tx_datagrams, stats.tx_bytes), (1, 5));
/// assert_eq!((stats.rx_datagrams, stats.rx_bytes), (1, 5));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stats {
    /// Datagrams delivered to the application (truncated ones included).
    pub rx_datagrams: u64,
    /// Payload bytes delivered.
    pub rx_bytes: u64,
    /// Receive system calls that returned data.
    pub rx_syscalls: u64,
    /// Datagrams delivered truncated.
    pub rx_truncated: u64,
    /// Packets the kernel dropped at this socket for a full buffer (Linux;
    /// 0 elsewhere).  The kernel counts packets: a dropped GRO/GSO packet
    /// counts once though it carried up to 64 datagrams.
    pub rx_kernel_drops: u64,
    /// Threaded mode, [`Overflow::Wait`](crate::Overflow::Wait): times the
    /// receiver stopped reading because the ring was full.
    pub rx_ring_full: u64,
    /// Threaded mode, [`Overflow::Drop`](crate::Overflow::Drop): datagrams
    /// dropped because the ring was full.
    pub rx_dropped: u64,
    /// Receive errors reported (ICMP-borne and others).
    pub rx_errors: u64,
    /// Datagrams sent.
    pub tx_datagrams: u64,
    /// Payload bytes sent.
    pub tx_bytes: u64,
    /// Send system calls that sent something.
    pub tx_syscalls: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// GRO receives that carried more than one datagram.
    pub rx_coalesced: u64,
    /// GSO sends (one system call entry, many datagrams).
    pub tx_coalesced: u64,
    /// Times the kernel refused GSO and it was turned off for the socket.
    pub tx_gso_fallbacks: u64,
    /// Datagrams delivered with their control data cut short by the kernel
    /// ([`Datagram::control_truncated`](crate::Datagram::control_truncated)).
    pub rx_control_truncated: u64,
    /// Results no kernel should give, caught and not trusted: a receive or
    /// send count above what was asked, an impossible GRO segment size.
    pub kernel_anomalies: u64,
    /// Datagrams counted in `tx_datagrams` that the kernel may have
    /// dropped: Apple's `sendmsg_x` failed with an error that does not say
    /// how many of a batch went.  They are not sent again, so none is sent
    /// twice.  0 on the other backends, whose counts are exact.
    pub tx_unconfirmed: u64,
    /// Error events read from the kernel's error queue
    /// ([`Options::errors`](crate::Options::errors),
    /// [`Socket::recv_errors`](crate::Socket::recv_errors)).
    pub error_events: u64,
    /// Error events dropped because 64
    /// ([`BUDP_ERROR_QUEUE_EVENTS`](batchudp_sys::BUDP_ERROR_QUEUE_EVENTS))
    /// were already waiting for
    /// [`Socket::recv_errors`](crate::Socket::recv_errors): in threaded mode
    /// by the receiver thread, or by [`Socket::recv_timeout`](crate::Socket::recv_timeout),
    /// which moves the events aside while it waits.
    pub error_events_dropped: u64,
}

impl Stats {
    pub(crate) fn from_raw(s: &sys::budp_stats) -> Stats {
        Stats {
            rx_datagrams: s.rx_datagrams,
            rx_bytes: s.rx_bytes,
            rx_syscalls: s.rx_syscalls,
            rx_truncated: s.rx_truncated,
            rx_kernel_drops: s.rx_kernel_drops,
            rx_ring_full: s.rx_ring_full,
            rx_dropped: s.rx_dropped,
            rx_errors: s.rx_errors,
            tx_datagrams: s.tx_datagrams,
            tx_bytes: s.tx_bytes,
            tx_syscalls: s.tx_syscalls,
            tx_errors: s.tx_errors,
            rx_coalesced: s.rx_coalesced,
            tx_coalesced: s.tx_coalesced,
            tx_gso_fallbacks: s.tx_gso_fallbacks,
            rx_control_truncated: s.rx_control_truncated,
            kernel_anomalies: s.kernel_anomalies,
            tx_unconfirmed: s.tx_unconfirmed,
            error_events: s.error_events,
            error_events_dropped: s.error_events_dropped,
        }
    }
}
