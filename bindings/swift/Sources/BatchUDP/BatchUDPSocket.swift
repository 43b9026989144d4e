import CBatchUDP
import Dispatch
import Foundation

/// A UDP socket that receives and sends datagrams in batches, one system
/// call per batch (libbatchudp).
///
/// ## Receiving
/// Pick one of:
/// - ``receive(max:)``: up to `max` datagrams, copied into ``Datagram``
///   values; never blocks (combine with ``wait(timeout:)``).
/// - ``withReceivedDatagrams(max:_:)``: the same batch as views into the
///   library's buffers, without a copy, valid inside the closure.
/// - ``datagrams``: an `AsyncThrowingStream` woken by a `DispatchSource` on
///   ``pollFileDescriptor``.
/// - ``onDatagrams(_:)`` and ``dispatch(max:)``: the C callback form.
///
/// ## Threads
/// The class is `Sendable` because it keeps to the library's rules itself:
/// - Consumer calls (receiving, ``wait(timeout:)``, ``dispatch(max:)``,
///   ``onDatagrams(_:)``, ``connect(host:port:)``) run one at a time: a
///   second thread waits for the first to finish (the library allows one
///   consumer at a time).  Such a call made from inside a handler, or from
///   inside another on the same thread (the closure of
///   ``withReceivedDatagrams(max:_:)``), throws `EBUSY`.
/// - ``send(_:)`` may run on any number of threads at once, also while a
///   consumer call runs; only ``connect(host:port:)`` makes sends wait (the
///   library does not allow the two at once).  ``stats``, ``localAddress``
///   and the file descriptors may be used from any thread at any time.
/// - ``shutdown()`` and ``close()`` may be called from any thread, also
///   from inside a handler.  Both stop the socket at once: a thread blocked
///   in ``wait(timeout:)`` wakes and throws `EBADF`, the ``datagrams``
///   streams end, and every later call throws `EBADF`.  ``close()`` then
///   waits for the calls still in progress on other threads and frees the
///   library's socket; ``shutdown()`` returns at once and frees nothing.
///
/// A socket is closed when the last reference to it goes away, if it was not
/// closed before.  A ``datagrams`` stream holds a reference to its socket.
public final class BatchUDPSocket: @unchecked Sendable {
    /// The options the socket was created with.
    public let options: Options

    /// The backend in use: "mmsg", "msgx" or "loop".
    public let backendName: String

    // Lifetime, guarded by `state`: the C library's shutdown/close split.
    // shutdown() and close() stop the C socket at once (budp_shutdown, which
    // wakes every thread blocked in it); from then on no call enters C.  A
    // call in progress on any thread counts in activeCalls, a stream's live
    // DispatchSource in activeSources; budp_close runs exactly once, by
    // whoever finds close() requested and both counts at zero, so the handle
    // and its descriptors outlive every call and every source.
    private let state = NSCondition()
    private var handle: OpaquePointer?    // nil once taken for budp_close
    private var stopped = false           // shutdown() or close() ran
    private var closeRequested = false    // close() ran
    private var closed = false            // budp_close returned
    private var activeCalls = 0
    private var activeSources = 0
    private var streams: [ObjectIdentifier: WeakStreamDriver] = [:]

    let consumer = ConsumerLock()
    let sendGate = SendGate()
    private let callbackBox = CallbackBox()
    private var callbackInstalled = false  // guarded by the consumer lock

    /// Creates a UDP socket bound to a numeric address and port.
    ///
    /// - Parameters:
    ///   - bindHost: a numeric IPv4 or IPv6 address: "127.0.0.1", "::1",
    ///     "0.0.0.0", "::", "fe80::1%eth0".
    ///   - port: the port, 0 for any free one (see ``localAddress``).
    ///   - options: the socket's options.
    /// - Throws: ``BatchUDPError``: `EINVAL` (bad host or option),
    ///   `ENOTSUP` (backend or mode not available here), errors of
    ///   `socket()` and `bind()` (`EADDRINUSE`, `EADDRNOTAVAIL`, ...).
    public convenience init(bindHost: String, port: UInt16, options: Options = Options()) throws {
        let cOptions = try options.makeCOptions()
        defer { budp_options_free(cOptions) }
        var raw: OpaquePointer?
        try check(budp_bind(&raw, bindHost, port, cOptions), "budp_bind(\(bindHost), \(port))")
        guard let raw else { throw BatchUDPError(code: -ENOMEM, operation: "budp_bind") }
        self.init(handle: raw, options: options)
    }

