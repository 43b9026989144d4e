// Socket groups: n sockets bound to one address, among which the kernel
// spreads the arriving datagrams (budp_group_bind).
import CBatchUDP
import Foundation

/// A group of UDP sockets bound to one address and port
/// (`SO_REUSEPORT`), among which the kernel spreads arriving datagrams, so
/// that several threads or tasks receive on one address, each on a member
/// of its own.
///
/// Each member is a ``BatchUDPSocket`` (``members``, or the subscript):
/// it receives, sends, waits and iterates ``BatchUDPSocket/batches`` as any
/// socket does, inline or threaded as the options say, on the thread or
/// task of the application's choosing.  ``Steering`` says which member
/// gets a datagram.
///
/// ```swift
/// let group = try BatchUDPGroup(bindHost: "0.0.0.0", port: 4433, count: 4)
/// for member in group.members {
///     Task { for try await batch in member.batches { handle(batch) } }
/// }
/// ```
///
/// Linux only: on Apple platforms (and elsewhere), where `SO_REUSEPORT`
/// hands each datagram to one socket of the group and never spreads, the
/// initializer throws `ENOTSUP`.
///
/// ## Closing
/// ``closeMember(_:)`` (or ``BatchUDPSocket/close()`` on the member)
/// closes one member while the others go on: the kernel stops steering to
/// it, and what was queued to it and not yet received is dropped and
/// counted (``dropped``).  ``close()`` closes every member that is still
/// open, dropping what they hold uncounted; the last reference to the group
/// going away closes it too.  The members follow the lifetime rules of
/// ``BatchUDPSocket`` (``BatchUDPSocket/close()``): threads blocked on a
/// member wake and throw `EBADF`, tasks iterating one end, calls in
/// progress finish before the member is freed, and a member object used
/// after its close, or the group's, throws `EBADF`.
///
/// The class is `Sendable`; every method may be called from any thread.
public final class BatchUDPGroup: Sendable {
    /// How the kernel picks the member that receives each datagram
    /// (`BUDP_OPT_STEERING`).
    public enum Steering: Sendable, Hashable {
        /// The kernel's hash of the source and destination address and
        /// port: every datagram of a flow reaches the same member.  Once a
        /// member is closed, flows are steered by a hash of their source
        /// address and port among the open members.
        case hash
        /// By a key in the payload: the `length` bytes (1...8) at `offset`,
        /// read as a big-endian number k, steer to member k mod
        /// ``BatchUDPGroup/count``, whatever the source (a QUIC connection
        /// ID of the server's choosing, a WireGuard receiver index).  A
        /// datagram too short to hold the key is steered by a hash of its
        /// source address and port among the open members (a flow's short
        /// datagrams all reach one member).  The key must end within a UDP
        /// payload: `offset + length` at most ``maxKeyEnd``.  A closed
        /// member's datagrams go to the next open member after it.
        case key(offset: Int, length: Int = 4)
        /// By the CPU c that received the packet: member c mod
        /// ``BatchUDPGroup/count`` (pin member c's thread to CPU c to keep
        /// each datagram on the CPU that received it).  A closed member's
        /// datagrams go to the next open member after it.
        case cpu

        /// The largest UDP payload (`BUDP_STEER_PAYLOAD_MAX`): where a
        /// ``key(offset:length:)`` must end at the latest.
        public static let maxKeyEnd = Int(BUDP_STEER_PAYLOAD_MAX)

