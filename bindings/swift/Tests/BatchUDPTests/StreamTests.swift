import BatchUDP
import Foundation
import XCTest

final class StreamTests: XCTestCase {
    func testStreamDeliversDatagrams() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let target = try b.localAddress
        let data = (0..<50).map { Data("stream \($0)".utf8) }
        // Sent from another task while the stream waits, in small groups so
        // the stream also sleeps on its source between arrivals.
        let sender = Task.detached {
            for group in stride(from: 0, to: data.count, by: 5) {
                try sendAll(a, data[group..<group + 5].map { OutgoingDatagram($0, to: target) })
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        let consumer = Task {
            var got: [Data] = []
            for try await datagram in b.datagrams(maxPerReceive: 4) {
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

        // The socket is still usable after the loop ended.
        try a.send(Data("after".utf8), to: target)
        XCTAssertEqual(try receive(1, from: b).first?.data, Data("after".utf8))
    }

    func testCloseEndsTheStream() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let fd = try b.fileDescriptor
        let port = try b.localAddress.port
        let progress = Box(0)
        let consumer = Task {
            for try await _ in b.datagrams {
                progress.value += 1
            }
            return progress.value
        }
        try a.send(Data("one".utf8), to: try b.localAddress)
        try await eventually { progress.value == 1 }
        // The consumer now sleeps on the poll descriptor.
        b.close()
        let count = try await value(of: consumer)  // ends without an error
        XCTAssertEqual(count, 1)
        XCTAssertFalse(isOpen(fd, port: port))
        assertThrows(EBADF, try b.receive())
    }

    func testCloseFromAnotherThreadWhileStreamingBusily() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let target = try b.localAddress
        let stop = Box(false)
        let sender = Thread {
            while !stop.value {
                _ = try? a.send(payloads(8), to: target)
            }
        }
        sender.start()
        defer { stop.value = true }
        let consumer = Task {
            var count = 0
            for try await _ in b.datagrams {
                count += 1
                if count == 100 {
                    b.close()
                }
            }
            return count
        }
        let count = try await value(of: consumer)
        XCTAssertGreaterThanOrEqual(count, 100)
        XCTAssertTrue(b.isClosed)
    }

    func testCancellingTheTaskEndsTheStream() async throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let progress = Box(0)
        let consumer = Task {
            for try await _ in b.datagrams {
                progress.value += 1
            }
            return progress.value
        }
        try a.send(Data("one".utf8), to: try b.localAddress)
        try await eventually { progress.value == 1 }
        consumer.cancel()
        let count = try await value(of: consumer)
        XCTAssertEqual(count, 1)

        // Only the stream ended: the socket still works.
        XCTAssertFalse(b.isClosed)
        try a.send(Data("two".utf8), to: try b.localAddress)
        XCTAssertEqual(try receive(1, from: b).first?.data, Data("two".utf8))
    }

    func testReleasedStreamReleasesTheSocket() async throws {
        let a = try loopbackSocket()
        var b: BatchUDPSocket? = try loopbackSocket()
        let fd = try b!.fileDescriptor
        let target = try b!.localAddress
        let stream = b!.datagrams
        b = nil  // the stream holds the socket now
        XCTAssertTrue(isOpen(fd, port: target.port))

        let progress = Box(0)
        let consumer = Task {
            var got: [Data] = []
            for try await datagram in stream {
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
        // The first receive came back short: the stream now starts its
        // source and sleeps on it until "two" arrives.
        try a.send(Data("two".utf8), to: target)
        let got = try await value(of: consumer)
        XCTAssertEqual(got, [Data("one".utf8), Data("two".utf8)])
        XCTAssertTrue(isOpen(fd, port: target.port), "the stream value still holds the socket")
    }

    func testDroppingTheStreamClosesAnUnreferencedSocket() async throws {
        let a = try loopbackSocket()
        let (fd, target, consumer) = try makeDetachedStreamConsumer()
        try a.send(Data("one".utf8), to: target)
        try a.send(Data("two".utf8), to: target)
        let count = try await value(of: consumer)
        XCTAssertEqual(count, 2)
        // The stream and its iterator are gone: the source's cancel handler
        // runs on its queue and then drops the last reference to the socket.
        // Bounded wait, not a timing assertion.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while isOpen(fd, port: target.port) && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertFalse(isOpen(fd, port: target.port))
    }

    /// A socket referenced only by a stream that a task iterates for two
    /// datagrams.
    private func makeDetachedStreamConsumer() throws -> (Int32, Address, Task<Int, Error>) {
        let socket = try loopbackSocket()
        let fd = try socket.fileDescriptor
        let target = try socket.localAddress
        let stream = socket.datagrams(maxPerReceive: 1)
        let consumer = Task {
            var count = 0
            for try await _ in stream {
                count += 1
                if count == 2 {
                    break
                }
            }
            return count
        }
        return (fd, target, consumer)
    }

    func testStreamErrorInCallbackThreadMode() async throws {
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
            for try await _ in socket.datagrams {
                XCTFail("a datagram in callback-thread mode")
            }
            XCTFail("the stream ended without an error")
        } catch let error as BatchUDPError {
            XCTAssertTrue([EINVAL, ENOTSUP].contains(error.errorNumber), "\(error)")
        }
    }
}