    /// Wraps an existing UDP socket (IPv4 or IPv6, bound or not).
    ///
    /// The descriptor stays the caller's: ``close()`` does not close it, and
    /// the caller must keep it open until the socket is closed.
    ///
    /// - Throws: ``BatchUDPError``: `EBADF` (not open), `ENOTSOCK`,
    ///   `EPROTOTYPE` (not UDP), `EAFNOSUPPORT`, `EINVAL` (bad option),
    ///   `ENOTSUP`.
    public convenience init(fileDescriptor: Int32, options: Options = Options()) throws {
        let cOptions = try options.makeCOptions()
        defer { budp_options_free(cOptions) }
        var raw: OpaquePointer?
        try check(budp_open(&raw, fileDescriptor, cOptions), "budp_open(\(fileDescriptor))")
        guard let raw else { throw BatchUDPError(code: -ENOMEM, operation: "budp_open") }
        self.init(handle: raw, options: options)
    }

    private init(handle: OpaquePointer, options: Options) {
        self.handle = handle
        self.options = options
        self.backendName = String(cString: budp_backend_name(handle))
    }

    deinit {
        // Nothing can be in progress here: every call and every stream
        // source holds a reference to the socket.
        if let handle {
            budp_close(handle)
        }
    }

    // MARK: - Lifecycle

    /// Stops the socket without freeing it, from any thread, at any time:
    /// inside a handler too, as often as wanted.
    ///
    /// Every thread blocked on the socket (in ``wait(timeout:)``, or
    /// iterating ``datagrams``) wakes at once: `wait` throws `EBADF`, the
    /// streams end.  From then on every call on the socket throws `EBADF`.
    /// Unlike ``close()`` it never blocks, and it releases nothing: the
    /// descriptor and the library's memory stay until ``close()`` or until
    /// the last reference goes.  Use it to stop a socket that another thread
    /// or task uses, from where waiting for that user would be wrong: an
    /// async context, the queue of a ``datagrams(maxPerReceive:queue:)``
    /// stream, a handler.
    public func shutdown() {
        for driver in stop(closing: false) {
            driver.finish()
        }
    }

    /// Closes the socket: stops it as ``shutdown()`` does (threads blocked
    /// on it wake and throw `EBADF`, the ``datagrams`` streams end), waits
    /// for the calls still in progress on other threads to return and for
    /// the streams' sources to be cancelled, then frees the library's socket
    /// (closing the descriptor unless it was given to
    /// ``init(fileDescriptor:options:)``).
    ///
    /// Idempotent, and safe from any thread.  Called from inside a handler
    /// or a ``withReceivedDatagrams(max:_:)`` closure, it does not wait: the
    /// socket is freed as soon as no call is in progress any more (at once
    /// on the receiver thread of callback-thread mode when no other thread
    /// is inside a call, else when the last call returns).  Every later call
    /// on the socket throws `EBADF`.
    public func close() {
        for driver in stop(closing: true) {
            driver.finish()
        }
        if closeIfIdle() {
            return
        }
        if consumer.isHeldByCurrentThread || callbackBox.isDeliveringOnCurrentThread {
            // A call on this thread is in progress and cannot return while
            // we wait: the last call to return frees the socket.
            return
        }
        state.lock()
        while !closed {
            state.wait()
        }
        state.unlock()
    }

    /// Whether ``close()`` or ``shutdown()`` was called: every call on the
    /// socket throws `EBADF`.
    public var isClosed: Bool {
        state.withLock { stopped }
    }

    /// Marks the socket stopped (and, with `closing`, to be freed), shuts the
    /// C socket down the first time, and returns the live streams to finish.
    private func stop(closing: Bool) -> [DatagramStreamDriver] {
        state.withLock {
            if closing {
                closeRequested = true
            }
            if !stopped {
                stopped = true
                // Under the lock: the handle cannot be taken for budp_close
                // meanwhile.  budp_shutdown does not block.
                if let handle {
                    budp_shutdown(handle)
                }
            }
            let live = streams.values.compactMap(\.driver)
            streams.removeAll()
            return live
        }
    }

    /// Runs `update` with `state` locked, then frees the socket if a close
    /// was asked and no call or stream source is in progress any more.
    /// Returns whether it freed it.
    @discardableResult
    private func closeIfIdle(after update: () -> Void = {}) -> Bool {
        let idle: OpaquePointer? = state.withLock {
            update()
            guard closeRequested, activeCalls == 0, activeSources == 0, let idle = handle else {
                return nil
            }
            handle = nil
            return idle
        }
        guard let idle else {
            return false
        }
        budp_close(idle)
        state.withLock {
            closed = true
            state.broadcast()
        }
        return true
    }

    /// Takes the consumer lock (release it with `consumer.release()`).
    /// - Throws: `EBUSY` from inside a handler or a consumer call on this
    ///   thread, as the library answers from inside its callback (and
    ///   waiting could deadlock: in callback-thread mode
    ///   `budp_set_callback` waits for a running handler to return).
    private func acquireConsumer(_ operation: @autoclosure () -> String) throws {
        if callbackBox.isDeliveringOnCurrentThread {
            throw BatchUDPError(code: -EBUSY, operation: operation())
        }
        try consumer.acquire(operation())
    }

