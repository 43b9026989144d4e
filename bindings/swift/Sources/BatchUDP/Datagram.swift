import CBatchUDP
import Foundation

/// A received datagram, copied out of the library's buffers: it owns its
/// payload and may be kept, stored and sent across threads.
///
/// Produced by ``BatchUDPSocket/receive()``, ``BatchUDPSocket/batches``,
/// ``BatchUDPSocket/datagrams`` and ``Datagram/init(_:)`` (from a
/// ``DatagramView``).
public struct Datagram: Sendable, Equatable {
    /// Facts about one received datagram (`BUDP_DGRAM_*`).
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The C value.
        public let rawValue: UInt32
        /// Wraps a C value.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// The datagram was longer than ``BatchUDPSocket/Options/maxDatagram``:
        /// the payload holds the bytes kept, the rest is lost.
        public static let truncated = Flags(rawValue: BUDP_DGRAM_TRUNCATED)
        /// One segment of a GRO receive; ``Datagram/segmentSize`` is the size
        /// the kernel coalesced at.
        public static let coalesced = Flags(rawValue: BUDP_DGRAM_COALESCED)
        /// ``Datagram/local`` holds the destination address
        /// (``BatchUDPSocket/Options/pktinfo``).
        public static let hasLocal = Flags(rawValue: BUDP_DGRAM_HAS_LOCAL)
        /// ``Datagram/ecn`` holds the received ECN codepoint
        /// (``BatchUDPSocket/Options/ecn``).
        public static let hasECN = Flags(rawValue: BUDP_DGRAM_HAS_ECN)
        /// The kernel ran out of room for the datagram's control data
        /// (`MSG_CTRUNC`): what was cut (``Datagram/local``,
        /// ``Datagram/ecn``) is not reported, and with GRO on the datagram
        /// is ``truncated`` too, since its segment size may be what was lost.
        /// Counted in ``BatchUDPSocket/Stats/rxControlTruncated``.
        public static let controlTruncated = Flags(rawValue: BUDP_DGRAM_CONTROL_TRUNCATED)
        /// ``Datagram/timeNs`` holds the kernel's receive time
        /// (``BatchUDPSocket/Options/timestamps``).
        public static let hasTime = Flags(rawValue: BUDP_DGRAM_HAS_TIME)
    }

    /// The payload (for a truncated datagram: the bytes kept).
    public var data: Data
    /// The source address; `nil` only if the system reported none.
    public var peer: Address?
    /// The address the datagram was sent to, when
    /// ``BatchUDPSocket/Options/pktinfo`` is on and the system reported it.
    public var local: Address?
    /// The raw flags.
    public var flags: Flags
    /// For the segments of a GRO receive, the segment size; 0 otherwise.
    public var segmentSize: Int
    /// The ECN codepoint (0...3) when ``BatchUDPSocket/Options/ecn`` is on
    /// and the system reported it; `nil` otherwise.
    public var ecn: UInt8?
    /// The kernel's receive time, in nanoseconds since the Unix epoch
    /// (`CLOCK_REALTIME`; microseconds on Apple and the BSDs), when
    /// ``BatchUDPSocket/Options/timestamps`` is on; `nil` otherwise.  Every
    /// segment of a GRO receive carries its packet's time.
    public var timeNs: UInt64?

    /// Whether the datagram was cut to ``BatchUDPSocket/Options/maxDatagram``
    /// bytes.
    public var isTruncated: Bool { flags.contains(.truncated) }

    /// ``timeNs`` as a `Date`.
    public var time: Date? { timeNs.map(Datagram.date(ns:)) }

    /// A time in nanoseconds since the Unix epoch as a `Date`.
    static func date(ns: UInt64) -> Date {
        Date(timeIntervalSince1970: Double(ns / 1_000_000_000)
             + Double(ns % 1_000_000_000) / 1e9)
    }

    /// Copies a view out of the library's buffers.
    public init(_ view: DatagramView) {
        self.data = Data(view.bytes)
        self.peer = view.peer
        self.local = view.local
        self.flags = view.flags
        self.segmentSize = view.segmentSize
        self.ecn = view.ecn
        self.timeNs = view.timeNs
    }

    /// Builds a datagram by hand (for tests and adapters).
    public init(data: Data, peer: Address?, local: Address? = nil, flags: Flags = [],
                segmentSize: Int = 0, ecn: UInt8? = nil, timeNs: UInt64? = nil) {
        self.data = data
        self.peer = peer
        self.local = local
        self.flags = flags
        self.segmentSize = segmentSize
        self.ecn = ecn
        self.timeNs = timeNs
    }
}

/// A received datagram as a view into the library's buffers: no copy.
///
/// Valid only inside the closure that received it
/// (``BatchUDPSocket/withReceivedDatagrams(max:_:)`` or the
/// ``BatchUDPSocket/onDatagrams(_:)`` handler): the library reuses the
/// buffer for the next batch.  Do not let it, or ``bytes``, escape; copy
/// what must outlive the closure (``Datagram/init(_:)``).
public struct DatagramView {
    private let raw: UnsafePointer<budp_datagram>

