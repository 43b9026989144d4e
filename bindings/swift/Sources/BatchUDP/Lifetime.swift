// Stopping and freeing a socket that other threads and tasks may be using:
// the C library's shutdown/close split.
import CBatchUDP
import Foundation

/// The C socket, as a value that may cross threads.
///
/// `@unchecked Sendable` because the C library's contract says which calls
/// may run where (the header's "Threads" and "Lifetime" conventions), and
/// the binding keeps to it: consumer calls one at a time (``ConsumerLock``),
/// connect apart from sends (``SendGate``), every other call on any thread,
/// and `budp_close` (or, for a group's member, the group's close of it) only
/// once no call and no readiness wait uses the handle
/// (``BatchUDPSocket/closeIfIdle(after:)``).
struct LibraryHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// What `BatchUDPSocket.state` guards.
///
/// ``BatchUDPSocket/shutdown()`` and ``BatchUDPSocket/close()`` stop the C
/// socket at once (`budp_shutdown` wakes every thread blocked in it, and the
/// binding wakes its readiness waits, which the library does not know of);
/// from then on no call enters C.  Each call in progress and each readiness
/// wait whose DispatchSource is not cancelled yet counts in `users`;
/// `budp_close` runs exactly once, by whoever finds the close requested and
/// `users` at zero, so the handle and its descriptors outlive every user.
struct SocketState: Sendable {
    var handle: LibraryHandle?          // nil once taken for budp_close
    var stopped = false                 // shutdown() or close() ran
    var closeRequested = false          // close() ran
    var closed = false                  // budp_close returned
    var users = 0
    var waits: [ObjectIdentifier: ReadinessWait] = [:]  // to wake at the stop
    var localAddress: Address           // the last one read
    var finalStats = BatchUDPSocket.Stats(budp_stats())  // read at the stop
    var errorStash: [ErrorEvent] = []   // set aside by batches, for receiveErrors
    var errorStashDropped: UInt64 = 0   // found the stash full

    init(handle: LibraryHandle, localAddress: Address) {
        self.handle = handle
        self.localAddress = localAddress
    }
}

extension BatchUDPSocket {
    /// Stops the socket without freeing it, from any thread, at any time:
    /// inside a handler too, as often as wanted.
    ///
    /// Every thread blocked on the socket (in ``wait(timeout:)``) and every
    /// task suspended on it (iterating ``batches`` or ``datagrams``, in
    /// ``sendAll(_:isolation:)``) wakes at once and gets `EBADF`.  From then on every
    /// call on the socket throws `EBADF`; ``stats`` and ``localAddress``
    /// keep their last values.  Unlike ``close()`` it never blocks, and it
    /// releases nothing: the descriptor and the library's memory stay until
    /// ``close()`` or until the last reference goes.  Use it to stop a
    /// socket that another thread or task uses, from where waiting for that
    /// user would be wrong: an async context, a handler.
    public func shutdown() {
        stop(closing: false)
    }

    /// Closes the socket: stops it as ``shutdown()`` does (threads blocked
    /// on it wake and throw `EBADF`, and so do the suspended tasks), waits
    /// for the calls still in progress on other threads to return and for
    /// the readiness waits to let go of the descriptor, then frees the
    /// library's socket (closing the descriptor unless it was given to
    /// ``init(fileDescriptor:options:)``).
    ///
    /// Idempotent, and safe from any thread.  It blocks the calling thread
    /// until the other users left (a short time: they were all woken), so
    /// prefer ``shutdown()`` in an async context.  Called from inside a
    /// handler or a ``withReceivedDatagrams(_:)`` closure, it does not wait:
    /// the socket is freed as soon as no call is in progress any more (at
    /// once on the receiver thread of callback-thread mode when no other
    /// thread is inside a call, else when the last call returns).  Every
    /// later call on the socket throws `EBADF`.
    ///
    /// A member of a ``BatchUDPGroup`` is closed as
    /// ``BatchUDPGroup/closeMember(_:)`` closes it: the kernel stops
    /// steering datagrams to it, and what was queued to it is counted in
    /// the group's ``BatchUDPGroup/dropped``.
    public func close() {
        closeClaiming()
    }

    /// ``close()``, returning whether this call was the first to ask for the
    /// close (false: ``close()`` had been called already).  Unless it was
    /// called from inside a call on this socket on this thread
    /// (``isInCallOnCurrentThread``), the socket is freed when it returns.
    @discardableResult
    func closeClaiming() -> Bool {
        let first = stop(closing: true)
        if closeIfIdle() {
            return first
        }
        if isInCallOnCurrentThread {
            // A call on this thread is in progress and cannot return while
            // we wait: the last call to return frees the socket.
            return first
        }
        state.wait(until: { $0.closed }) { _ in }
        return first
    }

