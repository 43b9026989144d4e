import BatchUDP
import CBatchUDP
import Foundation
import XCTest

/// The io_uring backend (`Options.Backend.uring`) and its zerocopy option.
///
/// The backend is there in libraries built with liburing, on Linux 6.0 or
/// later; the package's C target links no liburing, so there (and on older
/// kernels) asking for it throws `ENOTSUP`, and where the kernel forbids
/// io_uring (the `io_uring_disabled` sysctl, a seccomp filter) `EPERM`: the
/// tests that need it skip then, saying which.  run-tests.sh runs this class
/// on the system library route too, where the library may have it.
final class UringTests: XCTestCase {
    /// A socket on the io_uring backend, or a skip saying why there is none.
    private func uringSocket(_ host: String = "127.0.0.1",
                             _ configure: (inout BatchUDPSocket.Options) -> Void = { _ in })
        throws -> BatchUDPSocket {
        var options = BatchUDPSocket.Options()
        options.backend = .uring
        configure(&options)
        do {
            return try BatchUDPSocket(bindHost: host, port: 0, options: options)
        } catch let error as BatchUDPError where [ENOTSUP, EPERM].contains(error.errorNumber) {
            throw XCTSkip("backend uring not available here: \(error)")
        } catch let error as BatchUDPError
            where host.contains(":")
            && [EADDRNOTAVAIL, EAFNOSUPPORT, EPROTONOSUPPORT].contains(error.errorNumber) {
            throw XCTSkip("no IPv6 loopback here: \(error)")
        }
    }

    func testNamesAndValues() throws {
        XCTAssertEqual(BatchUDPSocket.Options.Backend.uring.rawValue, Int64(BUDP_BACKEND_URING))
        XCTAssertEqual(BatchUDPSocket.Options.Backend.allCases.map(\.rawValue), [0, 1, 2, 3, 4])
        XCTAssertEqual(BUDP_OPT_ZEROCOPY, 19)
        XCTAssertEqual(BatchUDPSocket.Options.zerocopyMinBytes, 16384)
        XCTAssertFalse(BatchUDPSocket.Options().zerocopy)
        var low: Int64 = -1, high: Int64 = -1, byDefault: Int64 = -1
        XCTAssertEqual(budp_options_bounds(Int32(BUDP_OPT_ZEROCOPY), &low, &high, &byDefault), 0)
        XCTAssertEqual([low, high, byDefault], [0, 1, 0])
    }

    func testBackendNameReadsUring() throws {
        let socket = try uringSocket()
        XCTAssertEqual(socket.backendName, "uring")
        XCTAssertEqual(socket.options.backend, .uring)
        XCTAssertTrue(socket.backendReason.hasPrefix("uring: "), socket.backendReason)
        XCTAssertTrue(socket.backendReason.contains("asked for"), socket.backendReason)
    }

    /// A few hundred datagrams whose sizes change from one to the next (no
    /// GSO train), both sockets on uring: content, order and sender checked.
    private func roundTrip(_ host: String) throws {
        let count = 300
        let receiver = try uringSocket(host) { $0.batchSize = 16 }
        let sender = try uringSocket(host)
        let target = receiver.localAddress
        XCTAssertEqual(target.host, host)
        let data = (0..<count).map { i in
            Data("uring \(i) ".utf8) + Data(repeating: UInt8(i % 251), count: (i % 9) * 50)
        }
        var got: [Datagram] = []
        // 50 at a time: a default-size receive buffer holds them.
        for start in stride(from: 0, to: count, by: 50) {
            try sendAll(sender, data[start..<start + 50].map { OutgoingDatagram($0, to: target) })
            got += try receive(50, from: receiver)
        }
        XCTAssertEqual(got.map(\.data), data)
        let source = sender.localAddress
        XCTAssertTrue(got.allSatisfy { $0.peer == source && !$0.isTruncated })
        XCTAssertEqual(try receiver.receive(), [])
        let received = receiver.stats
        XCTAssertEqual(received.rxDatagrams, UInt64(count))
        XCTAssertEqual(received.rxBytes, UInt64(data.reduce(0) { $0 + $1.count }))
        // uring: batches taken from the completion queue.
        XCTAssertTrue((1...UInt64(count)).contains(received.rxSyscalls), "\(received)")
        XCTAssertEqual(sender.stats.txDatagrams, UInt64(count))
        XCTAssertEqual(sender.stats.txErrors, 0)
    }

