import BatchUDP
import Foundation
import XCTest

/// `batches` and `datagrams`: delivery, batch sizes, cancellation, errors,
/// and the socket's lifetime.  (Stopping the socket under them: CloseTests.)
final class StreamTests: XCTestCase {
    func testBatchesDeliverInOrder() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let target = b.localAddress
        let data = (0..<50).map { Data("batch \($0)".utf8) }
        // Sent from another task while the consumer waits, in small groups
        // so that it also sleeps between arrivals.
        let sender = Task.detached {
            for group in stride(from: 0, to: data.count, by: 5) {
                try sendAll(a, data[group..<group + 5].map { OutgoingDatagram($0, to: target) })
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        let consumer = Task {
            var batches: [[Data]] = []
            for try await batch in b.batches(maxPerReceive: 4) {
                batches.append(batch.map(\.data))
                if batches.joined().count == data.count {
                    break
                }
            }
            return batches
        }
        try await value(of: sender)
        let batches = try await value(of: consumer)
        XCTAssertEqual(Array(batches.joined()), data)
        XCTAssertTrue(batches.allSatisfy { (1...4).contains($0.count) }, "\(batches.map(\.count))")

        // The socket is still usable after the loop ended.
        try a.send(Data("after".utf8), to: target)
        XCTAssertEqual(try receive(1, from: b).first?.data, Data("after".utf8))
    }

    /// Without an argument, every receiving call takes up to the socket's
    /// batch size.
    func testReceivingDefaultsToTheBatchSize() async throws {
        var options = BatchUDPSocket.Options()
        options.batchSize = 8
        options.gro = false
        let a = try loopbackSocket()
        let b = try loopbackSocket(options: options)
        let target = b.localAddress
        // The sizes of the receives that take 20 datagrams sent at once,
        // waiting when one comes back empty.  Each is at most 8, and while
        // more than 8 are queued, exactly 8 (which the first receive finds,
        // unless the kernel was still delivering the rest).
        func sizes(_ receiveOnce: () async throws -> Int) async throws -> [Int] {
            try sendAll(a, payloads(20).map { OutgoingDatagram($0, to: target) })
            var sizes: [Int] = []
            while sizes.reduce(0, +) < 20 {
                let n = try await receiveOnce()
                if n == 0 {
                    XCTAssertTrue(try b.wait(timeout: .seconds(10)))
                } else {
                    sizes.append(n)
                }
            }
            return sizes
        }
        func check(_ sizes: [Int], _ call: String, line: UInt = #line) {
            XCTAssertEqual(sizes.reduce(0, +), 20, call, line: line)
            XCTAssertEqual(sizes.max(), 8, "\(call): \(sizes)", line: line)
        }

        check(try await sizes { try b.receive().count }, "receive()")
        check(try await sizes { try b.withReceivedDatagrams { $0.count } }, "withReceivedDatagrams")
        try b.onDatagrams { _ in }
        check(try await sizes { try b.dispatch() }, "dispatch()")
        try b.onDatagrams(nil)
        var iterator = b.batches.makeAsyncIterator()
        check(try await sizes { try await iterator.next()?.count ?? 0 }, "batches")
    }

    func testDatagramsFlattenTheBatches() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let target = b.localAddress
        let data = payloads(30, prefix: "flat ")
        try sendAll(a, data.map { OutgoingDatagram($0, to: target) })
        let consumer = Task {
            var got: [Data] = []
            for try await datagram in b.datagrams(maxPerReceive: 7) {
                got.append(datagram.data)
                if got.count == data.count {
                    break
                }
            }
            return got
        }
        let got = try await value(of: consumer)
        XCTAssertEqual(got, data)
    }

    func testBadBatchSizeThrows() async throws {
        let b = try loopbackSocket()
        var iterator = b.batches(maxPerReceive: 0).makeAsyncIterator()
        do {
            _ = try await iterator.next()
            XCTFail("maxPerReceive 0 accepted")
        } catch let error as BatchUDPError {
            XCTAssertEqual(error.code, .EINVAL)
        }
        let after = try await iterator.next()
        XCTAssertNil(after, "an iterator ends after its error")
    }

    /// Cancelling the task ends the sequence (nil), also while it sleeps;
    /// only the sequence ends, not the socket.
    func testCancellingTheTaskEndsTheSequence() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let progress = Box(0)
        let consumer = Task {
            for try await batch in b.batches {
                progress.value += batch.count
            }
            return progress.value
        }
        try a.send(Data("one".utf8), to: b.localAddress)
        try await eventually { progress.value == 1 }
        consumer.cancel()
        let count = try await value(of: consumer)
        XCTAssertEqual(count, 1)

