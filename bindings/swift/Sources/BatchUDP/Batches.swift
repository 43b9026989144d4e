// The received datagrams as an AsyncSequence of batches.
import Foundation

extension BatchUDPSocket {
    /// The received datagrams as an asynchronous sequence of batches, up to
    /// ``Options/batchSize`` datagrams each (one receive call per element).
    /// See ``Batches``.
    ///
    /// ```swift
    /// for try await batch in socket.batches {
    ///     try await socket.sendAll(batch.map { OutgoingDatagram($0.data, to: $0.peer) })
    /// }
    /// ```
    public var batches: Batches {
        Batches(socket: self, maxPerReceive: options.batchSize)
    }

    /// The received datagrams as an asynchronous sequence of batches of up
    /// to `maxPerReceive` datagrams (at least 1, else the first element
    /// throws `EINVAL`).  See ``Batches``.
    public func batches(maxPerReceive: Int) -> Batches {
        Batches(socket: self, maxPerReceive: maxPerReceive)
    }

    /// An asynchronous sequence of received batches: each element is what
    /// one receive returned (``receive(max:)``), never empty.
    ///
    /// **Buffering**: none of its own.  A batch is received when the
    /// iterating task asks for the next element, so while the task is busy
    /// with one batch, arrivals wait in the kernel's socket buffer (inline
    /// mode; ``Options/recvBuffer`` sizes it) or the library's ring
    /// (threaded mode, where ``Options/overflow`` says what happens when it
    /// is full): memory is bounded by those, never by the sequence, and
    /// what overflows them is dropped by the kernel (counted in
    /// ``Stats/rxKernelDrops`` where the system reports it) or the ring
    /// (``Stats/rxDropped``).
    ///
    /// **Waiting**: when a receive comes back empty, the task suspends on a
    /// DispatchSource read source on ``pollFileDescriptor`` (no thread is
    /// held), and receives again when it fires.  The poll descriptor is
    /// only sure to wake after a receive that returned nothing, which is
    /// when the sequence sleeps.  With ``Options/errors`` on, the error
    /// events that wait (they keep the descriptor readable) are set aside
    /// first, 64 at most (more are counted in
    /// ``Stats/errorEventsDropped``): ``receiveErrors(max:)`` returns them,
    /// from the loop body say.  An event that comes during the wait wakes
    /// it: the poll descriptor is readable for events too.
    ///
    /// **Ending**:
    /// - the iterating task is cancelled: the sequence ends (`nil`);
    /// - the socket is shut down or closed through this binding, from any
    ///   thread or task, also while the task is suspended: the sequence
    ///   ends (`nil`) at once, as a Python `async for` over the same socket
    ///   does (explicit calls such as ``receive(max:)`` throw
    ///   ``BatchUDPError`` `EBADF` instead);
    /// - a receive fails: it throws that error (`EINVAL` in callback-thread
    ///   mode, where there is nothing to receive; `ECONNREFUSED` on a
    ///   connected socket whose peer refused an earlier datagram).
    /// After an error the iterator returns `nil`.
    ///
    /// An iterator holds its socket.  Receiving is a consumer call: any
    /// number of iterators may run, in any tasks, and each gets its own
    /// batches; a thread blocked in ``wait(timeout:)`` on the same socket
    /// (or running a long ``withReceivedDatagrams(_:)`` closure or
    /// ``onDatagrams(_:)`` handler) holds their receives up, and the thread
    /// they run on with them, so do not mix the two.
    public struct Batches: AsyncSequence, Sendable {
        /// One receive's datagrams, owned.
        public typealias Element = [Datagram]

        let socket: BatchUDPSocket
        let maxPerReceive: Int

        /// An iterator.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(socket: socket, maxPerReceive: maxPerReceive)
        }

        /// Receives, or waits and receives, one batch per ``next()``.
        public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
            let socket: BatchUDPSocket
            let maxPerReceive: Int
            var finished = false

            /// The next batch (never empty); `nil` once the socket is
            /// stopped or the task cancelled, or after an error was thrown.
            /// - Throws: ``BatchUDPError``: a receive error (`EBADF` only
            ///   when the descriptor was closed behind the socket's back).
            public mutating func next() async throws -> [Datagram]? {
                try await next(on: nil)
            }

            /// ``next()``, run on the caller's actor (a `for try await` loop
            /// passes its own): an actor that owns a socket receives
            /// without hopping to the global executor and back.
            @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> [Datagram]? {
                try await next(on: actor)
            }

            /// The body of both, which older Apple systems (without
            /// `next(isolation:)`) reach through ``next()``.
            mutating func next(on actor: isolated (any Actor)?) async throws -> [Datagram]? {
                while !finished {
                    if Task.isCancelled {
                        finished = true
                        return nil
                    }
                    do {
                        // Does not block the thread for long: receiving
                        // never waits, and the consumer lock is only held
                        // long by a thread in wait(timeout:) or in a
                        // closure or handler of the caller's, which the
                        // documentation asks not to mix with this.
                        let batch = try socket.receive(max: maxPerReceive)
                        if !batch.isEmpty {
                            return batch
                        }
                        if socket.options.errors {
                            // Waiting error events keep the poll descriptor
                            // readable: set them aside for receiveErrors(),
                            // or the wait would not sleep.
                            socket.setErrorEventsAside()
                        }
                        try await socket.waitUntil(.readable)
                    } catch is CancellationError {
                        finished = true
                        return nil
                    } catch let error as BatchUDPError where error.code == .EBADF && socket.isClosed {
                        // Stopped by shutdown() or close(): the normal end
                        // of the stream, not a failure of the receive.
                        finished = true
                        return nil
                    } catch {
                        finished = true
                        throw error
                    }
                }
                return nil
            }
        }
    }
}
