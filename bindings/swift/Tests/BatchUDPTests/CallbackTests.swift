import BatchUDP
import Foundation
import XCTest

final class CallbackTests: XCTestCase {
    /// Dispatches until `counter` saw `count` datagrams.
    private func dispatch(_ socket: BatchUDPSocket, until count: Int, _ counter: Counter) throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while counter.count < count {
            if try socket.dispatch() == 0 {
                let left = deadline - clock.now
                guard left > .zero, try socket.wait(timeout: left) else {
                    return XCTFail("handler saw \(counter.count) of \(count)")
                }
            }
        }
    }

    func testDispatchCallsTheHandler() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let counter = Counter()
        try b.onDatagrams { batch in
            counter.add(batch.map { Data($0.bytes) })
        }
        let data = payloads(10, prefix: "callback ")
        let target = b.localAddress
        try sendAll(a, data.map { OutgoingDatagram($0, to: target) })
        try dispatch(b, until: 10, counter)
        XCTAssertEqual(counter.received, data)

        try b.onDatagrams(nil)
        assertThrows(EINVAL, try b.dispatch())
    }

    func testHandlerMaySendButNotReceive() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let counter = Counter()
        let innerError = Box<POSIXErrorCode?>(nil)
        let echoed = Box(0)
        try b.onDatagrams { [weak b] batch in
            guard let b else { return }
            counter.add(batch.map { Data($0.bytes) })
            do {
                _ = try b.receive()
            } catch let error as BatchUDPError {
                innerError.value = error.code
            } catch {}
            let sent = (try? b.send(batch.map { OutgoingDatagram(Data($0.bytes), to: $0.peer) })) ?? 0
            echoed.value += sent
        }
        try a.send(Data("echo".utf8), to: b.localAddress)
        try dispatch(b, until: 1, counter)
        XCTAssertEqual(innerError.value, .EBUSY)
        XCTAssertEqual(echoed.value, 1)
        XCTAssertEqual(try receive(1, from: a).first?.data, Data("echo".utf8))
    }

    func testHandlerMayCloseTheSocket() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        let fd = try b.fileDescriptor
        let port = b.localAddress.port
        let counter = Counter()
        let afterClose = Box<POSIXErrorCode?>(nil)
        try b.onDatagrams { [weak b] batch in
            guard let b else { return }
            counter.add(batch.map { Data($0.bytes) })
            b.close()
            do {
                try b.send(Data("x".utf8), to: b.localAddress)
            } catch let error as BatchUDPError {
                afterClose.value = error.code
            } catch {}
        }
        try a.send(payloads(3), to: b.localAddress)
        try dispatch(b, until: 1, counter)
        XCTAssertEqual(afterClose.value, .EBADF)
        XCTAssertTrue(b.isClosed)
        XCTAssertFalse(isOpen(fd, port: port), "closed once dispatch returned")
        assertThrows(EBADF, try b.dispatch())
    }

    func testCallbackThreadMode() throws {
        var options = BatchUDPSocket.Options()
        options.threaded = true
        options.callbackThread = true
        let b: BatchUDPSocket
        do {
            b = try loopbackSocket(options: options)
        } catch let error as BatchUDPError where error.errorNumber == ENOTSUP {
            throw XCTSkip("threaded mode not available in this build of the library: \(error)")
        }
        assertThrows(ENOTSUP, try b.pollFileDescriptor)
        let testThread = pthread_self()
        let counter = Counter()
        let onOtherThread = Box(true)
        let inner = Box<[Int32]>([])
        let done = expectation(description: "handler saw every datagram")
        try b.onDatagrams { [weak b] batch in
            if pthread_equal(pthread_self(), testThread) != 0 {
                onOtherThread.value = false
            }
            // Consumer calls from the receiver thread fail at once (no
            // deadlock with a thread changing the handler meanwhile).
            if let b, inner.value.isEmpty {
                var codes: [Int32] = []
                for call in [{ _ = try b.receive() }, { try b.onDatagrams(nil) },
                             { try b.connect(host: "127.0.0.1", port: 9) }] {
                    do {
                        try call()
                        codes.append(0)
                    } catch let error as BatchUDPError {
                        codes.append(error.errorNumber)
                    } catch {
                        codes.append(-1)
                    }
                }
                inner.value = codes
            }
            counter.add(batch.map { Data($0.bytes) })
            if counter.count == 20 {
                done.fulfill()
            }
        }
        let a = try loopbackSocket()
        let target = b.localAddress
        try sendAll(a, payloads(20).map { OutgoingDatagram($0, to: target) })
        wait(for: [done], timeout: 30)
        XCTAssertEqual(counter.received, payloads(20))
        XCTAssertTrue(onOtherThread.value)
        XCTAssertEqual(inner.value, [EBUSY, EBUSY, EBUSY])
        b.close()
    }
}
