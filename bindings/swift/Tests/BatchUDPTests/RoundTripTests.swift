import BatchUDP
import CBatchUDP
import Foundation
import XCTest

final class RoundTripTests: XCTestCase {
    func testLibraryVersion() {
        XCTAssertTrue(BatchUDPLibrary.isLoadedLibraryCompatible,
                      "library \(BatchUDPLibrary.version)")
        XCTAssertEqual(BatchUDPLibrary.versionNumber >> 16, BatchUDPLibrary.expectedMajorVersion)
        XCTAssertEqual((BatchUDPLibrary.versionNumber >> 8) & 0xff,
                       BatchUDPLibrary.expectedMinorVersion)
        // The binding follows the header it is built against.
        XCTAssertEqual(BatchUDPLibrary.expectedMajorVersion, UInt32(BUDP_VERSION_MAJOR))
        XCTAssertEqual(BatchUDPLibrary.expectedMinorVersion, UInt32(BUDP_VERSION_MINOR))
        XCTAssertEqual(BatchUDPLibrary.version.split(separator: ".").prefix(2).joined(separator: "."),
                       "0.2")
    }

    /// budp_datagram's 0.2.0 layout as Swift imports it from the header.
    func testDatagramLayout() throws {
        guard MemoryLayout<Int>.size == 8 else {
            throw XCTSkip("the documented offsets are those of 64-bit platforms")
        }
        XCTAssertEqual(MemoryLayout<budp_datagram>.size, 96)
        XCTAssertEqual(MemoryLayout<budp_datagram>.stride, 96)
        XCTAssertEqual(MemoryLayout<budp_datagram>.offset(of: \.time_ns), 64)
        XCTAssertEqual(MemoryLayout<budp_datagram>.offset(of: \.segment_size), 72)
        XCTAssertEqual(MemoryLayout<budp_datagram>.offset(of: \.ecn), 74)
        XCTAssertEqual(MemoryLayout<budp_datagram>.offset(of: \.reserved), 75)
        XCTAssertEqual(MemoryLayout.size(ofValue: budp_datagram().reserved), 21)
        XCTAssertEqual(BUDP_CALLBACK_CONTINUE, 0)
        XCTAssertEqual(BUDP_CALLBACK_PAUSE, 1)
    }

    /// A non-zero time_ns (pacing is off by default) or reserved byte is
    /// refused; the zeroed datagram the binding builds goes.
    func testSendRefusesTimeAndReservedFields() throws {
        var raw: OpaquePointer?
        XCTAssertEqual(budp_bind(&raw, "127.0.0.1", 0, nil), 0)
        let socket = try XCTUnwrap(raw)
        defer { budp_close(socket) }
        var me = budp_addr()
        XCTAssertEqual(budp_local_addr(socket, &me), 0)
        let payload: [UInt8] = [1]
        payload.withUnsafeBufferPointer { bytes in
            var d = budp_datagram()
            d.data = bytes.baseAddress
            d.len = 1
            d.peer = me
            XCTAssertEqual(budp_send(socket, &d, 1), 1)
            var timed = d
            timed.time_ns = 1
            XCTAssertEqual(budp_send(socket, &timed, 1), -EINVAL)
            var reserved = d
            reserved.reserved.20 = 1
            XCTAssertEqual(budp_send(socket, &reserved, 1), -EINVAL)
        }
    }

