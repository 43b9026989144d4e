import CBatchUDP
import Foundation

/// An IPv4 or IPv6 address and a UDP port.
///
/// A plain value (two words of address bytes, the port, the family and the
/// IPv6 scope): received datagrams carry one without allocating; ``host``
/// formats the address as text only when asked.
public struct Address: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: UInt16, Sendable {
        /// IPv4: ``bytes`` has 4 bytes.
        case ipv4 = 4
        /// IPv6: ``bytes`` has 16 bytes.
        case ipv6 = 6
    }

    /// IPv4 or IPv6.
    public let family: Family
    /// The UDP port, in host byte order.
    public var port: UInt16
    /// The IPv6 scope (interface index); 0 for IPv4 and for global IPv6
    /// addresses.
    public let scopeID: UInt32
    // The 16 address bytes in network order, as two words.
    private let high: UInt64
    private let low: UInt64

    /// Parses a numeric IPv4 or IPv6 address ("127.0.0.1", "::1",
    /// "fe80::1%eth0") with the library's parser.
    ///
    /// - Throws: ``BatchUDPError`` with `EINVAL` when `host` is not a numeric
    ///   address.
    public init(host: String, port: UInt16) throws {
        var raw = budp_addr()
        try check(budp_addr_from_string(&raw, host, port), "budp_addr_from_string(\(host))")
        guard let address = Address(raw) else {
            throw BatchUDPError(code: -EAFNOSUPPORT, operation: "budp_addr_from_string(\(host))")
        }
        self = address
    }

    /// Wraps a C address; `nil` when its family is neither IPv4 nor IPv6
    /// (`BUDP_AF_UNSPEC`: no address).
    init?(_ raw: budp_addr) {
        guard let family = Family(rawValue: raw.family) else { return nil }
        self.family = family
        self.port = raw.port
        self.scopeID = raw.scope_id
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeBytes(of: raw.bytes) { bytes in
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: bytes) }
        }
        self.high = words.0
        self.low = words.1
    }

    /// The C form of the address.
    var raw: budp_addr {
        var raw = budp_addr()
        raw.family = family.rawValue
        raw.port = port
        raw.scope_id = scopeID
        var words = (high, low)
        withUnsafeBytes(of: &words) { source in
            withUnsafeMutableBytes(of: &raw.bytes) { $0.copyMemory(from: source) }
        }
        return raw
    }

    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        var words = (high, low)
        let all = withUnsafeBytes(of: &words) { Array($0) }
        return family == .ipv4 ? Array(all.prefix(4)) : all
    }

    /// The address without the port, as text: "127.0.0.1", "::1",
    /// "fe80::1%2".
    public var host: String {
        var address = raw
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let rc = budp_addr_to_string(&address, buffer.baseAddress, buffer.count)
            return rc < 0 ? "" : String(cString: buffer.baseAddress!)
        }
    }

    /// "127.0.0.1:53" or "[::1]:53".
    public var description: String {
        family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
