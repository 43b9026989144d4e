import BatchUDP
import CBatchUDP
import Foundation
import XCTest

/// Asserts that `body` throws a BatchUDPError with `code`.
func assertThrows<T>(_ code: Int32, _ body: @autoclosure () throws -> T,
                     file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? BatchUDPError else {
            return XCTFail("not a BatchUDPError: \(error)", file: file, line: line)
        }
        XCTAssertEqual(error.errorNumber, code, "\(error)", file: file, line: line)
    }
}

/// Asserts that every call on a stopped (shut down or closed) socket throws
/// EBADF, and that localAddress, which cannot fail, still gives `local`, the
/// socket's own address (also sent to).
func assertEveryCallThrowsEBADF(_ socket: BatchUDPSocket, local target: Address,
                                file: StaticString = #filePath, line: UInt = #line) {
    assertThrows(EBADF, try socket.receive(), file: file, line: line)
    assertThrows(EBADF, try socket.withReceivedDatagrams { $0.count }, file: file, line: line)
    assertThrows(EBADF, try socket.wait(timeout: .zero), file: file, line: line)
    assertThrows(EBADF, try socket.dispatch(), file: file, line: line)
    assertThrows(EBADF, try socket.onDatagrams { _ in }, file: file, line: line)
    assertThrows(EBADF, try socket.send(Data("x".utf8), to: target), file: file, line: line)
    assertThrows(EBADF, try socket.connect(host: "127.0.0.1", port: 9), file: file, line: line)
    XCTAssertEqual(socket.localAddress, target, file: file, line: line)
    assertThrows(EBADF, try socket.fileDescriptor, file: file, line: line)
    assertThrows(EBADF, try socket.pollFileDescriptor, file: file, line: line)
    XCTAssertFalse(socket.backendName.isEmpty, file: file, line: line)
    XCTAssertTrue(socket.backendReason.hasPrefix(socket.backendName + ": "),
                  file: file, line: line)
}

final class ErrorTests: XCTestCase {
    func testErrorCarriesErrnoAndLibraryText() {
        let error = BatchUDPError(code: -EBADF, operation: "budp_recv")
        XCTAssertEqual(error.errorNumber, EBADF)
        XCTAssertEqual(error.code, .EBADF)
        XCTAssertEqual(error.message, String(cString: budp_strerror(-EBADF)))
        XCTAssertFalse(error.message.isEmpty)
        XCTAssertTrue(error.description.hasPrefix("budp_recv: "))
        XCTAssertEqual(error.localizedDescription, error.description)
        XCTAssertEqual(BatchUDPError(code: EBADF, operation: "budp_recv"), error)
    }

    func testBadOptionsAreRejected() {
        var options = BatchUDPSocket.Options()
        options.batchSize = 0
        assertThrows(EINVAL, try loopbackSocket(options: options))

        options = .init()
        options.maxDatagram = 70_000
        assertThrows(EINVAL, try loopbackSocket(options: options))

        options = .init()
        options.ringCapacity = 3  // not a power of two
        assertThrows(EINVAL, try loopbackSocket(options: options))
        options.ringCapacity = 1  // 0 is the automatic size; 1 is no ring
        assertThrows(EINVAL, try loopbackSocket(options: options))

        options = .init()
        options.callbackThread = true  // needs threaded
        assertThrows(EINVAL, try loopbackSocket(options: options))

        do {
            var bad = BatchUDPSocket.Options()
            bad.batchSize = 5000
            _ = try loopbackSocket(options: bad)
            XCTFail("batchSize 5000 accepted")
        } catch let error as BatchUDPError {
            XCTAssertTrue(error.operation.contains("batchSize"), error.description)
        } catch {
            XCTFail("\(error)")
        }
    }

    func testBadHostIsRejected() {
        assertThrows(EINVAL, try BatchUDPSocket(bindHost: "not an address", port: 0))
        assertThrows(EINVAL, try BatchUDPSocket(bindHost: "", port: 0))
    }

    func testBadDescriptorsAreRejected() throws {
        assertThrows(EBADF, try BatchUDPSocket(fileDescriptor: -1))

        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { ends.forEach(closeDescriptor) }
        assertThrows(ENOTSOCK, try BatchUDPSocket(fileDescriptor: ends[0]))

        let tcp = try systemSocket(type: socketTypeStream, bindToLoopback: false)
        defer { closeDescriptor(tcp) }
        assertThrows(EPROTOTYPE, try BatchUDPSocket(fileDescriptor: tcp))
    }

    func testBadArguments() throws {
        let socket = try loopbackSocket()
        assertThrows(EINVAL, try socket.receive(max: 0))
        assertThrows(EINVAL, try socket.dispatch(max: -1))
        assertThrows(EINVAL, try socket.dispatch())  // no handler set
        assertThrows(EDESTADDRREQ, try socket.send(Data("x".utf8)))
        let target = socket.localAddress
        assertThrows(EINVAL, try socket.send(Data(count: 70_000), to: target))
        assertThrows(EINVAL, try socket.connect(host: "nowhere", port: 1))
        XCTAssertEqual(try socket.send([OutgoingDatagram]()), 0)
    }

    func testEveryCallAfterCloseThrowsEBADF() throws {
        let socket = try loopbackSocket()
        let target = socket.localAddress
        XCTAssertFalse(socket.isClosed)
        socket.close()
        socket.close()  // idempotent
        XCTAssertTrue(socket.isClosed)

        assertEveryCallThrowsEBADF(socket, local: target)
    }

    func testCloseClosesTheDescriptor() throws {
        let socket = try loopbackSocket()
        let fd = try socket.fileDescriptor
        let port = socket.localAddress.port
        XCTAssertTrue(isOpen(fd, port: port))
        socket.close()
        XCTAssertFalse(isOpen(fd, port: port))
    }

    func testReleasingTheSocketClosesIt() throws {
        var socket: BatchUDPSocket? = try loopbackSocket()
        let fd = try socket!.fileDescriptor
        let port = socket!.localAddress.port
        XCTAssertTrue(isOpen(fd, port: port))
        socket = nil
        XCTAssertFalse(isOpen(fd, port: port))
    }

    func testCloseWhileAnotherThreadWaits() throws {
        let socket = try loopbackSocket()
        let outcome = Box<String>("still waiting")
        let finished = expectation(description: "wait returned")
        Thread {
            do {
                let ready = try socket.wait()  // for ever
                outcome.value = "returned \(ready)"
            } catch let error as BatchUDPError {
                outcome.value = "\(error.code.map { "\($0)" } ?? "?")"
            } catch {
                outcome.value = "\(error)"
            }
            finished.fulfill()
        }.start()
        // Let the thread block (not a timing assertion: the outcome is the
        // same if close() comes first).
        Thread.sleep(forTimeInterval: 0.1)
        socket.close()
        wait(for: [finished], timeout: 30)
        XCTAssertEqual(outcome.value, "\(POSIXErrorCode.EBADF)")
    }
}
