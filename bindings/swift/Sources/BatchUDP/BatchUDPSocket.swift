import CBatchUDP
import Dispatch
import Foundation

/// A UDP socket that receives and sends datagrams in batches, one system
/// call per batch (libbatchudp).
///
/// ## Receiving
/// Pick one of:
/// - ``batches``: an `AsyncSequence` of batches (`[Datagram]`), up to
///   ``Options/batchSize`` per element; ``datagrams`` flattens it into single
///   datagrams.  Both sleep without holding a thread when nothing is there.
/// - ``receive()``: the datagrams already there, copied into ``Datagram``
///   values; never blocks (combine with ``wait(timeout:)``).
/// - ``withReceivedDatagrams(_:)``: the same batch as views into the
///   library's buffers, without a copy, valid inside the closure.
/// - ``onDatagrams(_:)`` and ``dispatch()``: the C callback form.
///
/// ## Sending
/// ``send(_:)`` sends what the kernel takes now and returns how many went;
/// ``sendAll(_:isolation:)`` sends everything, suspending while the send buffer is
/// full.
///
/// ## Threads
/// The class is `Sendable` because it keeps to the library's rules itself:
/// - Consumer calls (receiving, ``wait(timeout:)``, ``dispatch()``,
///   ``onDatagrams(_:)``, ``connect(host:port:)``) run one at a time: a
///   second thread waits for the first to finish (the library allows one
///   consumer at a time).  Such a call made from inside a handler, or from
///   inside another on the same thread (the closure of
///   ``withReceivedDatagrams(_:)``), throws `EBUSY`.
/// - ``send(_:)`` and ``sendAll(_:isolation:)`` may run on any number of threads and
///   tasks at once, also while a consumer call runs; only
///   ``connect(host:port:)`` makes sends wait (the library does not allow
///   the two at once).  ``stats``, ``localAddress`` and the file
///   descriptors may be used from any thread at any time.
/// - ``shutdown()`` and ``close()`` may be called from any thread, also
///   from inside a handler.  Both stop the socket at once: a thread blocked
///   in ``wait(timeout:)`` wakes and throws `EBADF`, so do the tasks
///   suspended in ``batches``, ``datagrams`` or ``sendAll(_:isolation:)``, and every
///   later call throws `EBADF`.  ``close()`` then waits for the calls still
///   in progress on other threads and frees the library's socket;
///   ``shutdown()`` returns at once and frees nothing.
///
/// A socket is closed when the last reference to it goes away, if it was not
/// closed before.  An iterator of ``batches`` or ``datagrams`` holds a
/// reference to its socket.
public final class BatchUDPSocket: Sendable {
    /// The options the socket was created with.
    public let options: Options

    /// The backend in use: "mmsg", "msgx", "loop" or "uring".
    public let backendName: String

    /// Why the socket got its backend, one line for logs and support
    /// requests: the backend's name, ": ", and what decided it, e.g.
    /// "loop: recvmsg_x avoided below macOS 15.6 (this is macOS 15.5)".
    /// The words after the colon may change between releases: show them,
    /// do not parse them.  Read at open, like ``backendName``: it stays
    /// readable after the socket is closed.
    public let backendReason: String

    /// Lifetime, calls in progress, waits, and what stays readable after the
    /// stop (see Lifetime.swift).
    let state: Locked<SocketState>

    // budp_socket_fd and budp_poll_fd (a negative errno in callback-thread
    // mode), read once at open: they do not change while the socket is open,
    // and the readiness waits need them without a call into the library.
    let socketDescriptor: Int32
    let pollDescriptor: Int32

    /// Where the readiness waits' DispatchSources run their handlers: a
    /// queue of the socket's own, so no user block on it can hold up the
    /// cancel handlers that ``close()`` waits for.
    let waitQueue = DispatchQueue(label: "org.batchudp.socket.wait")

    let consumer = ConsumerLock()
    let sendGate = SendGate()
    let callbackBox = CallbackBox()

    /// The group the socket is a member of, and its number there; `nil` for
    /// a socket of its own.  A member's handle is freed through its group
    /// (``GroupCore/release(member:handle:callbacks:)``).
    let membership: GroupMembership?

