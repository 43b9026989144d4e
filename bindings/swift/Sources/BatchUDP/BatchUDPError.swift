import CBatchUDP
import Foundation

/// An error reported by libbatchudp, or by this binding on the library's
/// behalf, carrying the errno value that describes it.
///
/// Every fallible C call returns a negated errno value; this type turns it
/// back into a positive errno (``errorNumber``), a `POSIXErrorCode` when the
/// platform knows the value (``code``) and the library's own description
/// (``message``, from `budp_strerror`).
///
/// Match on the code:
/// ```swift
/// do { _ = try socket.receive() }
/// catch let error as BatchUDPError where error.code == .EBADF { /* closed */ }
/// ```
public struct BatchUDPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The errno value (positive), for example `EBADF`.
    public let errorNumber: Int32

    /// The library call (or binding operation) that failed, for example
    /// `"budp_bind"`.
    public let operation: String

    /// The description of ``errorNumber`` given by `budp_strerror`.
    public let message: String

    /// Creates an error from a code returned by a libbatchudp call: a negated
    /// errno value (positive values are accepted too).
    ///
    /// - Parameters:
    ///   - code: `-EINVAL`, `-EBADF`, ... as returned by a `budp_` call.
    ///   - operation: the name of the call that returned it.
    public init(code: Int32, operation: String) {
        let positive = code < 0 ? (code == Int32.min ? Int32.max : -code) : code
        self.errorNumber = positive
        self.operation = operation
        self.message = String(cString: budp_strerror(positive))
    }

    /// The errno value as a `POSIXErrorCode`, or `nil` when the platform has
    /// no such code.
    public var code: POSIXErrorCode? {
        POSIXErrorCode(rawValue: errorNumber)
    }

    /// "operation: message (errno N)".
    public var description: String {
        "\(operation): \(message) (errno \(errorNumber))"
    }
}

extension BatchUDPError: LocalizedError {
    /// The same text as ``description``.
    public var errorDescription: String? { description }
}

/// Throws a ``BatchUDPError`` when `rc` is negative; returns `rc` otherwise.
@inline(__always)
@discardableResult
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    if rc < 0 {
        throw BatchUDPError(code: rc, operation: operation())
    }
    return rc
}
