// Suspending a task until the socket can be read or written, without
// holding a thread.
import Dispatch
import Foundation

/// What a task waits for.
enum Readiness: Sendable {
    /// The poll descriptor (`budp_poll_fd`) is readable: the socket in
    /// inline mode, the receiver thread's notify descriptor in threaded mode.
    case readable
    /// The UDP socket (`budp_socket_fd`) is writable (POLLOUT): its send
    /// buffer has room again.
    case writable
}

/// A DispatchSource as a value that may cross threads.
///
/// `@unchecked Sendable` because libdispatch objects are thread-safe (a
/// source may be resumed and cancelled from any thread), which the Swift
/// overlay does not declare on every platform.
struct WaitSource: @unchecked Sendable {
    let source: any DispatchSourceProtocol
}

/// One task's wait for one readiness event, on a one-shot DispatchSource:
/// the first of the event, the socket's stop and the task's cancellation
/// decides the outcome, resumes the task and cancels the source.
///
/// Why a DispatchSource: it suspends the task without holding any thread
/// (libdispatch watches every source's descriptor from its one event
/// thread), where a blocking `budp_wait` or `poll` would hold a thread of
/// the cooperative pool, or a thread of our own per socket.  Why one source
/// per wait rather than one per socket, suspended between waits: a wait is
/// only needed once a receive came back empty or a send met a full buffer,
/// so its cost (a source and its registration) is paid per idle moment, not
/// per batch; and a one-shot source has no suspended state to track, and
/// nothing to clean up when the task goes away.
final class ReadinessWait: Sendable {
    /// The operation named in the `EBADF` thrown when the socket stops.
    let operation: String

    private struct Progress: Sendable {
        var source: WaitSource?
        var continuation: CheckedContinuation<Void, Error>?
        var outcome: Result<Void, Error>?
    }

    private let progress = Locked(Progress())

    init(operation: String) {
        self.operation = operation
    }

    /// Starts watching: resumes `source`, or, when the wait is already
    /// decided (the socket stopped or the task was cancelled meanwhile),
    /// cancels it first.  Called once; the source's cancel handler runs
    /// either way (a source never resumed would never run it).
    func start(_ source: WaitSource) {
        let decided: Bool = progress.withLock { progress in
            if progress.outcome != nil {
                return true
            }
            progress.source = source
            return false
        }
        if decided {
            source.source.cancel()
        }
        source.source.resume()
    }

    /// Decides the wait, the first time only: resumes the task (now, or as
    /// soon as it suspends) and cancels the source.
    func finish(_ outcome: Result<Void, Error>) {
        let (source, continuation): (WaitSource?, CheckedContinuation<Void, Error>?) =
            progress.withLock { progress in
                if progress.outcome != nil {
                    return (nil, nil)
                }
                progress.outcome = outcome
                defer {
                    progress.source = nil
                    progress.continuation = nil
                }
                return (progress.source, progress.continuation)
            }
        source?.source.cancel()
        continuation?.resume(with: outcome)
    }

    /// Suspends until ``finish(_:)``, and returns or throws its outcome.
    func value(isolation: isolated (any Actor)? = #isolation) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let decided: Result<Void, Error>? = progress.withLock { progress in
                if let outcome = progress.outcome {
                    return outcome
                }
                progress.continuation = continuation
                return nil
            }
            if let decided {
                continuation.resume(with: decided)
            }
        }
    }
}

extension BatchUDPSocket {
    /// Suspends the calling task until the socket is ready for `readiness`
    /// (as far as the descriptor tells: a readable poll descriptor is a
    /// hint, see ``pollFileDescriptor``).
    ///
    /// The wait counts as a user of the socket until its source's cancel
    /// handler ran, so the descriptor stays open while libdispatch watches
    /// it; ``shutdown()`` and ``close()`` wake it (the library's shutdown
    /// does not make an inline socket readable, nor writable).
    ///
    /// - Parameters:
    ///   - descriptor: the descriptor to watch instead of the socket's (for
    ///     tests).
    ///   - isolation: the caller's actor, where the task resumes: no hop
    ///     to the global executor and back.
    /// - Throws: `EBADF` once the socket is stopped (also while waiting),
    ///   `CancellationError` when the task is cancelled, and for
    ///   `.readable` the error of `budp_poll_fd` (`ENOTSUP` in
    ///   callback-thread mode).
    func waitUntil(_ readiness: Readiness, descriptor: Int32? = nil,
                   isolation: isolated (any Actor)? = #isolation) async throws {
        let operation: String
        let fd: Int32
        switch readiness {
        case .readable:
            operation = "wait until readable"
            fd = try check(descriptor ?? pollDescriptor, "budp_poll_fd")
        case .writable:
            operation = "wait until writable"
            fd = descriptor ?? socketDescriptor
        }
        let wait = ReadinessWait(operation: operation)
        let key = ObjectIdentifier(wait)
        try state.withLock { state in
            guard !state.stopped, state.handle != nil else {
                throw BatchUDPError(code: -EBADF, operation: operation)
            }
            state.users += 1
            state.waits[key] = wait
        }
        let source: any DispatchSourceProtocol = switch readiness {
        case .readable: DispatchSource.makeReadSource(fileDescriptor: fd, queue: waitQueue)
        case .writable: DispatchSource.makeWriteSource(fileDescriptor: fd, queue: waitQueue)
        }
        source.setEventHandler {
            wait.finish(.success(()))
        }
        source.setCancelHandler {
            // libdispatch is done with the descriptor: it may be closed now.
            self.closeIfIdle { state in
                state.users -= 1
                state.waits[key] = nil
            }
        }
        wait.start(WaitSource(source: source))
        try await withTaskCancellationHandler {
            try await wait.value()
        } onCancel: {
            wait.finish(.failure(CancellationError()))
        }
    }
}
