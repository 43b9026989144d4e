// Sending: budp_send with every payload pinned for the length of the call.
import CBatchUDP
import Foundation

extension BatchUDPSocket {
    /// Sends datagrams without blocking, in order, in as few system calls as
    /// the backend allows.  Any thread, also while another thread receives.
    ///
    /// - Returns: how many were sent, from the start of the array: fewer than
    ///   given when the kernel stopped taking them (full send buffer, or an
    ///   error after the first one).  Send the rest again later, or use
    ///   ``sendAll(_:isolation:)``, which does that.
    /// - Throws: ``BatchUDPError`` when the first datagram fails: `EAGAIN`
    ///   (send buffer full), `EDESTADDRREQ` (no peer, socket not
    ///   connected), `EINVAL` (payload over 65535 bytes), `EMSGSIZE`,
    ///   `ECONNREFUSED`, `EBADF` once shut down or closed, ...
    @discardableResult
    public func send(_ datagrams: [OutgoingDatagram]) throws -> Int {
        try send(datagrams[...])
    }

    /// ``send(_:)`` of a slice: what ``sendAll(_:isolation:)`` resends, without a copy.
    func send(_ datagrams: ArraySlice<OutgoingDatagram>) throws -> Int {
        if datagrams.isEmpty {
            return 0
        }
        return try withHandle("budp_send") { live in
            let chunkSize = Swift.max(1, Swift.min(options.batchSize, Self.maxSendChunk))
            var sent = 0
            var start = datagrams.startIndex
            while start < datagrams.endIndex {
                let end = Swift.min(start + chunkSize, datagrams.endIndex)
                let rc = sendGate.send { Self.sendChunk(live, datagrams[start..<end]) }
                if rc < 0 {
                    if sent == 0 {
                        throw BatchUDPError(code: rc, operation: "budp_send")
                    }
                    break
                }
                sent += Int(rc)
                if Int(rc) < end - start {
                    break
                }
                start = end
            }
            return sent
        }
    }

    /// Sends one datagram.
    /// - Throws: as ``send(_:)``.
    public func send(_ data: Data, to peer: Address? = nil) throws {
        try send([OutgoingDatagram(data, to: peer)])
    }

    /// Sends several payloads to one peer (equal sizes let Linux send them
    /// as one GSO send).
    /// - Returns: how many were sent, as ``send(_:)``.
    @discardableResult
    public func send(_ payloads: [Data], to peer: Address? = nil) throws -> Int {
        try send(payloads.map { OutgoingDatagram($0, to: peer) })
    }

    /// The most datagrams handed to one `budp_send`: each payload is pinned
    /// one closure deeper, so this bounds the stack used (a dispatch thread
    /// has 512 KiB on Apple platforms).  64 is also the most segments of one
    /// GSO send, and batching gains flatten well before it.
    static let maxSendChunk = 64

    /// Builds the C array for `chunk` with every payload pinned, and sends.
    private static func sendChunk(_ live: OpaquePointer, _ chunk: ArraySlice<OutgoingDatagram>) -> Int32 {
        let count = chunk.count
        return withUnsafeTemporaryAllocation(of: budp_datagram.self, capacity: count) { array in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { empty in
                // Payloads are pinned one closure inside the other, so every
                // pointer stays valid until budp_send returns.
                func pin(_ i: Int) -> Int32 {
                    if i == count {
                        return budp_send(live, UnsafePointer(array.baseAddress!), UInt32(count))
                    }
                    let item = chunk[chunk.startIndex + i]
                    return item.data.withUnsafeBytes { payload in
                        // Zero-initialised: flags, segment_size and
                        // reserved must stay 0.
                        var d = budp_datagram()
                        d.data = payload.baseAddress.map {
                            UnsafePointer($0.assumingMemoryBound(to: UInt8.self))
                        } ?? UnsafePointer(empty.baseAddress!)
                        d.len = UInt32(exactly: payload.count) ?? UInt32.max
                        if let peer = item.peer {
                            d.peer = peer.raw
                        }
                        if let local = item.local {
                            d.local = local.raw
                        }
                        d.ecn = item.ecn
                        d.time_ns = item.timeNs
                        (array.baseAddress! + i).initialize(to: d)
                        return pin(i + 1)
                    }
                }
                return pin(0)
            }
        }
    }
}