    /// Runs `body` with the C handle, counted as a call in progress: the
    /// handle is not freed before `body` returns.
    /// - Throws: `EBADF` once ``shutdown()`` or ``close()`` was called.
    func withHandle<R>(_ operation: @autoclosure () -> String,
                       _ body: (OpaquePointer) throws -> R) throws -> R {
        let live: OpaquePointer? = state.withLock {
            guard !stopped, let live = handle else { return nil }
            activeCalls += 1
            return live
        }
        guard let live else {
            throw BatchUDPError(code: -EBADF, operation: operation())
        }
        defer {
            closeIfIdle { activeCalls -= 1 }
        }
        return try body(live)
    }

    // MARK: - Stream sources

    /// Counts a stream's DispatchSource as alive (until
    /// ``streamSourceCancelled()``) so the descriptor outlives it.
    func registerStreamSource(_ driver: DatagramStreamDriver) throws {
        try state.withLock {
            guard !stopped, handle != nil else {
                throw BatchUDPError(code: -EBADF, operation: "datagrams")
            }
            activeSources += 1
            streams[ObjectIdentifier(driver)] = WeakStreamDriver(driver)
        }
    }

    /// Called by the cancel handler of a stream's source.
    func streamSourceCancelled() {
        closeIfIdle { activeSources -= 1 }
    }

    /// Forgets a finished stream.
    func unregisterStream(_ id: ObjectIdentifier) {
        state.withLock { _ = streams.removeValue(forKey: id) }
    }

    // MARK: - Addresses and descriptors

    /// Connects the socket to a peer: ``send(_:)`` may then leave the
    /// destination out, and only that peer's datagrams arrive.
    ///
    /// A consumer call (see the class documentation); sends on other threads
    /// wait while it runs.
    ///
    /// - Parameters:
    ///   - host: a numeric IPv4 or IPv6 address.
    ///   - port: the peer's port.
    /// - Throws: ``BatchUDPError``: `EINVAL` (bad host), errors of
    ///   `connect()`, `EBADF` once shut down or closed.
    public func connect(host: String, port: UInt16) throws {
        try acquireConsumer("budp_connect")
        defer { consumer.release() }
        try withHandle("budp_connect(\(host), \(port))") { live in
            try sendGate.connect {
                _ = try check(budp_connect(live, host, port), "budp_connect(\(host), \(port))")
            }
        }
    }

    /// The address and port the socket is bound to.
    /// - Throws: ``BatchUDPError`` (`EBADF` once shut down or closed).
    public var localAddress: Address {
        get throws {
            try withHandle("budp_local_addr") { live in
                var raw = budp_addr()
                try check(budp_local_addr(live, &raw), "budp_local_addr")
                guard let address = Address(raw) else {
                    throw BatchUDPError(code: -EAFNOSUPPORT, operation: "budp_local_addr")
                }
                return address
            }
        }
    }

    /// The UDP socket's descriptor.  Do not close it; reading from it
    /// bypasses the library.
    /// - Throws: ``BatchUDPError`` (`EBADF` once shut down or closed).
    public var fileDescriptor: Int32 {
        get throws {
            try withHandle("budp_socket_fd") { live in
                try check(budp_socket_fd(live), "budp_socket_fd")
            }
        }
    }

    /// The descriptor to watch for readability before receiving: the socket
    /// (inline mode) or the receiver thread's notify descriptor (threaded
    /// mode).  It is a hint: a wake-up may bring nothing, several arrivals
    /// may share one wake-up, and it is only certain to become readable
    /// again after a receive returned nothing (datagrams the library holds
    /// already, such as the rest of a batch, do not make it readable).  Do
    /// not read from it or close it.
    /// - Throws: ``BatchUDPError``: `ENOTSUP` in callback-thread mode
    ///   (nothing to poll), `EBADF` once shut down or closed.
    public var pollFileDescriptor: Int32 {
        get throws {
            try withHandle("budp_poll_fd") { live in
                try check(budp_poll_fd(live), "budp_poll_fd")
            }
        }
    }

    /// The socket's counters.  Any thread.
    /// - Throws: ``BatchUDPError`` (`EBADF` once shut down or closed).
    public var stats: Statistics {
        get throws {
            try withHandle("budp_get_stats") { live in
                var raw = budp_stats()
                try check(budp_get_stats(live, &raw, MemoryLayout<budp_stats>.size),
                          "budp_get_stats")
                return Statistics(raw)
            }
        }
    }

