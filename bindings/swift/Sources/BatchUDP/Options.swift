import CBatchUDP
import Foundation

extension BatchUDPSocket {
    /// The options a socket is created with.  The defaults are those of the C
    /// library (`budp_options_new`); every value is checked by the library
    /// when the socket is created, and a value out of bounds makes the
    /// initializer throw `EINVAL`.
    public struct Options: Sendable, Equatable {
        /// Which system calls receive and send the datagrams.
        public enum Backend: Int64, Sendable, CaseIterable {
            /// The best one present: `mmsg`, else `msgx`, else `loop`.
            case auto = 0
            /// `recvmmsg`/`sendmmsg` (Linux, FreeBSD).
            case mmsg = 1
            /// `recvmsg_x`/`sendmsg_x` (Apple platforms, found at run time).
            case msgx = 2
            /// `recvmsg`/`sendmsg` in a loop (every POSIX system).
            case loop = 3
            /// io_uring (Linux 6.0 or later, in a library built with
            /// liburing): a multishot receive fills buffers in the
            /// background, so a receive that finds datagrams waiting makes no
            /// system call; each batch of sends is one `io_uring_enter`.
            /// ``auto`` never takes it (no faster than `mmsg` where
            /// measured) unless the environment variable `BATCHUDP_BACKEND`
            /// is `uring`.  The initializer throws `ENOTSUP` where it is
            /// absent (the package's C target, which links no liburing; an
            /// older kernel) and `EPERM` where the kernel forbids io_uring
            /// (the `io_uring_disabled` sysctl, a seccomp filter).
            case uring = 4
        }

        /// What the receiver thread does when the ring is full (threaded
        /// mode).
        public enum Overflow: Int64, Sendable, CaseIterable {
            /// Stop reading the socket until slots free up: the kernel queue
            /// absorbs (and may drop) what arrives meanwhile.
            case wait = 0
            /// Keep reading and drop what does not fit, counted in
            /// ``BatchUDPSocket/Stats/rxDropped``.
            case drop = 1
        }

        /// The clock of departure times on send (``OutgoingDatagram/timeNs``).
        public enum Pacing: Int64, Sendable, CaseIterable {
            /// No departure times: a datagram with one is refused (`EINVAL`).
            case off = 0
            /// `CLOCK_MONOTONIC`: what the fq queue discipline honours.
            case monotonic = 1
            /// `CLOCK_TAI`: for an etf queue discipline set up with it.
            case tai = 2
        }

        /// Datagrams received or sent per system call (1...1024).
        public var batchSize: Int = 32
        /// Largest datagram accepted whole, in bytes (1...65535); a longer
        /// one arrives truncated, with ``Datagram/Flags/truncated``.
        public var maxDatagram: Int = 2048
        /// Which system calls to use.
        public var backend: Backend = .auto
        /// Receive on a library thread that fills a ring, instead of on the
        /// caller's thread.
        public var threaded: Bool = false
        /// Threaded mode: slots in the ring, a power of two (2...65536), or
        /// 0 for the automatic size: the most slots, up to 256, that fit in
        /// 1 MiB (256 slots of a 2 KiB datagram; 16 of GRO's 64 KiB slots,
        /// each holding up to 64 coalesced datagrams).  1 is invalid.
        /// Options that would take more than the library's memory limit
        /// (`BUDP_MEMORY_LIMIT`, 256 MiB) make the initializer throw
        /// `EINVAL`.
        public var ringCapacity: Int = 0
        /// Threaded mode: what to do when the ring is full.
        public var overflow: Overflow = .wait
        /// Linux UDP GRO: receive coalesced datagrams and split them back
        /// into ordinary ones.  Ignored where the kernel lacks it.
        public var gro: Bool = true
        /// Linux UDP GSO: send runs of equal-size datagrams to one
        /// destination as one send.  Ignored where the kernel lacks it.
        public var gso: Bool = true
        /// Report each datagram's destination address
        /// (``Datagram/local``).
        public var pktinfo: Bool = false
        /// Report received ECN codepoints and set them on send.
        public var ecn: Bool = false
        /// `SO_RCVBUF` in bytes; 0 leaves the system default.
        public var recvBuffer: Int = 0
        /// Threaded mode: call the ``BatchUDPSocket/onDatagrams(_:)``
        /// handler on the receiver thread right after each batch, instead
        /// of queueing to the ring.  There is then nothing to poll or
        /// receive: the handler gets everything.
        public var callbackThread: Bool = false
        /// Report each received datagram's receive time
        /// (``Datagram/timeNs``, ``Datagram/time``).  The initializer throws
        /// `ENOTSUP` where the system has no receive timestamps.
        public var timestamps: Bool = false
        /// Departure times on send, in the clock named
        /// (``OutgoingDatagram/timeNs``).  Linux `SO_TXTIME`: the interface's
        /// queue discipline holds each packet back until its time when it
        /// is fq (``Pacing/monotonic``) or etf; any other sends at once
        /// (``BatchUDPSocket/pacingSupport(to:)`` tells which).  The
        /// initializer throws `ENOTSUP` on other systems.
        public var pacing: Pacing = .off
        /// Report ICMP errors and local send errors as ``ErrorEvent``s
        /// (``BatchUDPSocket/receiveErrors(max:)``), with the destination
        /// they concern; while on, those errors no longer fail receives and
        /// sends.  Linux `IP_RECVERR`; the initializer throws `ENOTSUP` on
        /// other systems.
        public var errors: Bool = false
        /// ``Backend/uring`` only: send each GSO train (a run of equal-size
        /// datagrams to one destination, sent as one) of at least
        /// ``zerocopyMinBytes`` with `IORING_OP_SENDMSG_ZC`, which hands the
        /// datagrams' pages to the device instead of copying them; `send`
        /// still returns only once the kernel has let go of them.  It pays
        /// off for large trains through a device that sends from user
        /// memory; loopback and most virtual devices copy anyway, at a
        /// higher cost.  The initializer throws `ENOTSUP` with any other
        /// backend, or on a kernel without zero-copy sends (before Linux
        /// 6.1).
        public var zerocopy: Bool = false

