import Foundation

/// Serializes the consumer calls of one socket (receive, dispatch, wait,
/// setting the handler), as the C library requires ("one consumer thread at
/// a time"), and knows which thread holds it, so that a consumer call made
/// from inside a consumer call on the same thread fails with `EBUSY` (as the
/// C library answers from inside a callback) instead of deadlocking.
final class ConsumerLock: @unchecked Sendable {
    private let mutex = NSLock()
    private let ownerLock = NSLock()
    private var owner: pthread_t?  // guarded by ownerLock

    /// Takes the lock, waiting for another thread's consumer call to end.
    /// - Throws: `EBUSY` when this thread already holds it.
    func acquire(_ operation: @autoclosure () -> String) throws {
        if isHeldByCurrentThread {
            throw BatchUDPError(code: -EBUSY, operation: operation())
        }
        mutex.lock()
        ownerLock.withLock { owner = pthread_self() }
    }

    /// Releases the lock taken by ``acquire(_:)`` on this thread.
    func release() {
        ownerLock.withLock { owner = nil }
        mutex.unlock()
    }

    /// Whether this thread holds the lock.
    var isHeldByCurrentThread: Bool {
        ownerLock.withLock {
            guard let owner else { return false }
            return pthread_equal(owner, pthread_self()) != 0
        }
    }
}

/// Keeps `budp_connect` apart from `budp_send`: any number of sends may run
/// at once (the library serialises them), but a connect waits for the sends
/// in progress to end, and new sends wait for the connect.
final class SendGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var sending = 0        // guarded by condition
    private var connecting = false // guarded by condition

    /// Runs a send.
    func send<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        while connecting {
            condition.wait()
        }
        sending += 1
        condition.unlock()
        defer {
            condition.lock()
            sending -= 1
            if sending == 0 {
                condition.broadcast()
            }
            condition.unlock()
        }
        return try body()
    }

    /// Runs a connect, with no send in progress.
    func connect<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        while connecting {
            condition.wait()
        }
        connecting = true
        while sending > 0 {
            condition.wait()
        }
        condition.unlock()
        defer {
            condition.lock()
            connecting = false
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }
}
