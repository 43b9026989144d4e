@testable import BatchUDP  // Locked, for the Sendable boxes below
import Foundation
import XCTest

/// Bound to 127.0.0.1 (or ::1), any port.
func loopbackSocket(_ host: String = "127.0.0.1",
                    options: BatchUDPSocket.Options = .init()) throws -> BatchUDPSocket {
    try BatchUDPSocket(bindHost: host, port: 0, options: options)
}

/// Binds to ::1, or skips the test when this machine has no IPv6 loopback.
func ipv6LoopbackSocket(options: BatchUDPSocket.Options = .init()) throws -> BatchUDPSocket {
    do {
        return try loopbackSocket("::1", options: options)
    } catch let error as BatchUDPError
        where [EADDRNOTAVAIL, EAFNOSUPPORT, EPROTONOSUPPORT].contains(error.errorNumber) {
        throw XCTSkip("no IPv6 loopback here: \(error)")
    }
}

/// Receives until `count` datagrams came, waiting at most `limit` in all
/// (a guard against hanging, not a timing assertion).
func receive(_ count: Int, from socket: BatchUDPSocket, limit: Duration = .seconds(10),
             file: StaticString = #filePath, line: UInt = #line) throws -> [Datagram] {
    var got: [Datagram] = []
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while got.count < count {
        got += try socket.receive(max: count - got.count)
        if got.count >= count {
            break
        }
        let left = deadline - clock.now
        guard left > .zero, try socket.wait(timeout: left) else {
            XCTFail("received \(got.count) of \(count) datagrams", file: file, line: line)
            break
        }
    }
    return got
}

/// Payloads "0", "1", ... as Data.
func payloads(_ count: Int, prefix: String = "") -> [Data] {
    (0..<count).map { Data("\(prefix)\($0)".utf8) }
}

/// Whether `fd` is still an open socket bound to `port`.  (Checking only
/// that the number is open would be fooled by a descriptor opened meanwhile,
/// by another thread, that got the same number.)
func isOpen(_ fd: Int32, port: UInt16) -> Bool {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let rc = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard rc == 0 else { return false }
    // sin_port and sin6_port sit at the same offset, in network order.
    let bound = withUnsafeBytes(of: &storage) { $0.load(fromByteOffset: 2, as: UInt16.self) }
    return UInt16(bigEndian: bound) == port
}

/// Sends `datagrams` in full, resending what the kernel did not take.
func sendAll(_ socket: BatchUDPSocket, _ datagrams: [OutgoingDatagram]) throws {
    var rest = datagrams[...]
    while !rest.isEmpty {
        let sent = try socket.send(Array(rest))
        XCTAssertGreaterThan(sent, 0)
        rest = rest.dropFirst(sent)
    }
}

/// A Sendable counter for handlers.
final class Counter: Sendable {
    private let items = Locked<[Data]>([])

    func add(_ data: [Data]) {
        items.withLock { $0 += data }
    }

    var count: Int { items.withLock { $0.count } }
    var received: [Data] { items.withLock { $0 } }
}

/// A Sendable box for one value set from another thread.
final class Box<T: Sendable>: Sendable {
    private let stored: Locked<T>

    init(_ value: T) { stored = Locked(value) }

    var value: T {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }

    /// Changes the value in place, atomically.
    func modify(_ change: (inout T) -> Void) {
        stored.withLock(change)
    }
}

#if canImport(Darwin)
let socketTypeDatagram = SOCK_DGRAM
let socketTypeStream = SOCK_STREAM
#else
let socketTypeDatagram = Int32(SOCK_DGRAM.rawValue)
let socketTypeStream = Int32(SOCK_STREAM.rawValue)
#endif

/// Closes a descriptor made by the test.
func closeDescriptor(_ fd: Int32) {
    #if canImport(Darwin)
    _ = Darwin.close(fd)
    #else
    _ = Glibc.close(fd)
    #endif
}

/// An IPv4 socket of `type` made with the system calls, bound to
/// 127.0.0.1 (any port) when asked.
func systemSocket(type: Int32, bindToLoopback: Bool) throws -> Int32 {
    let fd = socket(AF_INET, type, 0)
    guard fd >= 0 else {
        throw BatchUDPError(code: errno, operation: "socket")
    }
    if bindToLoopback {
        var sin = sockaddr_in()
        #if canImport(Darwin)
        sin.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            closeDescriptor(fd)
            throw BatchUDPError(code: code, operation: "bind")
        }
    }
    return fd
}

/// The value of `task`; when it has not finished within `limit` (a guard
/// against hanging, not a timing assertion), the test fails and the task is
/// cancelled.
func value<T: Sendable, Failure: Error>(of task: Task<T, Failure>, within limit: Duration = .seconds(30),
                        file: StaticString = #filePath, line: UInt = #line) async throws -> T {
    let timedOut = Box(false)
    let watchdog = Task {
        try await Task.sleep(for: limit)
        timedOut.value = true
        task.cancel()
    }
    defer { watchdog.cancel() }
    do {
        let result = try await task.value
        if timedOut.value {
            XCTFail("task did not finish within \(limit)", file: file, line: line)
        }
        return result
    } catch {
        if timedOut.value {
            XCTFail("task did not finish within \(limit)", file: file, line: line)
        }
        throw error
    }
}

/// Waits until `condition` holds, checking every millisecond, at most
/// `limit` (a guard against hanging); fails the test if it never does.
func eventually(within limit: Duration = .seconds(30), file: StaticString = #filePath,
                line: UInt = #line, _ condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while !condition() {
        guard clock.now < deadline else {
            return XCTFail("condition still false after \(limit)", file: file, line: line)
        }
        try await Task.sleep(for: .milliseconds(1))
    }
}
