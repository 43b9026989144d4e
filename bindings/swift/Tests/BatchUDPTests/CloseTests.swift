import BatchUDP
import Dispatch
import Foundation
import XCTest

/// close() and shutdown() against threads that use the socket: blocked
/// calls wake and throw EBADF, calls in progress keep the socket alive,
/// handlers may close their own socket.
///
/// Every wait here is a guard against hanging (5 s), never a timing
/// assertion; the measured latencies are printed only.
final class CloseTests: XCTestCase {
    private static let hangGuard: TimeInterval = 5

    private enum Mode: String {
        case inline, threaded
    }

    /// A loopback socket in `mode`, or a skip when the library has no
    /// threaded mode here.
    private func socket(_ mode: Mode, callbackThread: Bool = false) throws -> BatchUDPSocket {
        var options = BatchUDPSocket.Options()
        options.threaded = mode == .threaded
        options.callbackThread = callbackThread
        do {
            return try loopbackSocket(options: options)
        } catch let error as BatchUDPError where error.errorNumber == ENOTSUP && mode == .threaded {
            throw XCTSkip("threaded mode not available in this build of the library: \(error)")
        }
    }

    /// Runs `body` until it throws EBADF (the socket was stopped), which it
    /// rethrows; other errors (a full send buffer, an ICMP-reported
    /// refusal) do not end the loop.
    private static func untilStopped(_ body: () throws -> Void) throws {
        while true {
            do {
                try body()
            } catch let error as BatchUDPError where error.errorNumber != EBADF {
                continue
            }
        }
    }

