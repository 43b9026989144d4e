// Receiving without waiting, and waiting on a thread.
import CBatchUDP
import Foundation

extension BatchUDPSocket {
    /// Receives up to ``Options/batchSize`` datagrams that are already
    /// there, without blocking, and copies them out of the library's
    /// buffers.  See ``receive(max:)``.
    public func receive() throws -> [Datagram] {
        try receive(max: options.batchSize)
    }

    /// Receives up to `max` datagrams that are already there, without
    /// blocking, and copies them out of the library's buffers.
    ///
    /// Inline mode: at most one system call.  An empty array means nothing
    /// was queued.
    ///
    /// - Parameter max: the most datagrams to return (at least 1).
    /// - Throws: ``BatchUDPError``: `EINVAL` (`max` < 1, callback-thread
    ///   mode), `EBADF` once shut down or closed, `EBUSY` from inside a
    ///   handler, or a receive error met since the last call
    ///   (`ECONNREFUSED` and other ICMP-reported errors leave the socket
    ///   usable).
    public func receive(max: Int) throws -> [Datagram] {
        try withReceivedDatagrams(max: max) { batch in
            batch.map(Datagram.init)
        }
    }

    /// Receives up to ``Options/batchSize`` datagrams that are already
    /// there, without blocking, and hands them to `body` as views into the
    /// library's buffers: no copy.  See ``withReceivedDatagrams(max:_:)``.
    public func withReceivedDatagrams<R>(_ body: (DatagramBatch) throws -> R) throws -> R {
        try withReceivedDatagrams(max: options.batchSize, body)
    }

    /// Receives up to `max` datagrams that are already there, without
    /// blocking, and hands them to `body` as views into the library's
    /// buffers: no copy.
    ///
    /// The views (and their `bytes`) are valid only inside `body`.  Other
    /// consumer calls wait until `body` returns; from inside `body` they
    /// throw `EBUSY`.  ``send(_:)`` may be called from inside `body`, for
    /// example to echo a datagram back.
    ///
    /// - Parameters:
    ///   - max: the most datagrams to receive (at least 1).
    ///   - body: gets the batch, possibly empty.
    /// - Returns: what `body` returns.
    /// - Throws: the errors of ``receive(max:)``, and what `body` throws.
    public func withReceivedDatagrams<R>(max: Int,
                                         _ body: (DatagramBatch) throws -> R) throws -> R {
        guard max >= 1, let count = UInt32(exactly: max) else {
            throw BatchUDPError(code: -EINVAL, operation: "budp_recv(max: \(max))")
        }
        try acquireConsumer("budp_recv")
        defer { consumer.release() }
        return try withHandle("budp_recv") { live in
            var views: UnsafePointer<budp_datagram>?
            let n = try check(budp_recv(live, &views, count), "budp_recv")
            let batch = n > 0 && views != nil
                ? DatagramBatch(UnsafeBufferPointer(start: views, count: Int(n)))
                : DatagramBatch(UnsafeBufferPointer(start: nil, count: 0))
            return try body(batch)
        }
    }

    /// Blocks the calling thread until something can be received, or the
    /// timeout passes.
    ///
    /// One `budp_wait` with the whole timeout.  ``shutdown()`` or
    /// ``close()`` from another thread wakes it at once, and it throws
    /// `EBADF`.  Not for use on a Swift concurrency thread: use
    /// ``batches`` there.
    ///
    /// In callback-thread mode (``Options/callbackThread``) there is nothing
    /// to receive: `wait` blocks until the receiver thread meets a receive
    /// error and throws it, or returns `false` when the timeout passes.  A
    /// transient error (`ECONNREFUSED` and other ICMP-reported ones) is
    /// thrown once and the receiver thread goes on; a fatal one (`EBADF`,
    /// `ENOTSOCK`, `EFAULT`: the descriptor was closed or replaced behind
    /// the library's back) has stopped the thread and is thrown by every
    /// call from then on (``stats`` still works, which tells it from a
    /// shutdown).  Every one is counted in ``Stats/rxErrors``.  Like
    /// every consumer call, a waiting thread makes ``onDatagrams(_:)`` on
    /// another thread wait until it returns.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits for ever, `.zero`
    ///   only checks.
    /// - Returns: `true` when a datagram is ready (rarely spurious: a receive
    ///   may then return nothing), `false` when the timeout passed (always,
    ///   in callback-thread mode).
    /// - Throws: ``BatchUDPError``: a receive error in callback-thread mode
    ///   (see above), `EBADF` once the socket is shut down or closed,
    ///   `EBUSY` from inside a handler, errors of `poll()`.
    public func wait(timeout: Duration? = nil) throws -> Bool {
        try acquireConsumer("budp_wait")
        defer { consumer.release() }
        return try withHandle("budp_wait") { live in
            guard let timeout else {
                return try check(budp_wait(live, -1), "budp_wait") > 0
            }
            // Timeouts over Int32.max milliseconds (24.8 days) take several
            // calls; every other one takes one.
            var remaining = Self.milliseconds(timeout)
            while true {
                let slice = Int32(clamping: remaining)
                if try check(budp_wait(live, slice), "budp_wait") > 0 {
                    return true
                }
                remaining -= Int(slice)
                if remaining <= 0 {
                    return false
                }
            }
        }
    }

    /// `duration` in whole milliseconds, rounded up, at least 0.
    static func milliseconds(_ duration: Duration) -> Int {
        if duration <= .zero {
            return 0
        }
        let (seconds, attoseconds) = duration.components
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        let (total, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? Int.max : Int(clamping: total + fraction)
    }
}
