import BatchUDP
import Foundation
import XCTest

/// shutdown() and close() against tasks suspended in `batches` and
/// `datagrams`: they wake with the closed-socket error, and the socket is
/// freed only after their waits let go of it.  (sendAll's waits:
/// SendAllTests.)
///
/// Every wait here is a guard against hanging (5 s), never a timing
/// assertion; the measured latencies are printed only.
final class AsyncCloseTests: XCTestCase {
    private enum Mode: String {
        case inline, threaded
    }

    /// A loopback socket in `mode`, or a skip when the library has no
    /// threaded mode here.
    private func socket(_ mode: Mode) throws -> BatchUDPSocket {
        var options = BatchUDPSocket.Options()
        options.threaded = mode == .threaded
        do {
            return try loopbackSocket(options: options)
        } catch let error as BatchUDPError where error.errorNumber == ENOTSUP && mode == .threaded {
            throw XCTSkip("threaded mode not available in this build of the library: \(error)")
        }
    }

    /// What an iteration that ended says: "EBADF" for the closed-socket
    /// error, "ended" for nil.
    private static func ending(of iteration: () async throws -> Void) async -> String {
        do {
            try await iteration()
            return "ended"
        } catch let error as BatchUDPError {
            return error.code == .EBADF ? "EBADF" : "\(error)"
        } catch {
            return "\(error)"
        }
    }

    /// A task suspended in `batches` (its receive came back empty) ends
    /// its loop when another thread stops the socket.
    private func checkStopEndsBatches(_ mode: Mode, _ how: String,
                                      _ stop: @escaping @Sendable (BatchUDPSocket) -> Void) async throws {
        let socket = try socket(mode)
        let sender = try loopbackSocket()
        let target = socket.localAddress
        let fd = try socket.fileDescriptor
        let clock = ContinuousClock()
        let progress = Box(0)
        let ended = Box<ContinuousClock.Instant?>(nil)
        let consumer = Task {
            let result = await AsyncCloseTests.ending {
                for try await batch in socket.batches {
                    progress.value += batch.count
                }
            }
            ended.value = clock.now
            return result
        }
        try sender.send(Data("one".utf8), to: target)
        try await eventually(within: .seconds(5)) { progress.value == 1 }
        // The consumer now sleeps on its readiness wait (or is about to).
        try await Task.sleep(for: .milliseconds(100))
        let started = clock.now
        let stopper = Thread { stop(socket) }
        stopper.start()
        let result = try await value(of: consumer, within: .seconds(5))
        XCTAssertEqual(result, "ended", "the sequence ends when the socket is stopped")
        XCTAssertEqual(progress.value, 1)
        if let ended = ended.value {
            print("\(how), \(mode) batches: stop-to-end latency \(ended - started)")
        }
        try await eventually(within: .seconds(5)) { socket.isClosed }
        assertThrows(EBADF, try socket.receive())
        if how == "close" {
            // close() returned only after the wait let go of the descriptor.
            try await eventually(within: .seconds(5)) { !isOpen(fd, port: target.port) }
        } else {
            XCTAssertTrue(isOpen(fd, port: target.port), "shutdown frees nothing")
        }
    }

    func testCloseEndsBatchesInline() async throws {
        try await checkStopEndsBatches(.inline, "close") { $0.close() }
    }

    func testCloseEndsBatchesThreaded() async throws {
        try await checkStopEndsBatches(.threaded, "close") { $0.close() }
    }

    func testShutdownEndsBatchesInline() async throws {
        try await checkStopEndsBatches(.inline, "shutdown") { $0.shutdown() }
    }

    func testShutdownEndsBatchesThreaded() async throws {
        try await checkStopEndsBatches(.threaded, "shutdown") { $0.shutdown() }
    }

    /// close() from inside the loop, an async context: it does not wait for
    /// anything (the loop's task is in no call), and the loop ends.
    func testCloseInsideTheLoop() async throws {
        let socket = try socket(.inline)
        let sender = try loopbackSocket()
        let target = socket.localAddress
        let fd = try socket.fileDescriptor
        try sender.send(payloads(3), to: target)
        let fdOpenAfterClose = Box<Bool?>(nil)
        let consumer = Task {
            await AsyncCloseTests.ending {
                for try await _ in socket.datagrams {
                    socket.close()
                    fdOpenAfterClose.value = isOpen(fd, port: target.port)
                }
            }
        }
        let result = try await value(of: consumer, within: .seconds(5))
        XCTAssertEqual(result, "ended")
        XCTAssertEqual(fdOpenAfterClose.value, false)
    }

    func testSequencesOfAStoppedSocketEndAtOnce() async throws {
        for stop in [{ (s: BatchUDPSocket) in s.shutdown() }, { (s: BatchUDPSocket) in s.close() }] {
            let socket = try socket(.inline)
            stop(socket)
            let consumer = Task {
                let batches = await AsyncCloseTests.ending { for try await _ in socket.batches {} }
                let datagrams = await AsyncCloseTests.ending { for try await _ in socket.datagrams {} }
                return [batches, datagrams]
            }
            let results = try await value(of: consumer, within: .seconds(5))
            XCTAssertEqual(results, ["ended", "ended"])
        }
    }
}