    /// Creates a UDP socket bound to a numeric address and port.
    ///
    /// - Parameters:
    ///   - bindHost: a numeric IPv4 or IPv6 address: "127.0.0.1", "::1",
    ///     "0.0.0.0", "::", "fe80::1%eth0".
    ///   - port: the port, 0 for any free one (see ``localAddress``).
    ///   - options: the socket's options.
    /// - Throws: ``BatchUDPError``: `EINVAL` (bad host or option),
    ///   `ENOTSUP` (backend or mode not available here, ``Options/zerocopy``
    ///   with a backend other than ``Options/Backend/uring``), `EPERM`
    ///   (``Options/Backend/uring`` where the kernel forbids io_uring),
    ///   errors of `socket()` and `bind()` (`EADDRINUSE`, `EADDRNOTAVAIL`,
    ///   ...).
    public convenience init(bindHost: String, port: UInt16, options: Options = Options()) throws {
        let cOptions = try options.makeCOptions()
        defer { budp_options_free(cOptions) }
        var raw: OpaquePointer?
        try check(budp_bind(&raw, bindHost, port, cOptions), "budp_bind(\(bindHost), \(port))")
        guard let raw else { throw BatchUDPError(code: -ENOMEM, operation: "budp_bind") }
        try self.init(handle: raw, options: options, membership: nil)
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
        try self.init(handle: raw, options: options, membership: nil)
    }

    /// Takes `handle` over.  If this throws, a socket of its own is closed;
    /// a group's member is left to its group (``BatchUDPGroup``), which
    /// closes it with the others.
    init(handle: OpaquePointer, options: Options, membership: GroupMembership?) throws {
        var address = budp_addr()
        let rc = budp_local_addr(handle, &address)
        guard rc >= 0, let local = Address(address) else {
            if membership == nil {
                budp_close(handle)
            }
            throw BatchUDPError(code: rc < 0 ? rc : -EAFNOSUPPORT, operation: "budp_local_addr")
        }
        self.options = options
        self.backendName = String(cString: budp_backend_name(handle))
        self.backendReason = String(cString: budp_backend_reason(handle))
        self.socketDescriptor = budp_socket_fd(handle)
        self.pollDescriptor = budp_poll_fd(handle)
        self.membership = membership
        self.state = Locked(SocketState(handle: LibraryHandle(handle), localAddress: local))
    }

    deinit {
        // Nothing can be in progress here: every call, every iterator and
        // every readiness wait holds a reference to the socket.
        if let handle = state.withLock({ $0.handle }) {
            freeHandle(handle)
            membership?.group.closeIfIdle()
        }
    }

    // MARK: - Addresses and descriptors

    /// Connects the socket to a peer: ``send(_:)`` may then leave the
    /// peer out, and only that peer's datagrams arrive.
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

    /// The address and port the socket is bound to.  Any thread; never
    /// fails.
    ///
    /// While the socket is open it is asked of the system each time (a
    /// socket wrapped unbound gets its port with its first send or connect;
    /// a connect may set the address of a socket bound to a wildcard).
    /// Once the socket is shut down or closed, and should the system ever
    /// fail to answer, it is the address last read (at the latest when the
    /// socket was stopped; at the earliest when it was opened, where the
    /// initializer throws if it cannot be read).
    public var localAddress: Address {
        let read: Address? = try? withHandle("budp_local_addr") { live in
            var raw = budp_addr()
            return budp_local_addr(live, &raw) >= 0 ? Address(raw) : nil
        }
        return state.withLock { state in
            if let read {
                state.localAddress = read
            }
            return state.localAddress
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
    /// (inline mode; on ``Options/Backend/uring``, an eventfd the ring
    /// signals) or the receiver thread's notify descriptor (threaded
    /// mode).  It is a hint: a wake-up may bring nothing, several arrivals
    /// may share one wake-up, and it is only certain to become readable
    /// again after a receive returned nothing (datagrams the library holds
    /// already, such as the rest of a batch, do not make it readable).  Do
    /// not read from it or close it.  ``batches`` keeps these rules for you.
    /// - Throws: ``BatchUDPError``: `ENOTSUP` in callback-thread mode
    ///   (nothing to poll), `EBADF` once shut down or closed.
    public var pollFileDescriptor: Int32 {
        get throws {
            try withHandle("budp_poll_fd") { live in
                try check(budp_poll_fd(live), "budp_poll_fd")
            }
        }
    }

    /// The socket's counters.  Any thread; never fails.
    ///
    /// Once the socket is shut down or closed, the counters as they were
    /// when it was stopped (read just before the library's shutdown, which
    /// makes them unreadable): work that a call already in progress
    /// finished after that moment is not counted.
    public var stats: Stats {
        let read: Stats? = try? withHandle("budp_get_stats") { live in
            var raw = budp_stats()
            return budp_get_stats(live, &raw, MemoryLayout<budp_stats>.size) >= 0 ? Stats(raw) : nil
        }
        guard var read else {
            return state.withLock { $0.finalStats }
        }
        // Events batches set aside and had no room for count as dropped, as
        // the receiver thread's do.
        read.errorEventsDropped += state.withLock { $0.errorStashDropped }
        return read
    }
}