        /// The smallest GSO train ``zerocopy`` sends without a copy, in
        /// bytes (`BUDP_ZEROCOPY_MIN_BYTES`).
        public static let zerocopyMinBytes = Int(BUDP_ZEROCOPY_MIN_BYTES)

        /// The library's defaults.
        public init() {}

        /// The options as a C options object; the caller frees it.  Every
        /// socket initializer starts here, so this is also where a library
        /// of a version this binding cannot use is refused.
        func makeCOptions() throws -> OpaquePointer {
            try BatchUDPLibrary.checkLoadedLibrary()
            var raw: OpaquePointer?
            try check(budp_options_new(&raw), "budp_options_new")
            guard let options = raw else {
                throw BatchUDPError(code: -ENOMEM, operation: "budp_options_new")
            }
            let settings: [(key: Int, value: Int64, name: String)] = [
                (BUDP_OPT_BATCH_SIZE, Int64(batchSize), "batchSize"),
                (BUDP_OPT_MAX_DATAGRAM, Int64(maxDatagram), "maxDatagram"),
                (BUDP_OPT_BACKEND, backend.rawValue, "backend"),
                (BUDP_OPT_THREADED, threaded ? 1 : 0, "threaded"),
                (BUDP_OPT_RING_CAPACITY, Int64(ringCapacity), "ringCapacity"),
                (BUDP_OPT_OVERFLOW, overflow.rawValue, "overflow"),
                (BUDP_OPT_GRO, gro ? 1 : 0, "gro"),
                (BUDP_OPT_GSO, gso ? 1 : 0, "gso"),
                (BUDP_OPT_PKTINFO, pktinfo ? 1 : 0, "pktinfo"),
                (BUDP_OPT_ECN, ecn ? 1 : 0, "ecn"),
                (BUDP_OPT_RECV_BUFFER, Int64(recvBuffer), "recvBuffer"),
                (BUDP_OPT_CALLBACK_THREAD, callbackThread ? 1 : 0, "callbackThread"),
                (BUDP_OPT_TIMESTAMPS, timestamps ? 1 : 0, "timestamps"),
                (BUDP_OPT_PACING, pacing.rawValue, "pacing"),
                (BUDP_OPT_ERRORS, errors ? 1 : 0, "errors"),
                (BUDP_OPT_ZEROCOPY, zerocopy ? 1 : 0, "zerocopy"),
            ]
            for setting in settings {
                let rc = budp_options_set(options, Int32(setting.key), setting.value)
                if rc < 0 {
                    budp_options_free(options)
                    throw BatchUDPError(
                        code: rc, operation: "budp_options_set(\(setting.name) = \(setting.value))")
                }
            }
            return options
        }
    }
}
