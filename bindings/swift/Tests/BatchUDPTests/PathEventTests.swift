import BatchUDP
import CBatchUDP
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Receive timestamps, paced sends and error events (``Options/timestamps``,
/// ``Options/pacing``, ``Options/errors``), on loopback.  The three are
/// Linux's: elsewhere the library throws ENOTSUP and these tests skip.
final class PathEventTests: XCTestCase {
    /// A socket with `options`, or a skip when the library has no such
    /// option here (ENOTSUP).
    func socket(_ configure: (inout BatchUDPSocket.Options) -> Void) throws -> BatchUDPSocket {
        var options = BatchUDPSocket.Options()
        configure(&options)
        do {
            return try loopbackSocket(options: options)
        } catch let error as BatchUDPError where error.errorNumber == ENOTSUP {
            throw XCTSkip("not available here: \(error)")
        }
    }

    /// A UDP port on 127.0.0.1 that nothing listens on: bound, noted, closed.
    func closedPort() throws -> Address {
        let probe = try loopbackSocket()
        let address = probe.localAddress
        probe.close()
        return address
    }

    /// Nanoseconds since the Unix epoch, now.
    func nowNs() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1e9)
    }

    /// Whether `ns` is a wall-clock time within a second of now.
    func nearNow(_ ns: UInt64?) -> Bool {
        guard let ns else { return false }
        let now = nowNs()
        return (now > ns ? now - ns : ns - now) < 1_000_000_000
    }

    // MARK: - Options

    func testOptionsReachTheLibrary() throws {
        var options = BatchUDPSocket.Options()
        XCTAssertFalse(options.timestamps)
        XCTAssertEqual(options.pacing, .off)
        XCTAssertFalse(options.errors)
        options.timestamps = true
        options.errors = true
        for pacing in BatchUDPSocket.Options.Pacing.allCases {
            options.pacing = pacing
            let s = try socket { $0 = options }
            XCTAssertEqual(s.options, options)
            XCTAssertEqual(try s.receive(), [])
            XCTAssertEqual(try s.receiveErrors(), [])
            s.close()
        }
        XCTAssertEqual(BatchUDPSocket.Options.Pacing.allCases.map(\.rawValue), [0, 1, 2])
        XCTAssertEqual(BatchUDPSocket.Options.Pacing.tai.rawValue, Int64(BUDP_PACING_TAI))
    }

    func testOutOfRangeValuesOfTheNewKeysAreRefused() throws {
        // The struct cannot hold them; the library's keys refuse them.
        var raw: OpaquePointer?
        XCTAssertEqual(budp_options_new(&raw), 0)
        let o = try XCTUnwrap(raw)
        defer { budp_options_free(o) }
        for (key, bad) in [(BUDP_OPT_TIMESTAMPS, 2), (BUDP_OPT_PACING, 3), (BUDP_OPT_ERRORS, 2),
                           (BUDP_OPT_PACING, -1)] {
            XCTAssertEqual(budp_options_set(o, Int32(key), Int64(bad)), -EINVAL, "key \(key)")
        }
        for (key, max) in [(BUDP_OPT_TIMESTAMPS, 1), (BUDP_OPT_PACING, 2), (BUDP_OPT_ERRORS, 1)] {
            var lo: Int64 = -1, hi: Int64 = -1, def: Int64 = -1
            XCTAssertEqual(budp_options_bounds(Int32(key), &lo, &hi, &def), 0)
            XCTAssertEqual([lo, hi, def], [0, Int64(max), 0])
        }
    }

    // MARK: - Timestamps

    func testTimestampsWhenOn() async throws {
        let rx = try socket { $0.timestamps = true }
        let tx = try loopbackSocket()
        try tx.send(Data("stamped".utf8), to: rx.localAddress)
        let got = try XCTUnwrap(try receive(1, from: rx).first)
        XCTAssertTrue(got.flags.contains(.hasTime))
        XCTAssertTrue(nearNow(got.timeNs), "\(String(describing: got.timeNs)) vs \(nowNs())")
        let time = try XCTUnwrap(got.time)
        XCTAssertLessThan(abs(time.timeIntervalSinceNow), 1)

        // A view, and the async sequence, carry it too.
        try tx.send(Data("view".utf8), to: rx.localAddress)
        XCTAssertTrue(try rx.wait(timeout: .seconds(10)))
        let viewTime = try rx.withReceivedDatagrams { batch in batch.first?.timeNs }
        XCTAssertTrue(nearNow(viewTime))
        try tx.send(Data("stream".utf8), to: rx.localAddress)
        for try await batch in rx.batches {
            XCTAssertTrue(batch.allSatisfy { nearNow($0.timeNs) })
            break
        }
    }

    func testTimestampsAbsentWhenOff() throws {
        let rx = try loopbackSocket()
        try rx.send(Data("plain".utf8), to: rx.localAddress)
        let got = try XCTUnwrap(try receive(1, from: rx).first)
        XCTAssertNil(got.timeNs)
        XCTAssertNil(got.time)
        XCTAssertFalse(got.flags.contains(.hasTime))
    }

    func testEveryGROSegmentCarriesATimeInThreadedMode() throws {
        let rx = try socket {
            $0.timestamps = true
            $0.threaded = true
            $0.batchSize = 64
        }
        let tx = try loopbackSocket()
        let data = (0..<20).map { Data(repeating: UInt8($0), count: 100) }
        XCTAssertEqual(try tx.send(data, to: rx.localAddress), 20)
        let got = try receive(20, from: rx)
        XCTAssertEqual(got.map(\.data), data)
        XCTAssertTrue(got.allSatisfy { nearNow($0.timeNs) })
    }

    // MARK: - Error events

    /// `socket` sent one datagram to `destination`, a closed port: exactly
    /// its port unreachable event comes, once.
    func expectRefused(_ socket: BatchUDPSocket, _ destination: Address,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        var events: [ErrorEvent] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while events.isEmpty, ContinuousClock.now < deadline {
            XCTAssertTrue(try socket.wait(timeout: .seconds(10)), "no event woke the socket",
                          file: file, line: line)
            events = try socket.receiveErrors()
        }
        XCTAssertEqual(events.count, 1, "\(events)", file: file, line: line)
        let event = try XCTUnwrap(events.first, file: file, line: line)
        XCTAssertEqual(event.destination, destination, file: file, line: line)
        XCTAssertEqual(event.errorNumber, ECONNREFUSED, file: file, line: line)
        XCTAssertEqual(event.code, .ECONNREFUSED, file: file, line: line)
        XCTAssertEqual(event.error.code, .ECONNREFUSED, file: file, line: line)
        XCTAssertEqual(event.origin, .icmp, file: file, line: line)
        XCTAssertEqual(event.icmpType, 3, file: file, line: line)  // destination unreachable
        XCTAssertEqual(event.icmpCode, 3, file: file, line: line)  // port unreachable
        XCTAssertEqual(event.offender?.host, "127.0.0.1", file: file, line: line)
        XCTAssertNil(event.mtu, file: file, line: line)
        XCTAssertEqual(try socket.receiveErrors(), [], file: file, line: line)
        XCTAssertEqual(socket.stats.errorEvents, 1, file: file, line: line)
    }

    func testPortUnreachableComesAsAnEvent() throws {
        let closed = try closedPort()
        let s = try socket { $0.errors = true }
        try s.send(Data("anyone?".utf8), to: closed)
        try expectRefused(s, closed)
        // The error does not fail the receive.
        XCTAssertEqual(try s.receive(), [])
        XCTAssertEqual(s.stats.rxErrors, 0)
    }

    func testPortUnreachableEventInThreadedMode() throws {
        let closed = try closedPort()
        let s = try socket {
            $0.errors = true
            $0.threaded = true
        }
        try s.send(Data("anyone?".utf8), to: closed)
        try expectRefused(s, closed)
        XCTAssertEqual(s.stats.errorEventsDropped, 0)
    }

    func testReceiveErrorsNeedsTheOption() throws {
        let s = try loopbackSocket()
        XCTAssertThrowsError(try s.receiveErrors()) { error in
            XCTAssertEqual((error as? BatchUDPError)?.code, .EINVAL)
        }
        let on = try socket { $0.errors = true }
        XCTAssertThrowsError(try on.receiveErrors(max: 0)) { error in
            XCTAssertEqual((error as? BatchUDPError)?.code, .EINVAL)
        }
        on.close()
        XCTAssertThrowsError(try on.receiveErrors()) { error in
            XCTAssertEqual((error as? BatchUDPError)?.code, .EBADF)
        }
    }

    /// An event keeps the poll descriptor readable until read: the stream
    /// sets it aside for receiveErrors() instead of waking for ever.
    func testBatchesSetErrorEventsAsideInsteadOfSpinning() async throws {
        for threaded in [false, true] {
            try await checkBatchesSetErrorEventsAside(threaded: threaded)
        }
    }

    func checkBatchesSetErrorEventsAside(threaded: Bool) async throws {
        let closed = try closedPort()
        let s = try socket {
            $0.errors = true
            $0.threaded = threaded
        }
        let consumer = Task {
            var events: [ErrorEvent] = []
            for try await batch in s.batches {
                XCTAssertEqual(batch.map(\.data), [Data("self".utf8)])
                events = try s.receiveErrors()
                break
            }
            return events
        }
        try await Task.sleep(for: .milliseconds(50))
        try s.send(Data("lost".utf8), to: closed)
        try await Task.sleep(for: .milliseconds(100))
        let before = cpuSeconds()
        try await Task.sleep(for: .milliseconds(500))
        XCTAssertLessThan(cpuSeconds() - before, 0.25, "the stream spins (threaded: \(threaded))")
        try s.send(Data("self".utf8), to: s.localAddress)
        let events = try await value(of: consumer)
        XCTAssertEqual(events.map(\.destination), [closed])
        XCTAssertEqual(s.stats.errorEvents, 1)
        XCTAssertEqual(s.stats.errorEventsDropped, 0)
    }

    /// User and system time of this process, in seconds.
    func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    // MARK: - Pacing

    func testDepartureTimeRefusedWithoutPacing() throws {
        let rx = try loopbackSocket()
        let tx = try loopbackSocket()
        let timed = OutgoingDatagram(Data("timed".utf8), to: rx.localAddress, timeNs: 1_000_000)
        XCTAssertThrowsError(try tx.send([timed])) { error in
            XCTAssertEqual((error as? BatchUDPError)?.code, .EINVAL)
        }
        XCTAssertEqual(tx.stats.txDatagrams, 0)
        // 0 is "now", with pacing off too.
        try tx.send([OutgoingDatagram(Data("now".utf8), to: rx.localAddress, timeNs: 0)])
        XCTAssertEqual(try receive(1, from: rx).map(\.data), [Data("now".utf8)])
    }

    func testPacedDatagramIsAcceptedAndArrives() async throws {
        let tx = try socket { $0.pacing = .monotonic }
        let rx = try loopbackSocket()
        let soon = try XCTUnwrap(BatchUDPSocket.Options.Pacing.monotonic.now()) + 5_000_000
        let out = [
            OutgoingDatagram(Data("later".utf8), to: rx.localAddress, timeNs: soon),
            OutgoingDatagram(Data("now".utf8), to: rx.localAddress),
            OutgoingDatagram(Data("later too".utf8), to: rx.localAddress, timeNs: soon + 1_000_000),
        ]
        try await tx.sendAll(out)
        let got = try receive(3, from: rx).map { String(decoding: $0.data, as: UTF8.self) }
        XCTAssertEqual(got.sorted(), ["later", "later too", "now"])
        XCTAssertEqual(tx.stats.txDatagrams, 3)
    }

    func testPacingClocks() throws {
        #if os(Linux)
        let a = try XCTUnwrap(BatchUDPSocket.Options.Pacing.monotonic.now())
        let b = try XCTUnwrap(BatchUDPSocket.Options.Pacing.monotonic.now())
        XCTAssertGreaterThanOrEqual(b, a)
        // TAI runs ahead of UTC by whole seconds (37 today, 0 if unset).
        let tai = try XCTUnwrap(BatchUDPSocket.Options.Pacing.tai.now())
        XCTAssertGreaterThanOrEqual(tai + 1_000_000_000, nowNs())
        #endif
        XCTAssertNil(BatchUDPSocket.Options.Pacing.off.now())
    }

    func testPacingSupportOnLoopback() throws {
        let s = try socket { $0.pacing = .monotonic }
        let target = try Address(host: "127.0.0.1", port: 9)
        let (honoured, detail) = try s.pacingSupport(to: target)
        XCTAssertFalse(honoured, detail)  // loopback has no fq or etf
        XCTAssertTrue(detail.contains("lo"), detail)
        XCTAssertFalse(detail.contains("\n"))
        // nil: the connected peer, EINVAL before a connect.
        XCTAssertThrowsError(try s.pacingSupport()) { error in
            XCTAssertEqual((error as? BatchUDPError)?.code, .EINVAL)
        }
        try s.connect(host: "127.0.0.1", port: 9)
        let connected = try s.pacingSupport()
        XCTAssertFalse(connected.honoured)
        XCTAssertTrue(connected.detail.contains("lo"), connected.detail)
    }

    // MARK: - Layout

    func testErrorEventLayoutAndConstants() {
        XCTAssertEqual(MemoryLayout<budp_error_event>.size, 64)
        XCTAssertEqual(MemoryLayout<budp_error_event>.offset(of: \.offender), 24)
        XCTAssertEqual(MemoryLayout<budp_error_event>.offset(of: \.error), 48)
        XCTAssertEqual(MemoryLayout<budp_error_event>.offset(of: \.mtu), 52)
        XCTAssertEqual(MemoryLayout<budp_error_event>.offset(of: \.origin), 56)
        XCTAssertEqual(MemoryLayout<budp_error_event>.offset(of: \.icmp_code), 58)
        XCTAssertEqual(MemoryLayout<budp_stats>.size, 20 * 8)
        XCTAssertEqual(MemoryLayout<budp_stats>.offset(of: \.error_events_dropped), 19 * 8)
        XCTAssertEqual(BUDP_DGRAM_HAS_TIME, 0x20)
        XCTAssertEqual([BUDP_OPT_TIMESTAMPS, BUDP_OPT_PACING, BUDP_OPT_ERRORS], [13, 14, 15])
        XCTAssertEqual(BUDP_PACING_GRANULARITY_NS, 100_000)
        XCTAssertEqual([BUDP_ERROR_ORIGIN_LOCAL, BUDP_ERROR_ORIGIN_ICMP, BUDP_ERROR_ORIGIN_ICMP6],
                       [1, 2, 3])
        XCTAssertEqual(BatchUDPSocket.errorQueueEvents, 64)
        let s = try? loopbackSocket()
        XCTAssertEqual(s?.stats.errorEvents, 0)
        XCTAssertEqual(s?.stats.errorEventsDropped, 0)
    }
}
