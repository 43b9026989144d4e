// Path events: error events (Options.errors) and pacing support
// (Options.pacing).
import CBatchUDP
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One error the kernel reported for a datagram the socket sent
/// (`budp_error_event`): an ICMP error (port or host unreachable,
/// fragmentation needed, ...) or a local send error, with the destination it
/// concerns.  Read with ``BatchUDPSocket/receiveErrors(max:)`` on a socket
/// with ``BatchUDPSocket/Options/errors`` on.
public struct ErrorEvent: Sendable, Equatable {
    /// Where an event comes from (`BUDP_ERROR_ORIGIN_*`).
    public enum Origin: Sendable, Equatable, Hashable {
        /// This host refused the send (a datagram above the known path MTU
        /// with the don't-fragment bit: `EMSGSIZE`).
        case local
        /// An ICMP message from a router or host.
        case icmp
        /// An ICMPv6 message.
        case icmp6
        /// A value this binding does not know (from a later library).
        case other(UInt8)

        init(_ raw: UInt8) {
            switch Int32(raw) {
            case BUDP_ERROR_ORIGIN_LOCAL: self = .local
            case BUDP_ERROR_ORIGIN_ICMP: self = .icmp
            case BUDP_ERROR_ORIGIN_ICMP6: self = .icmp6
            default: self = .other(raw)
            }
        }
    }

    /// Where the datagram that met the error was going (address and port).
    public var destination: Address?
    /// Who reported it: the router or host that sent the ICMP message (port
    /// 0); `nil` for a local error.
    public var offender: Address?
    /// The error, a positive errno value (`ECONNREFUSED` for a port
    /// unreachable, `EHOSTUNREACH`, `EMSGSIZE`, ...).
    public var errorNumber: Int32
    /// For `EMSGSIZE`: the path MTU reported (the IP packet size the path
    /// takes, headers included); `nil` otherwise.
    public var mtu: Int?
    /// Where it comes from.
    public var origin: Origin
    /// The ICMP message's type (ICMP origins); 0 for local errors.
    public var icmpType: UInt8
    /// The ICMP message's code (ICMP origins); 0 for local errors.
    public var icmpCode: UInt8

    /// ``errorNumber`` as a `POSIXErrorCode`, `nil` when the platform has no
    /// such code.
    public var code: POSIXErrorCode? { POSIXErrorCode(rawValue: errorNumber) }

    /// The error as the ``BatchUDPError`` a failed call would throw.
    public var error: BatchUDPError {
        BatchUDPError(code: errorNumber,
                      operation: "error event for \(destination.map { "\($0)" } ?? "?")")
    }

    init(_ raw: budp_error_event) {
        destination = Address(raw.destination)
        offender = Address(raw.offender)
        errorNumber = raw.error < 0 ? (raw.error == Int32.min ? Int32.max : -raw.error) : raw.error
        mtu = raw.mtu != 0 ? Int(raw.mtu) : nil
        origin = Origin(raw.origin)
        icmpType = raw.icmp_type
        icmpCode = raw.icmp_code
    }

    /// Builds an event by hand (for tests and adapters).
    public init(destination: Address?, offender: Address? = nil, errorNumber: Int32,
                mtu: Int? = nil, origin: Origin, icmpType: UInt8 = 0, icmpCode: UInt8 = 0) {
        self.destination = destination
        self.offender = offender
        self.errorNumber = errorNumber
        self.mtu = mtu
        self.origin = origin
        self.icmpType = icmpType
        self.icmpCode = icmpCode
    }
}

extension BatchUDPSocket.Options.Pacing {
    /// The current time of this clock in nanoseconds, to compute departure
    /// times from (`clock_gettime`); `nil` for ``off``, and outside Linux,
    /// where the library has no pacing.
    public func now() -> UInt64? {
        #if os(Linux)
        let clock: clockid_t
        switch self {
        case .off: return nil
        case .monotonic: clock = CLOCK_MONOTONIC
        case .tai: clock = 11  // CLOCK_TAI, which Glibc's module may not export
        }
        var ts = timespec()
        guard clock_gettime(clock, &ts) == 0 else { return nil }
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        #else
        return nil
        #endif
    }
}

