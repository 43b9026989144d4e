import CBatchUDP
import Dispatch
import Foundation

extension BatchUDPSocket {
    /// The received datagrams as an asynchronous sequence, receiving
    /// ``Options/batchSize`` at a time.  See
    /// ``datagrams(maxPerReceive:queue:)``.
    public var datagrams: AsyncThrowingStream<Datagram, Error> {
        datagrams(maxPerReceive: options.batchSize)
    }

    /// The received datagrams as an asynchronous sequence.
    ///
    /// Datagrams are received when the sequence is iterated, a batch at a
    /// time: while the consumer is busy, arrivals wait in the kernel (or the
    /// ring), so a slow consumer is not flooded.  When nothing is left, the
    /// iteration sleeps on a `DispatchSource` read source on
    /// ``pollFileDescriptor``, resumed only after a receive returned nothing
    /// (the descriptor is a hint, see there).
    ///
    /// The sequence ends (returns `nil`) when the socket is stopped with
    /// ``close()`` or ``shutdown()`` (from any thread: a consumer asleep on
    /// the source wakes at once) or the iterating task is cancelled.  It
    /// throws a ``BatchUDPError`` for a receive error (`ENOTSUP` in
    /// callback-thread mode, where there is nothing to poll) and then ends.
    /// Its source is cancelled when it ends or is released, and the socket's
    /// descriptor stays open until the source's cancel handler ran.
    ///
    /// One task at a time may iterate a sequence (a second concurrent
    /// iteration throws `EBUSY`).  The sequence keeps the socket alive.
    ///
    /// - Parameters:
    ///   - maxPerReceive: datagrams asked for per receive call (at least 1).
    ///   - queue: the queue the source's handlers run on; a private serial
    ///     queue when `nil`.  Do not call ``close()`` from a block running
    ///     on this queue: it waits for the source's cancel handler, which
    ///     runs there.  ``shutdown()`` does not wait: call it there instead.
    public func datagrams(maxPerReceive: Int,
                          queue: DispatchQueue? = nil) -> AsyncThrowingStream<Datagram, Error> {
        let driver = DatagramStreamDriver(
            socket: self, maxPerReceive: Swift.max(1, maxPerReceive),
            queue: queue ?? DispatchQueue(label: "org.batchudp.datagrams"))
        return AsyncThrowingStream(unfolding: { try await driver.next() })
    }
}

/// Drives one ``BatchUDPSocket/datagrams`` sequence: receives batches on
/// demand, and sleeps on a DispatchSource read source when the socket is
/// drained.
///
/// The source is created suspended, resumed while a consumer waits, and
/// suspended again by its event handler; `finish()` cancels it (resuming it
/// first, as a suspended source never runs its cancel handler).  The cancel
/// handler holds the socket, which therefore stays open until it ran.
final class DatagramStreamDriver: @unchecked Sendable {
    private let socket: BatchUDPSocket
    private let maxPerReceive: Int
    private let queue: DispatchQueue

    // Guarded by lock.
    private let lock = NSLock()
    private var source: DispatchSourceRead?
    private var suspended = true
    private var waiter: CheckedContinuation<Void, Never>?
    private var finished = false
    private var cancelRequested = false
    private var producing = false

    // Used by the one producer at a time (the `producing` flag, taken and
    // released under lock, orders successive producers).
    private var pending: [Datagram] = []
    private var pendingIndex = 0
    private var mustReceive = true

    init(socket: BatchUDPSocket, maxPerReceive: Int, queue: DispatchQueue) {
        self.socket = socket
        self.maxPerReceive = maxPerReceive
        self.queue = queue
    }

    deinit {
        finish()
    }

    /// The next datagram, `nil` at the end.
    func next() async throws -> Datagram? {
        try beginProducing()
        defer { endProducing() }
        while true {
            if pendingIndex < pending.count {
                let datagram = pending[pendingIndex]
                pendingIndex += 1
                return datagram
            }
            if isFinished {
                return nil
            }
            if Task.isCancelled {
                finish()
                return nil
            }
            if mustReceive {
                let batch: [Datagram]
                do {
                    batch = try socket.receive(max: maxPerReceive)
                } catch let error as BatchUDPError where error.code == .EBADF && socket.isClosed {
                    finish()
                    return nil
                } catch {
                    finish()
                    throw error
                }
                pending = batch
                pendingIndex = 0
                // Only after a receive returned nothing is the poll
                // descriptor sure to wake us for the next arrival (datagrams
                // the library holds already do not make it readable).
                mustReceive = !batch.isEmpty
                continue
            }
            do {
                try startSourceIfNeeded()
            } catch let error as BatchUDPError where error.code == .EBADF && socket.isClosed {
                finish()
                return nil
            } catch {
                finish()
                throw error
            }
            await waitReadable()
            mustReceive = true
        }
    }

    private func beginProducing() throws {
        try lock.withLock {
            if producing {
                throw BatchUDPError(code: -EBUSY, operation: "datagrams (iterated by two tasks at once)")
            }
            producing = true
        }
    }

    private func endProducing() {
        lock.withLock { producing = false }
    }

    private var isFinished: Bool { lock.withLock { finished } }

    /// Creates the read source on first use.
    private func startSourceIfNeeded() throws {
        if lock.withLock({ source != nil || finished }) {
            return
        }
        let fd = try socket.pollFileDescriptor
        try socket.registerStreamSource(self)
        let readSource = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        readSource.setEventHandler { [weak self] in
            self?.sourceFired()
        }
        let owner = socket
        readSource.setCancelHandler {
            owner.streamSourceCancelled()
        }
        let alreadyFinished: Bool = lock.withLock {
            if finished {
                return true
            }
            source = readSource
            suspended = true
            return false
        }
        if alreadyFinished {
            // shutdown() or close() ran meanwhile: this source was never
            // used.
            readSource.cancel()
            readSource.resume()
        }
    }

    /// Suspends the calling task until the source fires, the stream
    /// finishes, or the task is cancelled.
    private func waitReadable() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    guard !finished, !cancelRequested, let source else { return true }
                    waiter = continuation
                    if suspended {
                        suspended = false
                        source.resume()
                    }
                    return false
                }
                if resumeNow {
                    continuation.resume()
                }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
                cancelRequested = true
                defer { waiter = nil }
                return waiter
            }
            continuation?.resume()
        }
    }

    /// Event handler: the poll descriptor is readable.
    private func sourceFired() {
        let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
            guard !finished, let source else { return nil }
            if !suspended {
                suspended = true
                source.suspend()
            }
            defer { waiter = nil }
            return waiter
        }
        continuation?.resume()
    }

    /// Ends the stream: cancels the source and wakes a waiting consumer.
    /// Idempotent.
    func finish() {
        let (readSource, wasSuspended, continuation): (DispatchSourceRead?, Bool, CheckedContinuation<Void, Never>?) =
            lock.withLock {
                if finished {
                    return (nil, false, nil)
                }
                finished = true
                let result = (source, suspended, waiter)
                source = nil
                waiter = nil
                suspended = false
                return result
            }
        if let readSource {
            readSource.cancel()
            if wasSuspended {
                readSource.resume()
            }
        }
        continuation?.resume()
        socket.unregisterStream(ObjectIdentifier(self))
    }
}