        /// Sets the steering options on a C options object.
        fileprivate func apply(to options: OpaquePointer) throws {
            let settings: [(key: Int, value: Int64, name: String)]
            switch self {
            case .hash:
                settings = [(BUDP_OPT_STEERING, Int64(BUDP_STEER_HASH), "steering")]
            case let .key(offset, length):
                settings = [
                    (BUDP_OPT_STEERING, Int64(BUDP_STEER_KEY), "steering"),
                    (BUDP_OPT_STEER_OFFSET, Int64(offset), "steering key offset"),
                    (BUDP_OPT_STEER_LENGTH, Int64(length), "steering key length"),
                ]
            case .cpu:
                settings = [(BUDP_OPT_STEERING, Int64(BUDP_STEER_CPU), "steering")]
            }
            for setting in settings {
                try check(budp_options_set(options, Int32(setting.key), setting.value),
                          "budp_options_set(\(setting.name) = \(setting.value))")
            }
        }
    }

    /// The most members a group may have (`BUDP_GROUP_MAX_MEMBERS`).
    public static let maxMembers = Int(BUDP_GROUP_MAX_MEMBERS)

    /// The members, member i at index i: ordinary sockets, owned by the
    /// group.  A closed member stays in its place (its calls throw
    /// `EBADF`).
    public let members: [BatchUDPSocket]

    /// How datagrams are spread among the members.
    public let steering: Steering

    /// The options every member was created with.
    public let options: BatchUDPSocket.Options

    /// The address and port the members are bound to (with port 0, the one
    /// free port picked for all of them), read at bind.
    public let localAddress: Address

    /// The C group's lifetime; the members hold it too.
    let core: GroupCore

    /// Opens `count` UDP sockets bound together to a numeric address and
    /// port (`budp_group_bind`).
    ///
    /// The group must be alone on its address: another socket bound there
    /// with `SO_REUSEPORT` (Linux lets any of the same user) would join the
    /// group and shift the kernel's numbering of its members.
    ///
    /// - Parameters:
    ///   - bindHost: a numeric IPv4 or IPv6 address: "127.0.0.1", "::1",
    ///     "0.0.0.0", "::".
    ///   - port: the port, 0 for one free port for every member (see
    ///     ``localAddress``).
    ///   - count: the number of members, 1...``maxMembers``.
    ///   - steering: how the kernel spreads datagrams among them.
    ///   - options: the options of every member.
    /// - Throws: ``BatchUDPError``, and nothing is left open: `EINVAL`
    ///   (`count` 0 or above ``maxMembers``, a key beyond
    ///   ``Steering/maxKeyEnd`` or of a length outside 1...8, bad host or
    ///   option), `ENOTSUP` (not Linux; FreeBSD has ``Steering/hash``
    ///   only), `EADDRINUSE` (the address is taken by a socket outside any
    ///   group, or by another user's group), and the errors of
    ///   ``BatchUDPSocket/init(bindHost:port:options:)``.
    public init(bindHost: String, port: UInt16, count: Int, steering: Steering = .hash,
                options: BatchUDPSocket.Options = .init()) throws {
        let operation = "budp_group_bind(\(bindHost), \(port), \(count))"
        guard let n = UInt32(exactly: count) else {
            throw BatchUDPError(code: -EINVAL, operation: operation)
        }
        let cOptions = try options.makeCOptions()
        defer { budp_options_free(cOptions) }
        try steering.apply(to: cOptions)
        var raw: OpaquePointer?
        try check(budp_group_bind(&raw, bindHost, port, n, cOptions), operation)
        guard let raw else { throw BatchUDPError(code: -ENOMEM, operation: operation) }
        let core = GroupCore(GroupHandle(raw), members: count)
        var members: [BatchUDPSocket] = []
        do {
            for index in 0..<count {
                guard let member = budp_group_socket(raw, UInt32(index)) else {
                    throw BatchUDPError(code: -EBADF, operation: "budp_group_socket(\(index))")
                }
                members.append(try BatchUDPSocket(
                    handle: member, options: options,
                    membership: GroupMembership(group: core, index: index)))
            }
        } catch {
            // The members not wrapped go with the group; the wrapped ones
            // hand theirs over as they close.
            core.closeIfIdle { state in
                state.closeRequested = true
                state.openMembers -= count - members.count
            }
            members.forEach { $0.close() }
            throw error
        }
        self.members = members
        self.steering = steering
        self.options = options
        self.localAddress = members[0].localAddress
        self.core = core
    }

