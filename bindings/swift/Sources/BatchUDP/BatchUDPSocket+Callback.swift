// The C callback form: a handler that gets views.
import CBatchUDP
import Foundation

extension BatchUDPSocket {
    /// Sets (or with `nil`, clears) the handler that receives batches from
    /// ``dispatch()``, or, with ``Options/callbackThread``, directly on
    /// the library's receiver thread as soon as they arrive.
    ///
    /// The handler gets views into the library's buffers, valid until it
    /// returns (copy with ``Datagram/init(_:)`` what must outlive it).  It may
    /// call ``send(_:)``, ``stats``, ``shutdown()`` and ``close()`` (which
    /// then does not wait for the handler); consumer calls from
    /// inside it throw `EBUSY`.  It is passed to the C library through an
    /// `Unmanaged` context owned by the socket.  The socket keeps the handler
    /// until it is cleared or the socket is released: capture the socket
    /// weakly in it to avoid a reference cycle.
    ///
    /// - Throws: ``BatchUDPError``: `EBADF` once shut down or closed,
    ///   `EBUSY` from inside a handler.
    public func onDatagrams(_ handler: (@Sendable (DatagramBatch) -> Void)?) throws {
        try acquireConsumer("budp_set_callback")
        defer { consumer.release() }
        try withHandle("budp_set_callback") { live in
            let previous = callbackBox.current
            callbackBox.set(handler)
            let rc: Int32
            if handler != nil && !callbackBox.isInstalled {
                rc = budp_set_callback(live, CallbackBox.trampoline, callbackBox.context)
                if rc >= 0 { callbackBox.isInstalled = true }
            } else if handler == nil && callbackBox.isInstalled {
                rc = budp_set_callback(live, nil, nil)
                if rc >= 0 { callbackBox.isInstalled = false }
            } else {
                rc = 0
            }
            if rc < 0 {
                callbackBox.set(previous)
                throw BatchUDPError(code: rc, operation: "budp_set_callback")
            }
        }
    }

    /// Receives up to ``Options/batchSize`` datagrams that are already
    /// there, without blocking, and hands them to the ``onDatagrams(_:)``
    /// handler on this thread.  See ``dispatch(max:)``.
    @discardableResult
    public func dispatch() throws -> Int {
        try dispatch(max: options.batchSize)
    }

    /// Receives up to `max` datagrams that are already there, without
    /// blocking, and hands them to the ``onDatagrams(_:)`` handler on this
    /// thread.
    ///
    /// - Returns: the number of datagrams handed over (0: nothing queued).
    /// - Throws: the errors of ``receive(max:)``, and `EINVAL` when no
    ///   handler is set.
    @discardableResult
    public func dispatch(max: Int) throws -> Int {
        guard max >= 1, let count = UInt32(exactly: max) else {
            throw BatchUDPError(code: -EINVAL, operation: "budp_dispatch(max: \(max))")
        }
        try acquireConsumer("budp_dispatch")
        defer { consumer.release() }
        return try withHandle("budp_dispatch") { live in
            Int(try check(budp_dispatch(live, count), "budp_dispatch"))
        }
    }
}