    func testOptionDefaultsMirrorTheLibrary() throws {
        let options = BatchUDPSocket.Options()
        let expected: [(Int, Int64, String)] = [
            (BUDP_OPT_BATCH_SIZE, Int64(options.batchSize), "batchSize"),
            (BUDP_OPT_MAX_DATAGRAM, Int64(options.maxDatagram), "maxDatagram"),
            (BUDP_OPT_BACKEND, options.backend.rawValue, "backend"),
            (BUDP_OPT_THREADED, options.threaded ? 1 : 0, "threaded"),
            (BUDP_OPT_RING_CAPACITY, Int64(options.ringCapacity), "ringCapacity"),
            (BUDP_OPT_OVERFLOW, options.overflow.rawValue, "overflow"),
            (BUDP_OPT_GRO, options.gro ? 1 : 0, "gro"),
            (BUDP_OPT_GSO, options.gso ? 1 : 0, "gso"),
            (BUDP_OPT_PKTINFO, options.pktinfo ? 1 : 0, "pktinfo"),
            (BUDP_OPT_ECN, options.ecn ? 1 : 0, "ecn"),
            (BUDP_OPT_RECV_BUFFER, Int64(options.recvBuffer), "recvBuffer"),
            (BUDP_OPT_CALLBACK_THREAD, options.callbackThread ? 1 : 0, "callbackThread"),
            (BUDP_OPT_ZEROCOPY, options.zerocopy ? 1 : 0, "zerocopy"),
        ]
        for (key, value, name) in expected {
            var libraryDefault: Int64 = -1
            XCTAssertEqual(budp_options_bounds(Int32(key), nil, nil, &libraryDefault), 0, name)
            XCTAssertEqual(value, libraryDefault, "default of \(name)")
        }
    }

    private func roundTrip(_ sender: BatchUDPSocket, _ receiver: BatchUDPSocket) throws {
        let target = receiver.localAddress
        let data = payloads(5, prefix: "round trip ")
        XCTAssertEqual(try sender.send(data, to: target), 5)

        let got = try receive(5, from: receiver)
        XCTAssertEqual(got.map(\.data), data)
        let source = sender.localAddress
        for datagram in got {
            XCTAssertEqual(datagram.peer, source)
            XCTAssertFalse(datagram.isTruncated)
        }
        let sent = sender.stats
        let received = receiver.stats
        XCTAssertEqual(sent.txDatagrams, 5)
        XCTAssertEqual(received.rxDatagrams, 5)
        XCTAssertEqual(received.rxBytes, UInt64(data.reduce(0) { $0 + $1.count }))
    }