    deinit {
        close()
    }

    /// The number of members, closed ones included (`budp_group_size`).
    public var count: Int { members.count }

    /// Member `index`, 0 ..< ``count``.
    public subscript(index: Int) -> BatchUDPSocket { members[index] }

    /// Closes member `index`, the others going on
    /// (`budp_group_close_member`): stops it as ``BatchUDPSocket/close()``
    /// does (threads blocked on it wake and throw `EBADF`), waits for the
    /// calls in progress on it, then has the kernel steer its datagrams to
    /// the open members and drops what was queued to it and not yet
    /// received (the kernel's queue, the ring, the rest of a batch), which
    /// it counts in ``dropped`` and returns.
    ///
    /// ``BatchUDPSocket/close()`` on the member does the same, without
    /// returning the count.
    ///
    /// - Returns: the number of datagrams dropped.
    /// - Throws: ``BatchUDPError``: `EINVAL` (`index` out of range),
    ///   `EBADF` (the member or the group is closed already), `EBUSY` from
    ///   inside a call on that member on this thread (a handler, the
    ///   closure of ``BatchUDPSocket/withReceivedDatagrams(_:)``), which
    ///   the count would have to wait for (``BatchUDPSocket/close()`` there
    ///   closes the member once the call returns), and the error of
    ///   changing the kernel's steering, in which case the member is closed
    ///   all the same.
    @discardableResult
    public func closeMember(_ index: Int) throws -> UInt64 {
        let operation = "budp_group_close_member(\(index))"
        guard members.indices.contains(index) else {
            throw BatchUDPError(code: -EINVAL, operation: operation)
        }
        let member = members[index]
        if core.state.withLock({ $0.closeRequested }) {
            throw BatchUDPError(code: -EBADF, operation: operation)
        }
        if member.isInCallOnCurrentThread {
            throw BatchUDPError(code: -EBUSY, operation: operation)
        }
        guard member.closeClaiming() else {
            throw BatchUDPError(code: -EBADF, operation: operation)
        }
        // Freed now (not from inside a call on it on this thread).  No
        // outcome: the group's close came first and took the member.
        guard let outcome = core.state.withLock({ $0.outcomes[index] }) else {
            throw BatchUDPError(code: -EBADF, operation: operation)
        }
        return try outcome.get()
    }

    /// The datagrams dropped by the closes of members so far
    /// (`budp_group_dropped`).  Any thread; never fails: once the group is
    /// closed, the count as it was then.
    public var dropped: UInt64 {
        core.state.withLock { state in
            state.handle.map { budp_group_dropped($0.pointer) } ?? state.finalDropped
        }
    }

    /// Closes every member still open and frees the group
    /// (`budp_group_close`): each member stops as ``BatchUDPSocket/close()``
    /// stops it, the calls in progress on them finish, and what they hold
    /// is dropped, uncounted.  Idempotent, from any thread; blocks until
    /// the members' users left, except from inside a call on a member on
    /// this thread (a handler, say), where the group is freed once that
    /// call returns.  Member objects still referenced throw `EBADF` from
    /// then on.
    public func close() {
        core.state.withLock { $0.closeRequested = true }
        var inCallHere = false
        for member in members {
            member.close()
            inCallHere = inCallHere || member.isInCallOnCurrentThread
        }
        if core.closeIfIdle() || inCallHere {
            return
        }
        core.state.wait(until: { $0.closed }) { _ in }
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool {
        core.state.withLock { $0.closeRequested }
    }
}

/// A member socket's place in its group.
struct GroupMembership: Sendable {
    let group: GroupCore
    let index: Int
}

/// The C group, as a value that may cross threads.
///
/// `@unchecked Sendable` for the reason ``LibraryHandle`` is: the C
/// library's contract says which group calls may run where, and the binding
/// keeps to it: `budp_group_dropped` on any thread, a member's close once no
/// call uses that member, and `budp_group_close` only once no member is in
/// use and no member's close is in progress (``GroupCore``).
struct GroupHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// What `GroupCore.state` guards.
struct GroupState: Sendable {
    var handle: GroupHandle?        // nil once taken for budp_group_close
    var closeRequested = false      // BatchUDPGroup.close() ran
    var closed = false              // budp_group_close returned
    var closing = 0                 // budp_group_close_member calls in progress
    var openMembers: Int            // members whose socket holds its handle
    var outcomes: [Int: Result<UInt64, BatchUDPError>] = [:]  // members closed one by one
    var finalDropped: UInt64 = 0    // budp_group_dropped before budp_group_close
    // The handlers' contexts of members handed over to the group's close:
    // the C members, and their receiver threads, live until
    // budp_group_close returned.
    var callbacks: [CallbackBox] = []

