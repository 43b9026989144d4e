import BatchUDP
import Foundation
import XCTest

final class ThreadedTests: XCTestCase {
    /// A socket with a receiver thread, or a skip saying why there is none.
    private func threadedSocket(_ configure: (inout BatchUDPSocket.Options) -> Void = { _ in })
        throws -> BatchUDPSocket {
        var options = BatchUDPSocket.Options()
        options.threaded = true
        configure(&options)
        do {
            return try loopbackSocket(options: options)
        } catch let error as BatchUDPError where error.errorNumber == ENOTSUP {
            throw XCTSkip("threaded mode not available in this build of the library: \(error)")
        }
    }

    func testThreadedRoundTrip() throws {
        let b = try threadedSocket()
        XCTAssertNotEqual(try b.pollFileDescriptor, try b.fileDescriptor,
                          "threaded mode polls the notify descriptor")
        let a = try loopbackSocket()
        let data = payloads(300, prefix: "threaded ")
        let target = b.localAddress
        try sendAll(a, data.map { OutgoingDatagram($0, to: target) })
        let got = try receive(300, from: b)
        XCTAssertEqual(got.map(\.data), data)
        let stats = b.stats
        XCTAssertEqual(stats.rxDatagrams + stats.rxDropped, 300)
    }

    func testThreadedStream() async throws {
        let b = try threadedSocket { $0.ringCapacity = 64 }
        let a = try loopbackSocket()
        let target = b.localAddress
        let data = payloads(200, prefix: "ring ")
        let sender = Task.detached {
            for group in stride(from: 0, to: data.count, by: 10) {
                try sendAll(a, data[group..<group + 10].map { OutgoingDatagram($0, to: target) })
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        let consumer = Task {
            var got: [Data] = []
            for try await datagram in b.datagrams {
                got.append(datagram.data)
                if got.count == data.count {
                    break
                }
            }
            return got
        }
        try await value(of: sender)
        let got = try await value(of: consumer)
        XCTAssertEqual(got, data)
    }

    func testCloseWhileThreadedStreamWaits() async throws {
        let b = try threadedSocket()
        let consumer = Task {
            do {
                for try await _ in b.datagrams {
                    return "a datagram"
                }
                return "ended"
            } catch let error as BatchUDPError where error.code == .EBADF {
                return "EBADF"
            }
        }
        // Whether the consumer is already asleep or not, close() ends its
        // loop.
        try await Task.sleep(for: .milliseconds(50))
        b.close()
        let outcome = try await value(of: consumer)
        XCTAssertEqual(outcome, "ended")
    }

    /// A ring over the library's memory limit (65536 GRO slots of 64 KiB:
    /// 4 GiB) is refused; the automatic size (0, the default) is not.
    func testRingOverTheMemoryLimitIsRefused() throws {
        XCTAssertEqual(BatchUDPSocket.Options().ringCapacity, 0)
        _ = try threadedSocket()
        do {
            _ = try threadedSocket {
                $0.ringCapacity = 65536
                $0.gro = true
            }
            XCTFail("a 4 GiB ring was accepted")
        } catch let error as BatchUDPError {
            XCTAssertEqual(error.errorNumber, EINVAL, "\(error)")
        }
    }

    /// The trampoline answers BUDP_CALLBACK_CONTINUE: after a batch the
    /// receiver thread goes on reading (a PAUSE would leave the second
    /// datagram in the kernel's queue).
    func testCallbackThreadKeepsReadingAfterABatch() throws {
        let b = try threadedSocket { $0.callbackThread = true }
        defer { b.close() }
        let counter = Counter()
        let first = expectation(description: "the first datagram")
        let second = expectation(description: "the second datagram")
        try b.onDatagrams { batch in
            counter.add(batch.map { Data($0.bytes) })
            switch counter.count {
            case 1: first.fulfill()
            case 2: second.fulfill()
            default: break
            }
        }
        let a = try loopbackSocket()
        let target = b.localAddress
        try a.send(Data("first".utf8), to: target)
        wait(for: [first], timeout: 10)
        try a.send(Data("second".utf8), to: target)
        wait(for: [second], timeout: 10)
        XCTAssertEqual(counter.received, [Data("first".utf8), Data("second".utf8)])
    }

    /// In callback-thread mode wait() reports the receiver thread's errors.
    func testCallbackThreadWaitReportsReceiverErrors() throws {
        let b = try threadedSocket { $0.callbackThread = true }
        defer { b.close() }
        let counter = Counter()
        let arrived = expectation(description: "the handler still receives")
        arrived.assertForOverFulfill = false
        try b.onDatagrams { batch in
            counter.add(batch.map { Data($0.bytes) })
            arrived.fulfill()
        }
        // Nothing wrong yet: a wait times out, never "ready".
        XCTAssertFalse(try b.wait(timeout: .milliseconds(20)))

        // A port nobody listens on: the ICMP port-unreachable reaches the
        // receiver thread, which hands the error to wait.  A send may take
        // it first; bounded by attempts, not by time.
        let gone = try loopbackSocket()
        let closedPort = gone.localAddress.port
        gone.close()
        try b.connect(host: "127.0.0.1", port: closedPort)
        var refused: BatchUDPError?
        for _ in 0..<50 where refused == nil {
            do {
                try b.send(Data("anyone?".utf8))
            } catch let error as BatchUDPError
                where [ECONNREFUSED, EAGAIN].contains(error.errorNumber) {
                continue
            }
            do {
                let ready = try b.wait(timeout: .milliseconds(100))
                XCTAssertFalse(ready, "wait said ready in callback-thread mode")
            } catch let error as BatchUDPError {
                refused = error
            }
        }
        XCTAssertEqual(refused?.errorNumber, ECONNREFUSED, "\(String(describing: refused))")
        XCTAssertGreaterThanOrEqual(b.stats.rxErrors, 1)

        // Transient: the receiver thread goes on.
        let a = try loopbackSocket()
        try b.connect(host: "127.0.0.1", port: a.localAddress.port)
        try a.send(Data("still here".utf8), to: b.localAddress)
        wait(for: [arrived], timeout: 10)
        XCTAssertEqual(counter.received, [Data("still here".utf8)])
    }
}
