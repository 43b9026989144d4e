import CBatchUDP
import Foundation

/// The context given to the C callback (through `Unmanaged`): holds the
/// current handler.  One box per socket, alive as long as the socket object,
/// so the pointer the library keeps is valid until `budp_close` returned.
final class CallbackBox: Sendable {
    typealias Handler = @Sendable (DatagramBatch) -> Void

    private struct Slot: Sendable {
        var handler: Handler?
        var deliveringThread: ThreadID?
        // Whether budp_set_callback holds the trampoline; changed only by
        // onDatagrams, under the socket's consumer lock.
        var installed = false
    }

    private let slot = Locked(Slot())

    /// The handler in place, for restoring it after a failed change.
    var current: Handler? { slot.withLock { $0.handler } }

    func set(_ newHandler: Handler?) { slot.withLock { $0.handler = newHandler } }

    /// Whether the trampoline is set on the C socket.
    var isInstalled: Bool {
        get { slot.withLock { $0.installed } }
        set { slot.withLock { $0.installed = newValue } }
    }

    /// Called by the C callback: hands the batch to the handler, on the
    /// calling thread.
    func deliver(_ datagrams: UnsafePointer<budp_datagram>, count: Int) {
        let me = ThreadID.current
        let body: Handler? = slot.withLock {
            $0.deliveringThread = me
            return $0.handler
        }
        body?(DatagramBatch(UnsafeBufferPointer(start: datagrams, count: count)))
        slot.withLock { $0.deliveringThread = nil }
    }

    /// Whether the handler is running on this thread right now.
    var isDeliveringOnCurrentThread: Bool {
        let me = ThreadID.current
        return slot.withLock { $0.deliveringThread == me }
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
