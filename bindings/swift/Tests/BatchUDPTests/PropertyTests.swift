import BatchUDP
import Foundation
import XCTest

/// `stats` and `localAddress` cannot fail: live while the socket is open,
/// the last values once it is stopped.  And the outgoing datagram's fields.
final class PropertyTests: XCTestCase {
    func testStatsOfAStoppedSocketAreItsLastCounters() throws {
        let a = try loopbackSocket()
        let b = try loopbackSocket()
        try a.send(payloads(5), to: b.localAddress)
        XCTAssertEqual(try receive(5, from: b).count, 5)
        let (before, beforeB) = (a.stats, b.stats)
        XCTAssertEqual(before.txDatagrams, 5)
        XCTAssertEqual(beforeB.rxDatagrams, 5)

        a.shutdown()
        b.close()
        XCTAssertEqual(a.stats, before)
        XCTAssertEqual(b.stats, beforeB)
        a.close()
        XCTAssertEqual(a.stats, before, "read at the stop, kept through the close")
    }

    func testLocalAddressOfAStoppedSocketIsItsLastAddress() throws {
        let socket = try loopbackSocket()
        let address = socket.localAddress
        XCTAssertNotEqual(address.port, 0)
        socket.close()
        XCTAssertEqual(socket.localAddress, address)
    }

    /// A socket wrapped unbound gets its port from its first send: the
    /// address is read from the system while the socket is open, and the
    /// last one is kept after the close.
    func testLocalAddressFollowsTheSystem() throws {
        let fd = try systemSocket(type: socketTypeDatagram, bindToLoopback: false)
        defer { closeDescriptor(fd) }
        let wrapped = try BatchUDPSocket(fileDescriptor: fd)
        XCTAssertEqual(wrapped.localAddress.port, 0, "not bound yet")
        let peer = try loopbackSocket()
        try wrapped.send(Data("bind me".utf8), to: peer.localAddress)
        let bound = wrapped.localAddress
        XCTAssertNotEqual(bound.port, 0)
        XCTAssertEqual(try receive(1, from: peer).first?.peer?.port, bound.port)
        wrapped.close()
        XCTAssertEqual(wrapped.localAddress, bound)
    }

    func testOutgoingDatagramFields() throws {
        let peer = try Address(host: "192.0.2.1", port: 53)
        let local = try Address(host: "192.0.2.2", port: 0)
        let datagram = OutgoingDatagram(Data("x".utf8), to: peer, from: local, ecn: 2)
        XCTAssertEqual(datagram.peer, peer)
        XCTAssertEqual(datagram.local, local)
        XCTAssertEqual(datagram.ecn, 2)
        XCTAssertEqual(OutgoingDatagram(bytes: [1, 2], to: peer).data, Data([1, 2]))
    }

    #if os(Linux)
    /// `local` is the address sent from: every 127/8 address is the
    /// loopback's on Linux, so a socket bound to the wildcard can send from
    /// 127.0.0.2.
    func testLocalIsTheSourceAddress() throws {
        let sender = try BatchUDPSocket(bindHost: "0.0.0.0", port: 0)
        let receiver = try loopbackSocket()
        let from = try Address(host: "127.0.0.2", port: 0)
        try sender.send([OutgoingDatagram(Data("from .2".utf8), to: receiver.localAddress, from: from)])
        let got = try XCTUnwrap(try receive(1, from: receiver).first)
        XCTAssertEqual(got.peer?.host, "127.0.0.2")
        XCTAssertEqual(got.peer?.port, sender.localAddress.port)
    }
    #endif
}
