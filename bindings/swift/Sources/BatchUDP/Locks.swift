// The binding's only lock, and the two disciplines built on it.
import Foundation

/// A value and the lock that guards it, with a condition to wait on: the
/// shape of `Synchronization.Mutex` (`withLock`), plus the waiting that
/// `close()`, the consumer lock and the send gate need.
///
/// Why not `Mutex` itself: it needs macOS 15 / iOS 18 / tvOS 18 / watchOS
/// 11, and the package supports macOS 13 / iOS 16 / tvOS 16 / watchOS 9; a
/// stored property cannot be made available from a later version only, so
/// using it would raise the package's minimum platforms.  `NSCondition` is
/// a pthread mutex and condition variable on every platform the package
/// builds for.
///
/// `@unchecked Sendable`: `state` is read and written only inside the
/// closures below, with `condition` locked, as `Mutex` does; `State` is
/// `Sendable`, so what leaves the lock may cross threads.
final class Locked<State: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var state: State

    init(_ state: State) {
        self.state = state
    }

    /// Runs `body` with the state locked.
    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body(&state)
    }

    /// Runs `body` with the state locked, then wakes every thread blocked in
    /// ``wait(until:then:)`` to look at the state again.
    func withLockWakingWaiters<R>(_ body: (inout State) throws -> R) rethrows -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body(&state)
    }

    /// Blocks the calling thread until `ready` holds, then runs `body` with
    /// the state still locked.
    func wait<R>(until ready: (State) -> Bool, then body: (inout State) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        while !ready(state) {
            condition.wait()
        }
        return try body(&state)
    }
}

/// A thread's identity, as a Sendable value (`pthread_t` is a pointer on
/// Apple platforms, which Swift does not let cross threads).
struct ThreadID: Sendable, Equatable {
    private let raw: UInt

    /// The calling thread.
    static var current: ThreadID {
        #if canImport(Darwin)
        ThreadID(raw: UInt(bitPattern: pthread_self()))
        #else
        ThreadID(raw: UInt(truncatingIfNeeded: pthread_self()))
        #endif
    }
}

/// Serializes the consumer calls of one socket (receive, dispatch, wait,
/// setting the handler), as the C library requires ("one consumer thread at
/// a time"), and knows which thread holds it, so that a consumer call made
/// from inside a consumer call on the same thread fails with `EBUSY` (as the
/// C library answers from inside a callback) instead of deadlocking.
final class ConsumerLock: Sendable {
    private let owner = Locked<ThreadID?>(nil)

    /// Takes the lock, waiting for another thread's consumer call to end.
    /// - Throws: `EBUSY` when this thread already holds it.
    func acquire(_ operation: @autoclosure () -> String) throws {
        let me = ThreadID.current
        try owner.wait(until: { $0 == nil || $0 == me }) { owner in
            if owner == me {
                throw BatchUDPError(code: -EBUSY, operation: operation())
            }
            owner = me
        }
    }

    /// Releases the lock taken by ``acquire(_:)`` on this thread.
    func release() {
        owner.withLockWakingWaiters { $0 = nil }
    }

    /// Whether this thread holds the lock.
    var isHeldByCurrentThread: Bool {
        let me = ThreadID.current
        return owner.withLock { $0 == me }
    }
}

/// Keeps `budp_connect` apart from `budp_send`: any number of sends may run
/// at once (the library serialises them), but a connect waits for the sends
/// in progress to end, and new sends wait for the connect.
final class SendGate: Sendable {
    private struct Gate: Sendable {
        var sending = 0
        var connecting = false
    }

    private let gate = Locked(Gate())

    /// Runs a send.
    func send<R>(_ body: () throws -> R) rethrows -> R {
        gate.wait(until: { !$0.connecting }) { $0.sending += 1 }
        defer {
            gate.withLockWakingWaiters { $0.sending -= 1 }
        }
        return try body()
    }

    /// Runs a connect, with no send in progress.
    func connect<R>(_ body: () throws -> R) rethrows -> R {
        gate.wait(until: { !$0.connecting }) { $0.connecting = true }
        gate.wait(until: { $0.sending == 0 }) { _ in }
        defer {
            gate.withLockWakingWaiters { $0.connecting = false }
        }
        return try body()
    }
}
