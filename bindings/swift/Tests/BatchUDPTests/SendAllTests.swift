@testable import BatchUDP
import Foundation
import XCTest

/// sendAll: everything sent once, in order; waiting for writability; woken
/// by close and by cancellation.
///
/// A UDP socket on loopback is practically never full (the kernel hands
/// each datagram to the receiver within the send call), nor is its
/// interface's queue, so the EAGAIN and ENOBUFS paths are driven through
/// the binding's seams: the loop with a send that refuses some rounds, and
/// the writability wait on a pipe filled to the brim.
final class SendAllTests: XCTestCase {
    func testSendAllSendsEverythingInOrder() async throws {
        var options = BatchUDPSocket.Options()
        options.recvBuffer = 1 << 20
        let a = try loopbackSocket()
        let b = try loopbackSocket(options: options)
        let data = payloads(300, prefix: "all ")
        try await a.sendAll(data.map { OutgoingDatagram($0, to: b.localAddress) })
        XCTAssertEqual(a.stats.txDatagrams, 300)
        XCTAssertEqual(try receive(300, from: b).map(\.data), data)

        // The payload form, to one peer.
        try await a.sendAll(payloads(3, prefix: "to one "), to: b.localAddress)
        XCTAssertEqual(try receive(3, from: b).map(\.data), payloads(3, prefix: "to one "))
        try await a.sendAll([OutgoingDatagram]())
        XCTAssertEqual(a.stats.txDatagrams, 303)
    }