    func testRoundTripIPv4() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        XCTAssertEqual(b.localAddress.family, .ipv4)
        XCTAssertEqual(b.localAddress.host, "127.0.0.1")
        XCTAssertTrue(["mmsg", "msgx", "loop"].contains(a.backendName))
        XCTAssertTrue(a.backendReason.hasPrefix(a.backendName + ": "), a.backendReason)
        XCTAssertGreaterThan(a.backendReason.count, a.backendName.count + 2)
        try roundTrip(a, b)
        XCTAssertEqual(a.stats.txUnconfirmed, 0, "only Apple's sendmsg_x leaves sends unconfirmed")
    }

    func testRoundTripIPv6() throws {
        let a = try ipv6LoopbackSocket()
        let b = try ipv6LoopbackSocket()
        let local = b.localAddress
        XCTAssertEqual(local.family, .ipv6)
        XCTAssertEqual(local.host, "::1")
        XCTAssertEqual(local.bytes, [UInt8](repeating: 0, count: 15) + [1])
        try roundTrip(a, b)
    }

    func testEveryBackendOption() throws {
        for backend in BatchUDPSocket.Options.Backend.allCases {
            var options = BatchUDPSocket.Options()
            options.backend = backend
            let socket: BatchUDPSocket
            do {
                socket = try loopbackSocket(options: options)
            } catch let error as BatchUDPError
                where error.errorNumber == ENOTSUP || (backend == .uring && error.errorNumber == EPERM) {
                continue  // not here (msgx outside Apple, uring without liburing or forbidden)
            }
            let peer = try loopbackSocket()
            try roundTrip(peer, socket)
            try roundTrip(socket, peer)
            if backend != .auto {
                XCTAssertEqual(socket.backendName, "\(backend)")
                XCTAssertTrue(socket.backendReason.hasPrefix("\(backend): "), socket.backendReason)
                XCTAssertTrue(socket.backendReason.contains("asked for"), socket.backendReason)
            }
        }
    }

    func testZeroCopyViews() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        try a.send(payloads(3), to: b.localAddress)
        XCTAssertTrue(try b.wait(timeout: .seconds(10)))

        var seen: [[UInt8]] = []
        let source = a.localAddress
        while seen.count < 3 {
            let n = try b.withReceivedDatagrams(max: 3) { batch -> Int in
                for view in batch {
                    seen.append(Array(view.bytes))
                    XCTAssertEqual(view.peer, source)
                    XCTAssertEqual(Datagram(view).data, Data(view.bytes))
                }
                return batch.count
            }
            if n == 0 {
                XCTAssertTrue(try b.wait(timeout: .seconds(10)))
            }
        }
        XCTAssertEqual(seen, payloads(3).map { Array($0) })
    }

    func testEchoFromInsideTheReceiveClosure() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        try a.send(Data("ping".utf8), to: b.localAddress)
        XCTAssertTrue(try b.wait(timeout: .seconds(10)))
        let echoed = try b.withReceivedDatagrams { batch in
            try b.send(batch.map { OutgoingDatagram(Data($0.bytes), to: $0.peer) })
        }
        XCTAssertEqual(echoed, 1)
        XCTAssertEqual(try receive(1, from: a).first?.data, Data("ping".utf8))
    }

    func testConnectedSocketSendsWithoutDestination() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let target = b.localAddress
        try a.connect(host: target.host, port: target.port)
        try a.send(Data("connected".utf8))
        XCTAssertEqual(try receive(1, from: b).first?.data, Data("connected".utf8))
    }

    func testConnectWhileAnotherThreadSends() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let c = try loopbackSocket()
        let toB = b.localAddress
        let toC = c.localAddress
        let stop = Box(false)
        let sent = Box(0)
        let sender = Thread {
            while !stop.value {
                sent.value += (try? a.send(payloads(4, prefix: "to b "), to: toB)) ?? 0
            }
        }
        sender.start()
        defer { stop.value = true }
        // Sends with a destination go on while the socket gets connected;
        // afterwards a send without one goes to the connected peer.
        try a.connect(host: toC.host, port: toC.port)
        try a.send(Data("connected".utf8))
        XCTAssertEqual(try receive(1, from: c).first?.data, Data("connected".utf8))
    }

    func testManyDatagramsInOneSendCall() throws {
        // More than a batch: the binding sends in chunks of batchSize; equal
        // sizes take the GSO path on Linux, and GRO may coalesce them.
        var options = BatchUDPSocket.Options()
        options.recvBuffer = 1 << 20
        let a = try loopbackSocket()
        let b = try loopbackSocket(options: options)
        let data = (0..<100).map { Data(repeating: UInt8($0), count: 1200) }
        let target = b.localAddress
        try sendAll(a, data.map { OutgoingDatagram($0, to: target) })
        let got = try receive(100, from: b)
        XCTAssertEqual(got.map(\.data), data)
        XCTAssertEqual(a.stats.txDatagrams, 100)
    }

    func testLargeSendOnADispatchThread() throws {
        // batchSize 1024: the binding still hands the library at most 64
        // pinned payloads per call, on a thread with a small stack.
        var options = BatchUDPSocket.Options()
        options.batchSize = 1024
        let a = try loopbackSocket(options: options)
        var receiverOptions = BatchUDPSocket.Options()
        receiverOptions.recvBuffer = 4 << 20
        let b = try loopbackSocket(options: receiverOptions)
        let target = b.localAddress
        let data = (0..<300).map { Data("large send \($0)".utf8) }
        let result = Box<Result<Int, BatchUDPError>>(.success(0))
        let done = expectation(description: "sent")
        DispatchQueue.global().async {
            do {
                try sendAll(a, data.map { OutgoingDatagram($0, to: target) })
                result.value = .success(data.count)
            } catch {
                result.value = .failure(error as? BatchUDPError
                    ?? BatchUDPError(code: -EIO, operation: "\(error)"))
            }
            done.fulfill()
        }
        wait(for: [done], timeout: 30)
        XCTAssertEqual(try result.value.get(), 300)
        XCTAssertEqual(try receive(300, from: b).map(\.data), data)
    }

    func testTruncatedDatagramIsFlagged() throws {
        var options = BatchUDPSocket.Options()
        options.maxDatagram = 16
        options.gro = false
        let a = try loopbackSocket()
        let b = try loopbackSocket(options: options)
        try a.send(Data(repeating: 7, count: 100), to: b.localAddress)
        let got = try receive(1, from: b)
        XCTAssertEqual(got.first?.isTruncated, true)
        XCTAssertEqual(got.first?.data, Data(repeating: 7, count: 16))
        XCTAssertEqual(b.stats.rxTruncated, 1)
    }

    func testPacketInfoReportsTheLocalAddress() throws {
        var options = BatchUDPSocket.Options()
        options.pktinfo = true
        options.ecn = true
        let a = try loopbackSocket()
        let b = try loopbackSocket(options: options)
        try a.send(Data("where".utf8), to: b.localAddress)
        let got = try XCTUnwrap(try receive(1, from: b).first)
        XCTAssertTrue(got.flags.contains(.hasLocal))
        XCTAssertEqual(got.local?.host, "127.0.0.1")
        if got.flags.contains(.hasECN) {
            XCTAssertEqual(got.ecn, 0)
        }
        XCTAssertNil(got.timeNs, "timestamps are off")
        XCTAssertNil(got.time)
        XCTAssertFalse(got.flags.contains(.hasTime))
        // Room enough for the control data.
        XCTAssertFalse(got.flags.contains(.controlTruncated))
        let stats = b.stats
        XCTAssertEqual(stats.rxControlTruncated, 0)
        XCTAssertEqual(stats.kernelAnomalies, 0)
    }

    func testFlagsMirrorTheLibrary() {
        let flags: [(Datagram.Flags, UInt32)] = [
            (.truncated, 0x1), (.coalesced, 0x2), (.hasLocal, 0x4), (.hasECN, 0x8),
            (.controlTruncated, 0x10), (.hasTime, 0x20),
        ]
        for (flag, value) in flags {
            XCTAssertEqual(flag.rawValue, value)
        }
        XCTAssertEqual(Datagram.Flags.controlTruncated.rawValue, BUDP_DGRAM_CONTROL_TRUNCATED)
    }

    func testAddresses() throws {
        let v4 = try Address(host: "192.0.2.1", port: 53)
        XCTAssertEqual(v4.family, .ipv4)
        XCTAssertEqual(v4.bytes, [192, 0, 2, 1])
        XCTAssertEqual(v4.description, "192.0.2.1:53")
        let v6 = try Address(host: "2001:db8::1", port: 443)
        XCTAssertEqual(v6.description, "[2001:db8::1]:443")
        XCTAssertEqual(try Address(host: "2001:db8::1", port: 443), v6)
        XCTAssertNotEqual(v4, v6)
        XCTAssertThrowsError(try Address(host: "localhost", port: 1)) { error in
            XCTAssertEqual((error as? BatchUDPError)?.code, .EINVAL)
        }
    }

    func testWrapAnExistingDescriptor() throws {
        let fd = try systemSocket(type: socketTypeDatagram, bindToLoopback: true)
        defer { closeDescriptor(fd) }

        let wrapped = try BatchUDPSocket(fileDescriptor: fd)
        XCTAssertEqual(try wrapped.fileDescriptor, fd)
        let port = wrapped.localAddress.port
        let peer = try loopbackSocket()
        try roundTrip(peer, wrapped)
        wrapped.close()
        XCTAssertTrue(isOpen(fd, port: port), "the descriptor stays the caller's")
    }

    func testSendFromAnotherThreadWhileReceiving() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let target = b.localAddress
        let data = payloads(200, prefix: "threads ")
        let sender = Thread {
            for chunk in stride(from: 0, to: data.count, by: 20) {
                try? sendAll(a, data[chunk..<chunk + 20].map { OutgoingDatagram($0, to: target) })
            }
        }
        sender.start()
        // a sends on another thread while this thread receives on b.
        let got = try receive(200, from: b)
        XCTAssertEqual(Set(got.map(\.data)), Set(data))
    }

    func testWaitWithTimeout() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        XCTAssertFalse(try b.wait(timeout: .zero))
        XCTAssertFalse(try b.wait(timeout: .milliseconds(20)))
        try a.send(Data("x".utf8), to: b.localAddress)
        XCTAssertTrue(try b.wait(timeout: .seconds(10)))
        XCTAssertEqual(try b.receive().count, 1)
    }
}