    init(_ raw: UnsafePointer<budp_datagram>) { self.raw = raw }

    /// The payload, in the library's buffer.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw.pointee.data, count: Int(raw.pointee.len))
    }
    /// The source address; `nil` only if the system reported none.
    public var peer: Address? { Address(raw.pointee.peer) }
    /// The destination address (``BatchUDPSocket/Options/pktinfo``).
    public var local: Address? {
        flags.contains(.hasLocal) ? Address(raw.pointee.local) : nil
    }
    /// The raw flags.
    public var flags: Datagram.Flags { Datagram.Flags(rawValue: raw.pointee.flags) }
    /// Whether the datagram was truncated.
    public var isTruncated: Bool { flags.contains(.truncated) }
    /// GRO segment size, 0 when the datagram was not coalesced.
    public var segmentSize: Int { Int(raw.pointee.segment_size) }
    /// The ECN codepoint when reported (``BatchUDPSocket/Options/ecn``).
    public var ecn: UInt8? { flags.contains(.hasECN) ? raw.pointee.ecn : nil }
    /// The kernel's receive time in nanoseconds since the Unix epoch
    /// (``BatchUDPSocket/Options/timestamps``), else `nil`.
    public var timeNs: UInt64? { flags.contains(.hasTime) ? raw.pointee.time_ns : nil }
    /// ``timeNs`` as a `Date`.
    public var time: Date? { timeNs.map(Datagram.date(ns:)) }
}

@available(*, unavailable, message: "a DatagramView is valid only inside its closure")
extension DatagramView: Sendable {}

/// The datagrams of one receive, as views into the library's buffers (see
/// ``DatagramView``): valid only inside the closure that was given them.
public struct DatagramBatch: RandomAccessCollection {
    private let base: UnsafeBufferPointer<budp_datagram>

    init(_ base: UnsafeBufferPointer<budp_datagram>) { self.base = base }

    /// 0.
    public var startIndex: Int { 0 }
    /// The number of datagrams.
    public var endIndex: Int { base.count }
    /// The view of datagram `position`.
    public subscript(position: Int) -> DatagramView {
        precondition(position >= 0 && position < base.count, "DatagramBatch index out of range")
        return DatagramView(base.baseAddress! + position)
    }
}

@available(*, unavailable, message: "a DatagramBatch is valid only inside its closure")
extension DatagramBatch: Sendable {}

/// A datagram to send: the payload and where it goes.
///
/// The fields are named as in the C library's `budp_datagram` and as in
/// ``Datagram``: ``peer`` is the other end (here the destination), ``local``
/// this end (here the source address to send from).  Echoing a received
/// datagram is `OutgoingDatagram(datagram.data, to: datagram.peer)`.
public struct OutgoingDatagram: Sendable, Equatable {
    /// The payload (at most 65535 bytes).
    public var data: Data
    /// The destination; `nil` on a connected socket
    /// (``BatchUDPSocket/connect(host:port:)``).
    public var peer: Address?
    /// The source address to send from (`IP_PKTINFO`), or `nil` to let the
    /// system choose.
    public var local: Address?
    /// The ECN codepoint (0...3) to set, used when
    /// ``BatchUDPSocket/Options/ecn`` is on.
    public var ecn: UInt8
    /// The earliest departure time, in nanoseconds of the clock the
    /// socket's ``BatchUDPSocket/Options/pacing`` names
    /// (``BatchUDPSocket/Options/Pacing/now()`` reads it); 0 leaves at once.
    /// Only with pacing on: a socket whose pacing is
    /// ``BatchUDPSocket/Options/Pacing/off`` refuses a non-zero time
    /// (`EINVAL`).
    public var timeNs: UInt64

    /// A datagram with `data` for `peer`, sent from `local`, leaving at
    /// `timeNs` (with pacing on; 0: at once).
    public init(_ data: Data, to peer: Address? = nil, from local: Address? = nil,
                ecn: UInt8 = 0, timeNs: UInt64 = 0) {
        self.data = data
        self.peer = peer
        self.local = local
        self.ecn = ecn
        self.timeNs = timeNs
    }

    /// A datagram with `bytes` for `peer`, sent from `local`.
    public init(bytes: [UInt8], to peer: Address? = nil, from local: Address? = nil,
                ecn: UInt8 = 0, timeNs: UInt64 = 0) {
        self.init(Data(bytes), to: peer, from: local, ecn: ecn, timeNs: timeNs)
    }

    /// The former name of ``peer``.
    @available(*, deprecated, renamed: "peer")
    public var destination: Address? {
        get { peer }
        set { peer = newValue }
    }

    /// The former name of ``local``.
    @available(*, deprecated, renamed: "local")
    public var source: Address? {
        get { local }
        set { local = newValue }
    }
}
