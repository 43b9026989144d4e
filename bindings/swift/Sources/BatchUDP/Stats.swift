import CBatchUDP

extension BatchUDPSocket {
    /// The counters of one socket (`budp_stats`), read with
    /// ``BatchUDPSocket/stats`` from any thread.
    public struct Stats: Sendable, Equatable {
        /// Datagrams delivered to the application (truncated ones included).
        public var rxDatagrams: UInt64
        /// Payload bytes delivered.
        public var rxBytes: UInt64
        /// Receive system calls that returned data.
        public var rxSyscalls: UInt64
        /// Datagrams delivered truncated.
        public var rxTruncated: UInt64
        /// Datagrams the kernel dropped for a full socket buffer, where it
        /// reports them (Linux `SO_MEMINFO`, read when asked).
        public var rxKernelDrops: UInt64
        /// Threaded mode with ``Options/Overflow/wait``: times the receiver
        /// stopped reading because the ring was full.
        public var rxRingFull: UInt64
        /// Threaded mode with ``Options/Overflow/drop``: datagrams received
        /// and dropped because the ring was full.
        public var rxDropped: UInt64
        /// Receive errors reported.
        public var rxErrors: UInt64
        /// Datagrams sent.
        public var txDatagrams: UInt64
        /// Payload bytes sent.
        public var txBytes: UInt64
        /// Send system calls that sent something.
        public var txSyscalls: UInt64
        /// Send errors.
        public var txErrors: UInt64
        /// GRO receives that carried more than one datagram.
        public var rxCoalesced: UInt64
        /// GSO sends (one system call entry, many datagrams).
        public var txCoalesced: UInt64
        /// Times the kernel refused GSO and it was turned off for the socket.
        public var txGSOFallbacks: UInt64
        /// Datagrams delivered with ``Datagram/Flags/controlTruncated``.
        public var rxControlTruncated: UInt64
        /// Results no kernel should give, caught and not trusted: a receive
        /// or send count above what was asked, an impossible GRO segment
        /// size.
        public var kernelAnomalies: UInt64
        /// Datagrams counted in ``txDatagrams`` that the kernel may have
        /// dropped: Apple's `sendmsg_x` failed with an error that does not
        /// say how many of a batch went.  They are not sent again, so none
        /// is sent twice.  0 on the other backends, whose counts are exact.
        public var txUnconfirmed: UInt64
        /// Error events read from the kernel's error queue
        /// (``Options/errors``, ``BatchUDPSocket/receiveErrors(max:)``).
        public var errorEvents: UInt64
        /// Error events dropped because 64 were already waiting for
        /// ``BatchUDPSocket/receiveErrors(max:)``: in threaded mode by the
        /// receiver thread, or by ``BatchUDPSocket/batches``, which sets the
        /// events aside while it waits.
        public var errorEventsDropped: UInt64

        init(_ s: budp_stats) {
            rxDatagrams = s.rx_datagrams
            rxBytes = s.rx_bytes
            rxSyscalls = s.rx_syscalls
            rxTruncated = s.rx_truncated
            rxKernelDrops = s.rx_kernel_drops
            rxRingFull = s.rx_ring_full
            rxDropped = s.rx_dropped
            rxErrors = s.rx_errors
            txDatagrams = s.tx_datagrams
            txBytes = s.tx_bytes
            txSyscalls = s.tx_syscalls
            txErrors = s.tx_errors
            rxCoalesced = s.rx_coalesced
            txCoalesced = s.tx_coalesced
            txGSOFallbacks = s.tx_gso_fallbacks
            rxControlTruncated = s.rx_control_truncated
            kernelAnomalies = s.kernel_anomalies
            txUnconfirmed = s.tx_unconfirmed
            errorEvents = s.error_events
            errorEventsDropped = s.error_events_dropped
        }
    }

    /// The former name of ``Stats``.
    @available(*, deprecated, renamed: "Stats")
    public typealias Statistics = Stats
}
