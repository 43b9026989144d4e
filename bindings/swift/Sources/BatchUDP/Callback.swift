import CBatchUDP
import Foundation

/// The context given to the C callback (through `Unmanaged`): holds the
/// current handler.  One box per socket, alive as long as the socket object,
/// so the pointer the library keeps is valid until `budp_close` returned.
final class CallbackBox: @unchecked Sendable {
    typealias Handler = @Sendable (DatagramBatch) -> Void

    private let lock = NSLock()
    private var handler: Handler?           // guarded by lock
    private var deliveringThread: pthread_t?  // guarded by lock

    /// The handler in place, for restoring it after a failed change.
    var current: Handler? { lock.withLock { handler } }

    func set(_ newHandler: Handler?) { lock.withLock { handler = newHandler } }

    /// Called by the C callback: hands the batch to the handler, on the
    /// calling thread.
    func deliver(_ datagrams: UnsafePointer<budp_datagram>, count: Int) {
        let body: Handler? = lock.withLock {
            deliveringThread = pthread_self()
            return handler
        }
        body?(DatagramBatch(UnsafeBufferPointer(start: datagrams, count: count)))
        lock.withLock { deliveringThread = nil }
    }

    /// Whether the handler is running on this thread right now.
    var isDeliveringOnCurrentThread: Bool {
        lock.withLock {
            guard let thread = deliveringThread else { return false }
            return pthread_equal(thread, pthread_self()) != 0
        }
    }

    /// The pointer handed to `budp_set_callback`.  Not retained: the socket
    /// keeps the box alive until after `budp_close`.
    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The C callback: finds the box from the context and delivers.  It
    /// always answers `BUDP_CALLBACK_CONTINUE`: handlers return nothing, so
    /// there is no pause to ask for (a handler cannot throw into C either).
    static let trampoline: budp_recv_fn = { user, datagrams, count in
        let proceed = Int32(BUDP_CALLBACK_CONTINUE)
        guard let user, let datagrams, count > 0 else { return proceed }
        Unmanaged<CallbackBox>.fromOpaque(user).takeUnretainedValue()
            .deliver(datagrams, count: Int(count))
        return proceed
    }
}