    /// Waits until `condition` holds, at most the hang guard.
    private func waitUntil(_ what: String, file: StaticString = #filePath, line: UInt = #line,
                           _ condition: () -> Bool) {
        let deadline = Date(timeIntervalSinceNow: Self.hangGuard)
        while !condition() {
            guard Date() < deadline else {
                return XCTFail("still not \(what) after \(Self.hangGuard) s", file: file, line: line)
            }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }

    /// Closes `socket` on another thread, so that a close that hangs fails
    /// the test instead of hanging it.
    private func closeGuarded(_ socket: BatchUDPSocket) {
        let closed = expectation(description: "close returned")
        Thread {
            socket.close()
            closed.fulfill()
        }.start()
        wait(for: [closed], timeout: Self.hangGuard)
    }

    /// What a call that ended says: "EBADF" for the closed-socket error.
    private static func outcome(of call: () throws -> Void) -> String {
        do {
            try call()
            return "returned without an error"
        } catch let error as BatchUDPError {
            return error.code == .EBADF ? "EBADF" : "\(error)"
        } catch {
            return "\(error)"
        }
    }

    /// Runs `call` on a thread of its own, lets it block, stops the socket
    /// with `stop` from another thread, and checks that the call ends with
    /// EBADF because of the stop, and that `stop` itself returns.  Returns
    /// the time from the stop to the call's return, nil when the call did
    /// not return (the test failed; it then must not wait on the socket).
    @discardableResult
    private func assertStopWakes(_ socket: BatchUDPSocket, _ label: String,
                                 stop: @escaping @Sendable (BatchUDPSocket) -> Void = { $0.close() },
                                 _ call: @escaping @Sendable (BatchUDPSocket) throws -> Void,
                                 file: StaticString = #filePath, line: UInt = #line) -> Duration? {
        let clock = ContinuousClock()
        let outcome = Box("still blocked")
        let stopStarted = Box<ContinuousClock.Instant?>(nil)
        let callReturned = Box<ContinuousClock.Instant?>(nil)
        let entered = DispatchSemaphore(value: 0)
        let returned = expectation(description: "\(label): the blocked call returned")
        let stopReturned = expectation(description: "\(label): the stop returned")
        Thread {
            entered.signal()
            var result = Self.outcome { try call(socket) }
            callReturned.value = clock.now
            if stopStarted.value == nil {
                result += " before the socket was stopped"
            }
            outcome.value = result
            returned.fulfill()
        }.start()
        entered.wait()
        // Let the thread block in its call (not a timing assertion: a stop
        // that comes first must give EBADF just the same).
        Thread.sleep(forTimeInterval: 0.2)
        // Stopped from yet another thread, so that a stop that hangs fails
        // the test instead of hanging it.
        Thread {
            stopStarted.value = clock.now
            stop(socket)
            stopReturned.fulfill()
        }.start()
        wait(for: [returned, stopReturned], timeout: Self.hangGuard)
        XCTAssertEqual(outcome.value, "EBADF", label, file: file, line: line)
        XCTAssertTrue(socket.isClosed, label, file: file, line: line)
        guard let start = stopStarted.value, let end = callReturned.value else {
            return nil
        }
        let latency = end - start
        print("\(label): stop-to-return latency \(latency)")
        return latency
    }

    // MARK: - Blocked calls wake

    private func checkCloseWakesForeverWait(_ mode: Mode) throws {
        let socket = try socket(mode)
        guard assertStopWakes(socket, "close, \(mode) wait(timeout: nil)", { _ = try $0.wait() })
            != nil else { return }
        assertThrows(EBADF, try socket.wait(timeout: .zero))
    }

    func testCloseWakesForeverWaitInline() throws {
        try checkCloseWakesForeverWait(.inline)
    }

    /// A callback-thread socket's wait (for a receiver error) wakes too.
    func testCloseWakesForeverWaitCallbackThread() throws {
        let socket = try socket(.threaded, callbackThread: true)
        try socket.onDatagrams { _ in }
        guard assertStopWakes(socket, "close, callback-thread wait(timeout: nil)",
                              { _ = try $0.wait() }) != nil else { return }
        assertThrows(EBADF, try socket.wait(timeout: .zero))
    }

    func testCloseWakesForeverWaitThreaded() throws {
        try checkCloseWakesForeverWait(.threaded)
    }

    /// A receive loop that sleeps in wait() when nothing is there, the way a
    /// receiving thread is written; datagrams keep coming while it runs.
    private func checkCloseWakesReceiveLoop(_ mode: Mode) throws {
        let socket = try socket(mode)
        let sender = try loopbackSocket()
        let target = socket.localAddress
        let received = Box(0)
        try sender.send(payloads(5), to: target)
        assertStopWakes(socket, "close, \(mode) receive loop") { socket in
            while true {
                let batch = try socket.receive()
                received.value += batch.count
                if batch.isEmpty {
                    _ = try socket.wait()
                }
            }
        }
        print("\(mode) receive loop got \(received.value) datagrams before the close")
    }

    func testCloseWakesReceiveLoopInline() throws {
        try checkCloseWakesReceiveLoop(.inline)
    }

    func testCloseWakesReceiveLoopThreaded() throws {
        try checkCloseWakesReceiveLoop(.threaded)
    }

    private func checkShutdownWakesLongWait(_ mode: Mode) throws {
        let socket = try socket(mode)
        let fd = try socket.fileDescriptor
        let port = socket.localAddress.port
        guard assertStopWakes(socket, "shutdown, \(mode) wait(timeout: 1 hour)",
                              stop: { $0.shutdown() }, { _ = try $0.wait(timeout: .seconds(3600)) })
            != nil else { return }
        XCTAssertTrue(isOpen(fd, port: port), "shutdown frees nothing")
        closeGuarded(socket)
        XCTAssertFalse(isOpen(fd, port: port))
    }

    func testShutdownWakesLongWaitInline() throws {
        try checkShutdownWakesLongWait(.inline)
    }

    func testShutdownWakesLongWaitThreaded() throws {
        try checkShutdownWakesLongWait(.threaded)
    }

    /// A thread queued behind another's consumer call (the binding makes
    /// the second wait for the first) wakes too.
    func testCloseWakesQueuedConsumers() throws {
        let socket = try socket(.inline)
        let outcomes = Log()
        let done = expectation(description: "every waiting thread returned")
        done.expectedFulfillmentCount = 3
        for _ in 0..<3 {
            Thread {
                let result = Self.outcome { _ = try socket.wait() }
                outcomes.append(result)
                done.fulfill()
            }.start()
        }
        Thread.sleep(forTimeInterval: 0.2)
        closeGuarded(socket)
        wait(for: [done], timeout: Self.hangGuard)
        XCTAssertEqual(outcomes.items, ["EBADF", "EBADF", "EBADF"])
    }

    /// close() while other threads are inside calls of every kind: each ends
    /// with EBADF, and the socket is freed once, after they all left.
    private func checkCloseUnderLoad(_ mode: Mode) throws {
        let socket = try socket(mode)
        let peer = try loopbackSocket()
        let target = socket.localAddress
        let toPeer = peer.localAddress
        let fd = try socket.fileDescriptor
        let outcomes = Log()
        let done = expectation(description: "every user thread ended")
        done.expectedFulfillmentCount = 5
        let loops: [@Sendable () throws -> Void] = [
            { try Self.untilStopped { _ = try socket.wait(); _ = try socket.receive() } },
            { try Self.untilStopped { try socket.send(payloads(8), to: toPeer) } },
            { try Self.untilStopped { try socket.send(payloads(8), to: toPeer) } },
            // Never fail: the loop ends on the descriptor's EBADF.
            { try Self.untilStopped { _ = socket.stats; _ = socket.localAddress; _ = try socket.fileDescriptor } },
            { try Self.untilStopped { try peer.send(payloads(8), to: target); _ = try peer.receive() } },
        ]
        for (index, loop) in loops.enumerated() {
            Thread {
                let result = Self.outcome(of: loop)
                // The peer's loop only ends when the peer closes.
                outcomes.append(index == 4 ? "peer: \(result)" : result)
                done.fulfill()
            }.start()
        }
        Thread.sleep(forTimeInterval: 0.2)
        let closed = expectation(description: "close returned")
        Thread {
            socket.close()
            closed.fulfill()
        }.start()
        wait(for: [closed], timeout: Self.hangGuard)
        XCTAssertFalse(isOpen(fd, port: target.port), "close returned: the descriptor is closed")
        closeGuarded(peer)
        wait(for: [done], timeout: Self.hangGuard)
        XCTAssertEqual(outcomes.items.sorted(), ["EBADF", "EBADF", "EBADF", "EBADF", "peer: EBADF"])
    }

    func testCloseUnderLoadInline() throws {
        try checkCloseUnderLoad(.inline)
    }

    func testCloseUnderLoadThreaded() throws {
        try checkCloseUnderLoad(.threaded)
    }

    func testConcurrentClosesAllReturn() throws {
        let socket = try socket(.inline)
        let fd = try socket.fileDescriptor
        let port = socket.localAddress.port
        let waiter = expectation(description: "wait returned")
        let outcome = Box("still blocked")
        Thread {
            outcome.value = Self.outcome { _ = try socket.wait() }
            waiter.fulfill()
        }.start()
        Thread.sleep(forTimeInterval: 0.1)
        let closers = expectation(description: "every close returned")
        closers.expectedFulfillmentCount = 4
        let closedOnReturn = Log()
        for _ in 0..<4 {
            Thread {
                socket.close()
                closedOnReturn.append(isOpen(fd, port: port) ? "open" : "closed")
                closers.fulfill()
            }.start()
        }
        wait(for: [waiter, closers], timeout: Self.hangGuard)
        XCTAssertEqual(outcome.value, "EBADF")
        XCTAssertEqual(closedOnReturn.items, ["closed", "closed", "closed", "closed"])
    }

    // MARK: - Calls in progress keep the socket

    /// close() on another thread waits while a withReceivedDatagrams
    /// closure runs: the views stay valid and the descriptor open until it
    /// returns.
    func testCloseWaitsForACallInProgress() throws {
        let socket = try socket(.inline)
        let sender = try loopbackSocket()
        let fd = try socket.fileDescriptor
        let target = socket.localAddress
        try sender.send(Data("kept alive".utf8), to: target)
        XCTAssertTrue(try socket.wait(timeout: .seconds(5)))

        let inside = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let copied = Box<[Data]>([])
        let sendInside = Box("not tried")
        let userResult = Box("still inside")
        let userDone = expectation(description: "the closure returned")
        Thread {
            userResult.value = Self.outcome {
                try socket.withReceivedDatagrams { batch in
                    inside.signal()
                    proceed.wait()
                    // Closed meanwhile: new calls are refused, but these
                    // views are still the library's live buffers.
                    sendInside.value = Self.outcome { try socket.send(Data("x".utf8), to: target) }
                    copied.value = batch.map { Data($0.bytes) }
                }
            }
            userDone.fulfill()
        }.start()
        inside.wait()

        let closeReturned = Box(false)
        let closed = expectation(description: "close returned")
        Thread {
            socket.close()
            closeReturned.value = true
            closed.fulfill()
        }.start()
        // close() has begun: it must not finish while the closure runs.
        waitUntil("stopped") { socket.isClosed }
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertFalse(closeReturned.value, "close returned while a call was in progress")
        XCTAssertTrue(isOpen(fd, port: target.port), "freed while a call was in progress")
        proceed.signal()
        wait(for: [userDone, closed], timeout: Self.hangGuard)
        XCTAssertEqual(userResult.value, "returned without an error")
        XCTAssertEqual(copied.value, [Data("kept alive".utf8)])
        XCTAssertEqual(sendInside.value, "EBADF")
        XCTAssertFalse(isOpen(fd, port: target.port))
    }

    // MARK: - Closing inside a handler

    /// close() inside a handler running on the library's receiver thread
    /// (callback-thread mode) returns at once and frees the socket there.
    func testCloseInsideReceiverThreadHandler() throws {
        let socket = try socket(.threaded, callbackThread: true)
        let fd = try socket.fileDescriptor
        let target = socket.localAddress
        let report = Box<[String]>([])
        let handled = expectation(description: "the handler closed the socket")
        let calls = Counter()
        try socket.onDatagrams { [weak socket] batch in
            calls.add(batch.map { Data($0.bytes) })
            guard let socket, !socket.isClosed else { return }
            socket.close()
            report.value = [
                "isClosed \(socket.isClosed)",
                // The counters read at the stop include this batch.
                "stats kept \(socket.stats.rxDatagrams >= UInt64(batch.count))",
                "send \(Self.outcome { try socket.send(Data("x".utf8), to: target) })",
                "fd open \(isOpen(fd, port: target.port))",
            ]
            handled.fulfill()
        }
        let sender = try loopbackSocket()
        try sender.send(payloads(3), to: target)
        wait(for: [handled], timeout: Self.hangGuard)
        XCTAssertEqual(report.value, ["isClosed true", "stats kept true", "send EBADF", "fd open false"])
        assertThrows(EBADF, try socket.onDatagrams(nil))
        closeGuarded(socket)  // idempotent, also after a close inside the handler

        // No handler call after the close.
        let count = calls.count
        try sender.send(payloads(3), to: target)
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(calls.count, count)
    }

    /// shutdown() inside a receiver-thread handler; the test thread closes
    /// afterwards.
    func testShutdownInsideReceiverThreadHandler() throws {
        let socket = try socket(.threaded, callbackThread: true)
        let fd = try socket.fileDescriptor
        let target = socket.localAddress
        let handled = expectation(description: "the handler shut the socket down")
        handled.assertForOverFulfill = false
        try socket.onDatagrams { [weak socket] _ in
            socket?.shutdown()
            handled.fulfill()
        }
        let sender = try loopbackSocket()
        try sender.send(payloads(3), to: target)
        wait(for: [handled], timeout: Self.hangGuard)
        XCTAssertTrue(socket.isClosed)
        XCTAssertTrue(isOpen(fd, port: target.port), "shutdown frees nothing")
        XCTAssertGreaterThanOrEqual(socket.stats.rxDatagrams, 1, "the counters as at the stop")
        closeGuarded(socket)
        XCTAssertFalse(isOpen(fd, port: target.port))
    }

    /// close() inside a dispatch handler while another thread waits for the
    /// consumer lock: the close completes when dispatch returns, and the
    /// waiting thread gets EBADF.
    func testCloseInsideDispatchHandlerWithAQueuedWaiter() throws {
        let socket = try socket(.inline)
        let fd = try socket.fileDescriptor
        let target = socket.localAddress
        let sender = try loopbackSocket()
        try sender.send(payloads(2), to: target)
        XCTAssertTrue(try socket.wait(timeout: .seconds(5)))

        let inHandler = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let fdOpenAfterClose = Box<Bool?>(nil)
        try socket.onDatagrams { [weak socket] _ in
            guard let socket else { return }
            inHandler.signal()
            proceed.wait()
            socket.close()  // must not wait for this very handler
            fdOpenAfterClose.value = isOpen(fd, port: target.port)
        }
        let dispatchResult = Box("still dispatching")
        let dispatched = expectation(description: "dispatch returned")
        Thread {
            dispatchResult.value = Self.outcome { try socket.dispatch() }
            dispatched.fulfill()
        }.start()
        inHandler.wait()
        let waiterOutcome = Box("still waiting")
        let waited = expectation(description: "the queued wait returned")
        Thread {
            waiterOutcome.value = Self.outcome { _ = try socket.wait() }
            waited.fulfill()
        }.start()
        Thread.sleep(forTimeInterval: 0.1)
        proceed.signal()
        wait(for: [dispatched, waited], timeout: Self.hangGuard)
        XCTAssertEqual(dispatchResult.value, "returned without an error")
        XCTAssertEqual(fdOpenAfterClose.value, true, "the handler's own dispatch is still in progress")
        XCTAssertFalse(isOpen(fd, port: target.port), "closed once dispatch returned")
        XCTAssertEqual(waiterOutcome.value, "EBADF")
    }

    // MARK: - shutdown()

    func testEveryCallAfterShutdownThrowsEBADF() throws {
        let socket = try socket(.inline)
        let target = socket.localAddress
        let fd = try socket.fileDescriptor
        socket.shutdown()
        socket.shutdown()  // idempotent
        XCTAssertTrue(socket.isClosed)

        assertThrows(EBADF, try socket.wait())  // forever: at once, not never
        assertEveryCallThrowsEBADF(socket, local: target)

        XCTAssertTrue(isOpen(fd, port: target.port), "shutdown frees nothing")
        closeGuarded(socket)
        XCTAssertFalse(isOpen(fd, port: target.port))
        socket.shutdown()  // after close: nothing to do
        XCTAssertTrue(socket.isClosed)
    }

    func testShutdownThenReleaseFreesTheSocket() throws {
        var socket: BatchUDPSocket? = try self.socket(.threaded)
        let fd = try socket!.fileDescriptor
        let port = socket!.localAddress.port
        socket!.shutdown()
        XCTAssertTrue(isOpen(fd, port: port))
        socket = nil
        XCTAssertFalse(isOpen(fd, port: port))
    }

    // MARK: - Timeouts still work

    func testFiniteWaitTimesOut() throws {
        let socket = try socket(.inline)
        XCTAssertFalse(try socket.wait(timeout: .zero))
        let clock = ContinuousClock()
        let start = clock.now
        XCTAssertFalse(try socket.wait(timeout: .milliseconds(30)))
        print("wait(timeout: 30 ms) returned false after \(clock.now - start)")
    }
}

/// A list of strings appended to from several threads.
private final class Log: Sendable {
    private let stored = Box<[String]>([])

    func append(_ item: String) { stored.modify { $0.append(item) } }

    var items: [String] { stored.value }
}