        XCTAssertFalse(b.isClosed)
        try a.send(Data("two".utf8), to: b.localAddress)
        XCTAssertEqual(try receive(1, from: b).first?.data, Data("two".utf8))
        // The cancelled wait let go of the socket: close() does not hang.
        b.close()
        XCTAssertTrue(b.isClosed)
    }

    func testCloseFromAnotherThreadWhileStreamingBusily() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let target = b.localAddress
        let stop = Box(false)
        let sender = Thread {
            while !stop.value {
                _ = try? a.send(payloads(8), to: target)
            }
        }
        sender.start()
        defer { stop.value = true }
        let count = Box(0)
        let consumer = Task {
            do {
                for try await _ in b.datagrams {
                    count.value += 1
                    if count.value == 100 {
                        Thread { b.close() }.start()
                    }
                }
                return "ended"
            } catch let error as BatchUDPError where error.code == .EBADF {
                return "EBADF"
            }
        }
        let result = try await value(of: consumer)
        XCTAssertEqual(result, "ended")
        XCTAssertGreaterThanOrEqual(count.value, 100)
        XCTAssertTrue(b.isClosed)
    }

    func testAnIteratorKeepsItsSocket() async throws {
        let a = try loopbackSocket()
        var b: BatchUDPSocket? = try loopbackSocket()
        let fd = try b!.fileDescriptor
        let target = b!.localAddress
        let sequence = b!.datagrams
        b = nil  // the sequence holds the socket now
        XCTAssertTrue(isOpen(fd, port: target.port))

        let progress = Box(0)
        let consumer = Task {
            var got: [Data] = []
            for try await datagram in sequence {
                got.append(datagram.data)
                progress.value = got.count
                if got.count == 2 {
                    break
                }
            }
            return got
        }
        try a.send(Data("one".utf8), to: target)
        try await eventually { progress.value == 1 }
        // The next receive comes back empty: the iterator now sleeps on its
        // readiness wait until "two" arrives.
        try a.send(Data("two".utf8), to: target)
        let got = try await value(of: consumer)
        XCTAssertEqual(got, [Data("one".utf8), Data("two".utf8)])
        XCTAssertTrue(isOpen(fd, port: target.port), "the sequence value still holds the socket")
    }

    func testDroppingTheIteratorClosesAnUnreferencedSocket() async throws {
        let a = try loopbackSocket()
        let (fd, target, consumer) = try makeDetachedConsumer()
        try a.send(Data("one".utf8), to: target)
        try a.send(Data("two".utf8), to: target)
        let count = try await value(of: consumer)
        XCTAssertEqual(count, 2)
        // The sequence and its iterator are gone; the last wait's cancel
        // handler runs on the socket's queue and then drops the last
        // reference.  Bounded wait, not a timing assertion.
        try await eventually(within: .seconds(10)) { !isOpen(fd, port: target.port) }
    }

    /// A socket referenced only by a sequence that a task iterates for two
    /// datagrams.
    private func makeDetachedConsumer() throws -> (Int32, Address, Task<Int, Error>) {
        let socket = try loopbackSocket()
        let fd = try socket.fileDescriptor
        let target = socket.localAddress
        let sequence = socket.datagrams(maxPerReceive: 1)
        let consumer = Task {
            var count = 0
            for try await _ in sequence {
                count += 1
                if count == 2 {
                    break
                }
            }
            return count
        }
        return (fd, target, consumer)
    }

    func testBatchesErrorInCallbackThreadMode() async throws {
        var options = BatchUDPSocket.Options()
        options.threaded = true
        options.callbackThread = true
        let socket: BatchUDPSocket
        do {
            socket = try loopbackSocket(options: options)
        } catch let error as BatchUDPError where error.errorNumber == ENOTSUP {
            throw XCTSkip("threaded mode not available in this build of the library: \(error)")
        }
        do {
            for try await _ in socket.batches {
                XCTFail("a batch in callback-thread mode")
            }
            XCTFail("the sequence ended without an error")
        } catch let error as BatchUDPError {
            XCTAssertTrue([EINVAL, ENOTSUP].contains(error.errorNumber), "\(error)")
        }
    }
}
