// Sending everything: send what the kernel takes, suspend while the send
// buffer or the interface's queue is full, go on where the kernel stopped.
import Foundation

extension BatchUDPSocket {
    /// Sends every datagram, in order, in as few system calls as the backend
    /// allows, suspending the task (not a thread) while the socket's send
    /// buffer is full.
    ///
    /// Each round sends what the kernel takes (``send(_:)``); when it takes
    /// nothing (`EAGAIN`), the task waits until the UDP socket is writable
    /// (POLLOUT on ``fileDescriptor``) and the next round starts at the first
    /// datagram not sent: none is sent twice, none is left out.  A full
    /// interface queue (`ENOBUFS`: a connected socket on Apple platforms,
    /// Linux under qdisc pressure) leaves the socket writable, so the task
    /// sleeps instead: 1 ms, doubling to 16 ms while the refusals go on,
    /// back to 1 ms once a round sends some.  Any number of tasks and
    /// threads may send at once; the order holds within one call, and
    /// concurrent calls interleave.
    ///
    /// ```swift
    /// for try await batch in socket.batches {    // an echo server
    ///     try await socket.sendAll(batch.map { OutgoingDatagram($0.data, to: $0.peer) })
    /// }
    /// ```
    ///
    /// It runs on the caller's actor (`isolation`, by default the caller's
    /// own): an actor that owns a socket sends without hopping to the global
    /// executor and back.
    ///
    /// - Throws: ``BatchUDPError``: `EBADF` once the socket is shut down or
    ///   closed (also while waiting; within 16 ms while it sleeps); any other error of `budp_send` for the
    ///   first datagram of a round (`EDESTADDRREQ`, `EINVAL`, `EMSGSIZE`,
    ///   `ECONNREFUSED`, ...; see ``send(_:)``).  `CancellationError` when
    ///   the task is cancelled before everything was sent.  Either way, the
    ///   datagrams before the one that failed were sent and the others were
    ///   not; the error does not say how many went.
    public func sendAll(_ datagrams: [OutgoingDatagram],
                        isolation: isolated (any Actor)? = #isolation) async throws {
        try await sendAll(datagrams[...]) { try self.send($0) }
    }

    /// Sends every payload to one peer (`nil` on a connected socket), as
    /// ``sendAll(_:isolation:)``; equal sizes let Linux send them as one GSO send.
    public func sendAll(_ payloads: [Data], to peer: Address? = nil,
                        isolation: isolated (any Actor)? = #isolation) async throws {
        try await sendAll(payloads.map { OutgoingDatagram($0, to: peer) })
    }

    /// The loop of ``sendAll(_:isolation:)``, with its send as a parameter (for
    /// tests): `send` sends a prefix of what it is given and returns how
    /// many, or throws (`EAGAIN`, `ENOBUFS`: nothing taken).
    func sendAll(_ datagrams: ArraySlice<OutgoingDatagram>,
                 isolation: isolated (any Actor)? = #isolation,
                 using send: (ArraySlice<OutgoingDatagram>) throws -> Int) async throws {
        var rest = datagrams
        var backoff = SendBackoff()
        while !rest.isEmpty {
            try Task.checkCancellation()
            let sent: Int
            var queueFull = false
            do {
                sent = try send(rest)
            } catch let error as BatchUDPError where error.errorNumber == EAGAIN {
                sent = 0
            } catch let error as BatchUDPError where error.errorNumber == ENOBUFS {
                // Nothing went (budp_send fails only when the first
                // datagram does): the next round starts at the same one.
                sent = 0
                queueFull = true
            }
            if sent > 0 {
                rest = rest.dropFirst(sent)
                backoff.reset()
            } else if queueFull {
                // Throws CancellationError when the task is cancelled; a
                // shutdown meanwhile makes the next round throw EBADF.
                try await Task.sleep(for: backoff.nextDelay())
            } else {
                // A full send buffer.  POLLOUT comes once it is half empty
                // (Linux), so this does not wake for every datagram that
                // leaves it.
                try await waitUntil(.writable)
            }
        }
    }
}