extension BatchUDPSocket {
    /// The most events one ``receiveErrors(max:)`` returns by default, and
    /// the most ``batches`` sets aside (`BUDP_ERROR_QUEUE_EVENTS`).
    public static let errorQueueEvents = Int(BUDP_ERROR_QUEUE_EVENTS)

    /// Reads up to `max` error events that wait, oldest first, without
    /// blocking: an empty array when none does.
    ///
    /// Needs ``Options/errors``.  While the option is on, ICMP and local
    /// send errors come here, with the destination they concern, instead of
    /// failing ``receive()`` or ``send(_:)``.  While events wait, the poll
    /// descriptor is readable and ``wait(timeout:)`` returns `true`: a
    /// program that turns the option on reads them.  ``batches`` and
    /// ``datagrams`` set them aside while they wait (64 at most, the others
    /// counted in ``Stats/errorEventsDropped``), and this returns those
    /// first.  Any thread, also inside a handler.
    ///
    /// - Throws: ``BatchUDPError``: `EINVAL` (option off, `max` < 1),
    ///   `EBADF` once shut down or closed.
    public func receiveErrors(max: Int = BatchUDPSocket.errorQueueEvents) throws -> [ErrorEvent] {
        guard max >= 1 else {
            throw BatchUDPError(code: -EINVAL, operation: "budp_recv_errors(max: \(max))")
        }
        var out: [ErrorEvent] = state.withLock { state in
            let taken = Array(state.errorStash.prefix(max))
            state.errorStash.removeFirst(taken.count)
            return taken
        }
        if out.count == max {
            return out
        }
        do {
            out += try readErrors(max: max - out.count)
        } catch where !out.isEmpty {
            // What was set aside goes first; a lasting error comes again.
        }
        return out
    }

    /// One budp_recv_errors call.
    func readErrors(max: Int) throws -> [ErrorEvent] {
        let count = Swift.min(max, Int(UInt32.max))
        return try withHandle("budp_recv_errors") { live in
            try [budp_error_event](unsafeUninitializedCapacity: count) { buffer, initialized in
                let rc = budp_recv_errors(live, buffer.baseAddress, UInt32(count))
                initialized = rc > 0 ? Int(rc) : 0
                try check(rc, "budp_recv_errors")
            }.map(ErrorEvent.init)
        }
    }

    /// Reads the error events that wait into the socket's own list (at most
    /// ``errorQueueEvents`` kept, the others dropped and counted), so that
    /// they stop waking a task waiting for datagrams.  Errors are left for
    /// ``receiveErrors(max:)`` to throw.
    func setErrorEventsAside() {
        while let events = try? readErrors(max: Self.errorQueueEvents), !events.isEmpty {
            state.withLock { state in
                let room = Swift.max(0, Self.errorQueueEvents - state.errorStash.count)
                state.errorStash += events.prefix(room)
                state.errorStashDropped += UInt64(events.count - Swift.min(room, events.count))
            }
            if events.count < Self.errorQueueEvents {
                return
            }
        }
    }

    /// Whether departure times (``OutgoingDatagram/timeNs``) sent to
    /// `destination` (`nil`: the connected peer) would be honoured: the
    /// queue discipline of the interface the route leaves by holds packets
    /// back until their time (Linux fq or etf).
    ///
    /// - Returns: whether, and one line saying what was found, for logs
    ///   (`"lo: noqueue sends at once"`; show it, do not parse it).
    ///   `honoured` is `false` also when ``Options/pacing`` is
    ///   ``Options/Pacing/off``.
    /// - Throws: ``BatchUDPError``: `EINVAL` (`nil` on an unconnected
    ///   socket), `ENOTSUP` (no pacing on this system), `ENETUNREACH` (no
    ///   route), `EBADF` once shut down or closed.
    public func pacingSupport(to destination: Address? = nil) throws
        -> (honoured: Bool, detail: String) {
        try withHandle("budp_pacing_support") { live in
            var detail = [CChar](repeating: 0, count: 256)
            let rc: Int32 = detail.withUnsafeMutableBufferPointer { text in
                if let destination {
                    var raw = destination.raw
                    return budp_pacing_support(live, &raw, text.baseAddress, text.count)
                }
                return budp_pacing_support(live, nil, text.baseAddress, text.count)
            }
            try check(rc, "budp_pacing_support")
            let bytes = detail.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return (rc > 0, String(decoding: bytes, as: UTF8.self))
        }
    }
}