    /// When a round sends nothing (EAGAIN), the task waits for writability
    /// and the next round starts at the first datagram not sent: every
    /// datagram arrives once, in order.
    func testSendAllResumesWhereTheKernelStopped() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let data = payloads(20, prefix: "resume ")
        let datagrams = data.map { OutgoingDatagram($0, to: b.localAddress) }
        // In a task, so that a loop that never ends fails the test (the
        // hang guard cancels it) instead of hanging it.
        let sending = Task {
            var rounds: [Int] = []  // the first index of each round
            var refuse = true
            try await a.sendAll(datagrams[...]) { rest in
                rounds.append(rest.startIndex)
                refuse.toggle()
                if !refuse {  // every other round: a full buffer
                    throw BatchUDPError(code: -EAGAIN, operation: "budp_send")
                }
                return try a.send(rest.prefix(3))  // the kernel takes 3
            }
            return rounds
        }
        let rounds = try await value(of: sending, within: .seconds(10))
        XCTAssertEqual(try receive(20, from: b).map(\.data), data)
        XCTAssertEqual(rounds, [0, 0, 3, 3, 6, 6, 9, 9, 12, 12, 15, 15, 18, 18])
        XCTAssertEqual(a.stats.txDatagrams, 20)
    }

    /// When a round is refused with ENOBUFS (a full interface queue, which
    /// leaves the socket writable), the task sleeps, 1 ms doubling to
    /// 16 ms, and the next round starts at the first datagram not sent.
    func testSendAllSleepsOutAFullInterfaceQueue() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let data = payloads(20, prefix: "nobufs ")
        let datagrams = data.map { OutgoingDatagram($0, to: b.localAddress) }
        let clock = ContinuousClock()
        let started = clock.now
        let sending = Task {
            var rounds: [Int] = []  // the first index of each round
            try await a.sendAll(datagrams[...]) { rest in
                rounds.append(rest.startIndex)
                // Refused three times at first, then once after each send
                // of 8, which starts the sleeps over at 1 ms.
                let refused = rounds.count <= 3 || rounds.count == 5 || rounds.count == 7
                if refused {
                    throw BatchUDPError(code: -ENOBUFS, operation: "budp_send")
                }
                return try a.send(rest.prefix(8))
            }
            return rounds
        }
        let rounds = try await value(of: sending, within: .seconds(10))
        let elapsed = clock.now - started
        XCTAssertEqual(rounds, [0, 0, 0, 0, 8, 8, 16, 16])
        XCTAssertEqual(try receive(20, from: b).map(\.data), data)
        XCTAssertEqual(a.stats.txDatagrams, 20, "none sent twice")
        // Slept 1 + 2 + 4, then 1 and 1 ms.
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(9))
        XCTAssertEqual(a.state.withLock { $0.waits.count }, 0, "no writability wait")
    }

    func testSendAllBackoffDoublesUpTo16Milliseconds() {
        var backoff = SendBackoff()
        let delays = (0..<7).map { _ in backoff.nextDelay() }
        XCTAssertEqual(delays, [1, 2, 4, 8, 16, 16, 16].map { .milliseconds($0) })
        backoff.reset()
        XCTAssertEqual(backoff.nextDelay(), .milliseconds(1))
    }

    /// Refused with ENOBUFS for good: cancelling the task ends the sleeps
    /// with CancellationError, a shutdown with EBADF (from the next round).
    func testSendAllRefusedWithENOBUFSEndsOnCancelAndShutdown() async throws {
        let a = try loopbackSocket()
        let target = a.localAddress
        let datagrams = [OutgoingDatagram(Data("x".utf8), to: target)]
        let refuse: @Sendable (ArraySlice<OutgoingDatagram>) throws -> Int = { rest in
            // The real send once stopped: it throws EBADF.
            if a.isClosed { return try a.send(rest) }
            throw BatchUDPError(code: -ENOBUFS, operation: "budp_send")
        }

        let cancelled = Task { try await a.sendAll(datagrams[...], using: refuse) }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        do {
            try await value(of: cancelled, within: .seconds(10))
            XCTFail("sent while refused")
        } catch is CancellationError {}

        let stopped = Task { try await a.sendAll(datagrams[...], using: refuse) }
        try await Task.sleep(for: .milliseconds(50))
        a.close()
        do {
            try await value(of: stopped, within: .seconds(10))
            XCTFail("sent on a closed socket")
        } catch let error as BatchUDPError {
            XCTAssertEqual(error.code, .EBADF)
        }
    }

    func testSendAllOnAStoppedSocketThrowsEBADF() async throws {
        for stop in [{ (s: BatchUDPSocket) in s.shutdown() }, { (s: BatchUDPSocket) in s.close() }] {
            let a = try loopbackSocket()
            let target = a.localAddress
            stop(a)
            do {
                try await a.sendAll([OutgoingDatagram(Data("x".utf8), to: target)])
                XCTFail("sent on a stopped socket")
            } catch let error as BatchUDPError {
                XCTAssertEqual(error.code, .EBADF)
            }
        }
    }

    func testSendAllInACancelledTaskSendsNothing() async throws {
        let a = try loopbackSocket()
        let target = a.localAddress
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await a.sendAll([OutgoingDatagram(Data("x".utf8), to: target)])
        }
        do {
            try await task.value
            XCTFail("sent in a cancelled task")
        } catch is CancellationError {}
        XCTAssertEqual(a.stats.txDatagrams, 0)
    }

    func testSendAllReportsTheFirstDatagramsError() async throws {
        let a = try loopbackSocket()
        do {
            try await a.sendAll([OutgoingDatagram(Data("no peer".utf8))])
            XCTFail("sent without a peer on an unconnected socket")
        } catch let error as BatchUDPError {
            XCTAssertEqual(error.code, .EDESTADDRREQ)
        }
    }

    // MARK: - The writability wait

    /// A pipe whose write end is full: not writable until read from.
    private final class FullPipe: Sendable {
        let readEnd: Int32
        let writeEnd: Int32

        init() throws {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw BatchUDPError(code: errno, operation: "pipe") }
            (readEnd, writeEnd) = (ends[0], ends[1])
            for fd in ends {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
            let chunk = [UInt8](repeating: 0, count: 4096)
            while chunk.withUnsafeBytes({ write(writeEnd, $0.baseAddress, $0.count) }) > 0 {}
        }

        func drain() {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while buffer.withUnsafeMutableBytes({ read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
        }

        deinit {
            closeDescriptor(readEnd)
            closeDescriptor(writeEnd)
        }
    }

    /// How a writability wait ended: "ready", "EBADF", "cancelled".
    private static func waitOutcome(_ socket: BatchUDPSocket, on fd: Int32) async -> String {
        do {
            try await socket.waitUntil(.writable, descriptor: fd)
            return "ready"
        } catch let error as BatchUDPError {
            return error.code == .EBADF ? "EBADF" : "\(error)"
        } catch is CancellationError {
            return "cancelled"
        } catch {
            return "\(error)"
        }
    }

    /// Starts a wait on the full pipe and checks that it does not end by
    /// itself: a wait that returned at once fails here.
    private func startWait(_ socket: BatchUDPSocket, _ full: FullPipe,
                           line: UInt = #line) async throws -> Task<String, Never> {
        let task = Task { await SendAllTests.waitOutcome(socket, on: full.writeEnd) }
        try await eventually(line: line) { socket.state.withLock { $0.waits.count } == 1 }
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(socket.state.withLock { $0.waits.count }, 1, "the wait is pending", line: line)
        return task
    }

    func testWaitEndsWhenTheDescriptorBecomesWritable() async throws {
        let socket = try loopbackSocket()
        let full = try FullPipe()
        let waiting = try await startWait(socket, full)
        full.drain()
        let outcome = try await value(of: waiting, within: .seconds(10))
        XCTAssertEqual(outcome, "ready")
        socket.close()  // the wait let go of the descriptor: does not hang
    }

    func testCloseWakesAWriterWithEBADF() async throws {
        let socket = try loopbackSocket()
        let fd = try socket.fileDescriptor
        let port = socket.localAddress.port
        let full = try FullPipe()
        let waiting = try await startWait(socket, full)
        let closed = Box(false)
        Thread {
            socket.close()
            closed.value = true
        }.start()
        let outcome = try await value(of: waiting, within: .seconds(10))
        XCTAssertEqual(outcome, "EBADF")
        try await eventually(within: .seconds(10)) { closed.value }
        XCTAssertFalse(isOpen(fd, port: port))
        // The source is cancelled: nothing watches the pipe any more.
        XCTAssertEqual(socket.state.withLock { $0.users }, 0)
    }

    func testCancellingAWriterWait() async throws {
        let socket = try loopbackSocket()
        let full = try FullPipe()
        let waiting = try await startWait(socket, full)
        waiting.cancel()
        let outcome = try await value(of: waiting, within: .seconds(10))
        XCTAssertEqual(outcome, "cancelled")
        XCTAssertFalse(socket.isClosed, "cancelling a wait leaves the socket open")
        try await eventually { socket.state.withLock { $0.users } == 0 }
    }
}