    /// Whether this thread is inside a call on the socket that a close
    /// cannot wait for: a consumer call (the closure of
    /// ``withReceivedDatagrams(_:)``, a ``dispatch()`` handler) or a
    /// handler on the receiver thread.
    var isInCallOnCurrentThread: Bool {
        consumer.isHeldByCurrentThread || callbackBox.isDeliveringOnCurrentThread
    }

    /// Whether ``close()`` or ``shutdown()`` was called: every call on the
    /// socket throws `EBADF`.
    public var isClosed: Bool {
        state.withLock { $0.stopped }
    }

    /// Marks the socket stopped (and, with `closing`, to be freed), shuts the
    /// C socket down the first time, and wakes the readiness waits.  Returns
    /// whether this call was the first to ask for the close.
    @discardableResult
    private func stop(closing: Bool) -> Bool {
        let (waits, first): ([ReadinessWait], Bool) = state.withLock { state in
            let first = closing && !state.closeRequested
            if closing {
                state.closeRequested = true
            }
            if !state.stopped {
                state.stopped = true
                // Under the lock: the handle cannot be taken for budp_close
                // meanwhile.  After budp_shutdown the library answers EBADF
                // to every call, so what stays readable is read first.
                if let handle = state.handle?.pointer {
                    var raw = budp_stats()
                    if budp_get_stats(handle, &raw, MemoryLayout<budp_stats>.size) >= 0 {
                        state.finalStats = Stats(raw)
                        state.finalStats.errorEventsDropped += state.errorStashDropped
                    }
                    var address = budp_addr()
                    if budp_local_addr(handle, &address) >= 0, let local = Address(address) {
                        state.localAddress = local
                    }
                    budp_shutdown(handle)
                }
            }
            defer { state.waits.removeAll() }
            return (Array(state.waits.values), first)
        }
        for wait in waits {
            wait.finish(.failure(BatchUDPError(code: -EBADF, operation: wait.operation)))
        }
        return first
    }

    /// Runs `update` with the state locked, then frees the socket if a close
    /// was asked and nothing uses it any more.  Returns whether it freed it.
    @discardableResult
    func closeIfIdle(after update: (inout SocketState) -> Void = { _ in }) -> Bool {
        let idle: LibraryHandle? = state.withLock { state in
            update(&state)
            guard state.closeRequested, state.users == 0, let idle = state.handle else {
                return nil
            }
            state.handle = nil
            return idle
        }
        guard let idle else {
            return false
        }
        freeHandle(idle)
        state.withLockWakingWaiters { $0.closed = true }
        // Marked closed first: the group's close (budp_group_close) waits
        // for the other members' receiver threads, whose handlers may be
        // waiting for this member's close.
        membership?.group.closeIfIdle()
        return true
    }

    /// Frees the C socket, once no call uses it: `budp_close`, or for a
    /// group's member, its close through the group
    /// (``GroupCore/release(member:handle:callbacks:)``: counted, or once
    /// the group's close was asked, handed over to it; the caller then
    /// calls the group's ``GroupCore/closeIfIdle(after:)``).
    func freeHandle(_ handle: LibraryHandle) {
        if let membership {
            membership.group.release(member: membership.index, handle: handle,
                                     callbacks: callbackBox)
        } else {
            budp_close(handle.pointer)
        }
    }

    /// Takes the consumer lock (release it with `consumer.release()`).
    /// - Throws: `EBUSY` from inside a handler or a consumer call on this
    ///   thread, as the library answers from inside its callback (and
    ///   waiting could deadlock: in callback-thread mode
    ///   `budp_set_callback` waits for a running handler to return).
    func acquireConsumer(_ operation: @autoclosure () -> String) throws {
        if callbackBox.isDeliveringOnCurrentThread {
            throw BatchUDPError(code: -EBUSY, operation: operation())
        }
        try consumer.acquire(operation())
    }

    /// Runs `body` with the C handle, counted as a user: the handle is not
    /// freed before `body` returns.
    /// - Throws: `EBADF` once ``shutdown()`` or ``close()`` was called.
    func withHandle<R>(_ operation: @autoclosure () -> String,
                       _ body: (OpaquePointer) throws -> R) throws -> R {
        let live: LibraryHandle? = state.withLock { state in
            guard !state.stopped, let live = state.handle else { return nil }
            state.users += 1
            return live
        }
        guard let live else {
            throw BatchUDPError(code: -EBADF, operation: operation())
        }
        defer {
            closeIfIdle { $0.users -= 1 }
        }
        return try body(live.pointer)
    }
}
