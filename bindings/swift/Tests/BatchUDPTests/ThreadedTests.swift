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
        let target = try b.localAddress
        try sendAll(a, data.map { OutgoingDatagram($0, to: target) })
        let got = try receive(300, from: b)
        XCTAssertEqual(got.map(\.data), data)
        let stats = try b.stats
        XCTAssertEqual(stats.rxDatagrams + stats.rxDropped, 300)
    }

    func testThreadedStream() async throws {
        let b = try threadedSocket { $0.ringCapacity = 64 }
        let a = try loopbackSocket()
        let target = try b.localAddress
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
            var count = 0
            for try await _ in b.datagrams {
                count += 1
            }
            return count
        }
        // Whether the consumer is already asleep or not, close() ends it.
        try await Task.sleep(for: .milliseconds(50))
        b.close()
        let count = try await value(of: consumer)
        XCTAssertEqual(count, 0)
    }
}