    func testRoundTripIPv4() throws {
        try roundTrip("127.0.0.1")
    }

    func testRoundTripIPv6() throws {
        try roundTrip("::1")
    }

    func testZerocopyIsRefusedWithAnotherBackend() throws {
        #if os(Linux) || os(FreeBSD)
        let backends: [BatchUDPSocket.Options.Backend] = [.mmsg, .loop]
        #else
        let backends: [BatchUDPSocket.Options.Backend] = [.loop]
        #endif
        for backend in backends {
            var options = BatchUDPSocket.Options()
            options.backend = backend
            options.zerocopy = true
            assertThrows(ENOTSUP, try loopbackSocket(options: options))
        }
    }

    /// One train of 46 datagrams of 1400 bytes (64,400 bytes, above
    /// `zerocopyMinBytes`) from one page-aligned block, in one send: one
    /// zero-copy GSO send.  The send returns once the kernel let go of the
    /// pages, so the block is overwritten right after and what arrives must
    /// not change.
    func testZerocopyGSOTrainArrivesIntact() throws {
        let count = 46, size = 1400
        XCTAssertGreaterThanOrEqual(count * size, BatchUDPSocket.Options.zerocopyMinBytes)
        let sender = try uringSocket {
            $0.zerocopy = true
            $0.gso = true
            $0.batchSize = 64  // one budp_send for the 46
        }
        var receiverOptions = BatchUDPSocket.Options()
        receiverOptions.batchSize = 64
        receiverOptions.recvBuffer = 1 << 20
        let receiver = try loopbackSocket(options: receiverOptions)
        let target = receiver.localAddress
        // Page-aligned: the train spans 16 pages.  (Where it spans more
        // than a socket buffer holds pages, the kernel refuses a zero-copy
        // send with EMSGSIZE.)
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: count * size, alignment: 4096)
        defer { block.deallocate() }
        for i in 0..<block.count {
            block[i] = UInt8(truncatingIfNeeded: i / size + i % 251)
        }
        let expected = (0..<count).map { Data(block[$0 * size..<($0 + 1) * size]) }
        do {
            let shared = Data(bytesNoCopy: block.baseAddress!, count: block.count, deallocator: .none)
            let train = (0..<count).map {
                OutgoingDatagram(shared[$0 * size..<($0 + 1) * size], to: target)
            }
            XCTAssertEqual(try sender.send(train), count, "one call sends the train")
        }
        block.initializeMemory(as: UInt8.self, repeating: 0xee)
        let got = try receive(count, from: receiver)
        XCTAssertEqual(got.map(\.data), expected)
        let source = sender.localAddress
        XCTAssertTrue(got.allSatisfy { $0.peer == source && !$0.isTruncated })
        let stats = sender.stats
        XCTAssertEqual(stats.txDatagrams, UInt64(count))
        XCTAssertEqual(stats.txBytes, UInt64(count * size))
        XCTAssertEqual(stats.txErrors, 0)
        XCTAssertEqual(stats.txCoalesced, 1, "one GSO train: \(stats)")
        XCTAssertEqual(stats.txGSOFallbacks, 0, "\(stats)")
    }

    /// The package's C target is built without liburing: uring throws
    /// `ENOTSUP` there, never `EPERM` or a socket.
    func testCompiledInLibraryHasNoUring() throws {
        guard let maps = readWholeFile("/proc/self/maps"), !maps.isEmpty else {
            throw XCTSkip("no /proc/self/maps here to tell how the library is linked")
        }
        if maps.contains("libbatchudp") {
            throw XCTSkip("libbatchudp is a shared library here (the system library route)")
        }
        var options = BatchUDPSocket.Options()
        options.backend = .uring
        assertThrows(ENOTSUP, try loopbackSocket(options: options))
    }

    /// The whole of a file read to its end (procfs files report size 0,
    /// which Foundation's readers take at its word).
    private func readWholeFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { closeDescriptor(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            bytes += chunk[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    #if os(Linux)
    private static let childVariable = "BATCHUDP_TEST_URING_REFUSED"

    /// io_uring forbidden by a seccomp filter, as the io_uring_disabled
    /// sysctl or a container's profile forbids it: uring asked for by name
    /// (or by BATCHUDP_BACKEND) throws `EPERM`; AUTO goes on without it.
    /// The library asks the kernel once per process, so each case runs in a
    /// child: this test binary again, running this test alone.
    func testKernelRefusalThrowsEPERM() throws {
        if let role = ProcessInfo.processInfo.environment[Self.childVariable] {
            return refusedChild(role)
        }
        let lines = try runRefusedChild("name", environment: nil)
        if let line = lines.first(where: { $0.hasPrefix("no-filter") }) {
            throw XCTSkip("cannot install a seccomp filter here: \(line)")
        }
        XCTAssertEqual(lines.count, 2, "\(lines)")
        guard lines.count == 2 else { return }
        XCTAssertTrue(["auto socket mmsg", "auto socket loop"].contains(lines[0]), "\(lines)")
        if lines[1] == "uring errno \(ENOTSUP)" {
            throw XCTSkip("backend uring not in this library (ENOTSUP)")
        }
        XCTAssertEqual(lines[1], "uring errno \(EPERM) EPERM")
        XCTAssertEqual(try runRefusedChild("environment", environment: "uring"),
                       ["environment errno \(EPERM) EPERM"])
    }

    /// The child's part: one line a result, for the parent to check.
    private func refusedChild(_ role: String) {
        defer { fflush(nil) }
        if let problem = forbidIOUring() {
            print("RESULT no-filter \(problem)")
            return
        }
        func describe(_ make: () throws -> BatchUDPSocket) -> String {
            do {
                let socket = try make()
                defer { socket.close() }
                return "socket \(socket.backendName)"
            } catch let error as BatchUDPError {
                return "errno \(error.errorNumber)" + (error.code == .EPERM ? " EPERM" : "")
            } catch {
                return "\(error)"
            }
        }
        if role == "name" {
            print("RESULT auto " + describe { try loopbackSocket() })
            var options = BatchUDPSocket.Options()
            options.backend = .uring
            print("RESULT uring " + describe { try loopbackSocket(options: options) })
        } else {
            print("RESULT environment " + describe { try loopbackSocket() })
        }
    }

    /// Runs this test in a child, and returns the lines of its results.
    private func runRefusedChild(_ role: String, environment backend: String?) throws -> [String] {
        let binary = CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw XCTSkip("cannot run this test binary again (\(binary))")
        }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: binary)
        child.arguments = ["BatchUDPTests.UringTests/testKernelRefusalThrowsEPERM"]
        var variables = ProcessInfo.processInfo.environment
        variables[Self.childVariable] = role
        variables["BATCHUDP_BACKEND"] = backend
        child.environment = variables
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0, text)
        return text.split(separator: "\n").compactMap { line in
            line.range(of: "RESULT ").map { String(line[$0.upperBound...]) }
        }
    }

    private struct SockFilter {
        var code: UInt16
        var jt: UInt8
        var jf: UInt8
        var k: UInt32
    }

    private struct SockFprog {
        var len: UInt16
        var filter: UnsafePointer<SockFilter>
    }

    /// io_uring_setup fails with EPERM on this thread (and those it
    /// creates) from now on; nil, or what went wrong.
    private func forbidIOUring() -> String? {
        // prctl is variadic, which Swift does not call: through its address,
        // with the integer arguments the variadic call would pass.
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let symbol = dlsym(nil, "prctl") else {
            return "no prctl"
        }
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        let ioUringSetup: UInt32 = 425  // every Linux architecture's number
        let filter = [
            SockFilter(code: 0x20, jt: 0, jf: 0, k: 0),                   // ld [nr]
            SockFilter(code: 0x15, jt: 0, jf: 1, k: ioUringSetup),        // jeq
            SockFilter(code: 0x06, jt: 0, jf: 0, k: 0x0005_0000 | UInt32(EPERM)),  // ret ERRNO
            SockFilter(code: 0x06, jt: 0, jf: 0, k: 0x7fff_0000),         // ret ALLOW
        ]
        return filter.withUnsafeBufferPointer { code -> String? in
            var program = SockFprog(len: UInt16(code.count), filter: code.baseAddress!)
            return withUnsafeMutablePointer(to: &program) { pointer -> String? in
                let address = UInt(bitPattern: pointer)
                if prctl(38, 1, 0, 0, 0) != 0 || prctl(22, 2, address, 0, 0) != 0 {  // NO_NEW_PRIVS, SECCOMP
                    return String(cString: strerror(errno))
                }
                return nil
            }
        }
    }
    #endif
}