    // MARK: - Receiving

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
    public func receive(max: Int = 32) throws -> [Datagram] {
        try withReceivedDatagrams(max: max) { batch in
            batch.map(Datagram.init)
        }
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
    public func withReceivedDatagrams<R>(max: Int = 32,
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
    /// ``datagrams`` there.
    ///
    /// In callback-thread mode (``Options/callbackThread``) there is nothing
    /// to receive: `wait` blocks until the receiver thread meets a receive
    /// error and throws it, or returns `false` when the timeout passes.  A
    /// transient error (`ECONNREFUSED` and other ICMP-reported ones) is
    /// thrown once and the receiver thread goes on; a fatal one (`EBADF`,
    /// `ENOTSOCK`, `EFAULT`: the descriptor was closed or replaced behind
    /// the library's back) has stopped the thread and is thrown by every
    /// call from then on (``stats`` still works, which tells it from a
    /// shutdown).  Every one is counted in ``Statistics/rxErrors``.  Like
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

    // MARK: - Callbacks

    /// Sets (or with `nil`, clears) the handler that receives batches from
    /// ``dispatch(max:)``, or, with ``Options/callbackThread``, directly on
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
            if handler != nil && !callbackInstalled {
                rc = budp_set_callback(live, CallbackBox.trampoline, callbackBox.context)
                if rc >= 0 { callbackInstalled = true }
            } else if handler == nil && callbackInstalled {
                rc = budp_set_callback(live, nil, nil)
                if rc >= 0 { callbackInstalled = false }
            } else {
                rc = 0
            }
            if rc < 0 {
                callbackBox.set(previous)
                throw BatchUDPError(code: rc, operation: "budp_set_callback")
            }
        }
    }

    /// Receives up to `max` datagrams that are already there, without
    /// blocking, and hands them to the ``onDatagrams(_:)`` handler on this
    /// thread.
    ///
    /// - Returns: the number of datagrams handed over (0: nothing queued).
    /// - Throws: the errors of ``receive(max:)``, and `EINVAL` when no
    ///   handler is set.
    @discardableResult
    public func dispatch(max: Int = 32) throws -> Int {
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

/// A weak reference to a stream driver, so that a stream the application
/// dropped is not kept by its socket.
struct WeakStreamDriver {
    weak var driver: DatagramStreamDriver?
    init(_ driver: DatagramStreamDriver) { self.driver = driver }
}

/// The library loaded at run time.
public enum BatchUDPLibrary {
    /// The version of the loaded library, "0.2.0".
    public static var version: String { String(cString: budp_version_string()) }

    /// The version as (major << 16) | (minor << 8) | patch.
    public static var versionNumber: UInt32 { UInt32(budp_version()) }

    /// The major version this binding was written for.
    public static let expectedMajorVersion: UInt32 = 0

    /// The minor version this binding was written for.
    public static let expectedMinorVersion: UInt32 = 2

    /// Whether a library reporting `version` ((major << 16) | (minor << 8) |
    /// patch) can be used by a binding written for `major`.`minor` (by
    /// default, this one): the major numbers are equal and, while the major
    /// is 0, the minor numbers too (every 0.x release may change the ABI);
    /// from 1.0 on, the library's minor is `minor` or above.  The patch
    /// number never matters.
    public static func isCompatible(_ version: UInt32,
                                    major: UInt32 = expectedMajorVersion,
                                    minor: UInt32 = expectedMinorVersion) -> Bool {
        let libraryMajor = version >> 16
        let libraryMinor = (version >> 8) & 0xff
        guard libraryMajor == major else { return false }
        return major == 0 ? libraryMinor == minor : libraryMinor >= minor
    }

    /// Whether the library loaded at run time is one this binding can use
    /// (``isCompatible(_:major:minor:)`` of ``versionNumber``).  The package
    /// links the library, so the dynamic loader has already refused one of
    /// another soname; this checks the header's rule itself.  The socket
    /// initializers refuse an incompatible library with `ENOTSUP`.
    public static var isLoadedLibraryCompatible: Bool { isCompatible(versionNumber) }

    /// Throws unless the loaded library is compatible (see
    /// ``isLoadedLibraryCompatible``).
    static func checkLoadedLibrary() throws {
        if let error = incompatibility(versionNumber) {
            throw error
        }
    }

    /// The error for a library reporting `version`, naming both versions;
    /// `nil` when this binding can use it.
    static func incompatibility(_ version: UInt32) -> BatchUDPError? {
        if isCompatible(version) {
            return nil
        }
        let (major, minor) = (expectedMajorVersion, expectedMinorVersion)
        let needs = major == 0 ? "\(major).\(minor).x" : "\(major).\(minor).x or a later \(major).x"
        let loaded = "\(version >> 16).\((version >> 8) & 0xff).\(version & 0xff)"
        return BatchUDPError(
            code: -ENOTSUP,
            operation: "libbatchudp \(loaded) loaded, this binding (written for \(major).\(minor)) needs \(needs)")
    }
}