    init(handle: GroupHandle, openMembers: Int) {
        self.handle = handle
        self.openMembers = openMembers
    }
}

/// The C group's lifetime, shared by the group and its members.
///
/// A member's socket frees its handle, once no call uses it
/// (``BatchUDPSocket/closeIfIdle(after:)``), through
/// ``release(member:handle:callbacks:)``: before the group's close, with
/// `budp_group_close_member`; after it, by handing the member over to
/// `budp_group_close`.  `budp_group_close` runs exactly once, by whoever
/// finds the group's close requested, every member released and no
/// member's close in progress: the group's ``BatchUDPGroup/close()``, or
/// the member socket that released last, once it is marked closed.
final class GroupCore: Sendable {
    let state: Locked<GroupState>

    init(_ handle: GroupHandle, members: Int) {
        state = Locked(GroupState(handle: handle, openMembers: members))
    }

    /// Called once per member, by its socket, with its handle once no call
    /// uses it: closes the member with `budp_group_close_member`, or once
    /// the group's close was asked, hands it over to `budp_group_close`.
    /// Never frees the group itself: the socket marks itself closed, then
    /// calls ``closeIfIdle(after:)``.
    func release(member index: Int, handle: LibraryHandle, callbacks: CallbackBox) {
        let live: GroupHandle? = state.withLock { state in
            guard !state.closeRequested, let live = state.handle else {
                state.callbacks.append(callbacks)
                state.openMembers -= 1
                return nil
            }
            state.closing += 1
            return live
        }
        guard let live else {
            return
        }
        let rc = budp_group_close_member(live.pointer, UInt32(index))
        let outcome: Result<UInt64, BatchUDPError>
        if rc >= 0 {
            outcome = .success(UInt64(rc))
        } else {
            outcome = .failure(BatchUDPError(code: rc, operation: "budp_group_close_member(\(index))"))
            if rc != -EBADF && rc != -EINVAL {
                // The kernel's steering could not be changed: the member is
                // stopped already, so close it anyway, as budp_close does.
                budp_close(handle.pointer)
            }
        }
        state.withLock { state in
            state.closing -= 1
            state.openMembers -= 1
            state.outcomes[index] = outcome
        }
    }

    /// Runs `update` with the state locked, then frees the group if its
    /// close was asked and no member uses it any more.  Returns whether it
    /// freed it.
    @discardableResult
    func closeIfIdle(after update: (inout GroupState) -> Void = { _ in }) -> Bool {
        let idle: GroupHandle? = state.withLock { state in
            update(&state)
            guard state.closeRequested, state.closing == 0, state.openMembers == 0,
                  let idle = state.handle else {
                return nil
            }
            state.finalDropped = budp_group_dropped(idle.pointer)
            state.handle = nil
            return idle
        }
        guard let idle else {
            return false
        }
        budp_group_close(idle.pointer)
        state.withLockWakingWaiters { $0.closed = true }
        return true
    }
}
