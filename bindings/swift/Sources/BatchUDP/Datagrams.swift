// The received datagrams one by one: the batches, flattened.
import Dispatch
import Foundation

extension BatchUDPSocket {
    /// The received datagrams as an asynchronous sequence of single
    /// datagrams, received ``Options/batchSize`` at a time: ``batches``,
    /// flattened.  See ``Datagrams``.
    ///
    /// To answer in batches (one send call per batch, not per datagram),
    /// iterate ``batches`` instead.
    public var datagrams: Datagrams {
        Datagrams(batches: batches)
    }

    /// The received datagrams one by one, received up to `maxPerReceive` at
    /// a time (at least 1, else the first element throws `EINVAL`).  See
    /// ``Datagrams``.
    public func datagrams(maxPerReceive: Int) -> Datagrams {
        Datagrams(batches: batches(maxPerReceive: maxPerReceive))
    }

    /// The former form of ``datagrams(maxPerReceive:)``: the queue is not
    /// used any more (the waits run on a queue of the socket's own).
    @available(*, deprecated, message: "use datagrams(maxPerReceive:); the queue is not used")
    public func datagrams(maxPerReceive: Int, queue: DispatchQueue?) -> Datagrams {
        datagrams(maxPerReceive: maxPerReceive)
    }

    /// An asynchronous sequence of single received datagrams, built on
    /// ``Batches``: it asks for the next batch when the previous one is used
    /// up, and holds at most that one batch.  It waits, buffers and ends as
    /// ``Batches`` does: `nil` when the socket is shut down or closed or the
    /// iterating task is cancelled, a receive error as thrown.
    public struct Datagrams: AsyncSequence, Sendable {
        /// One datagram, owned.
        public typealias Element = Datagram

        let batches: Batches

        /// An iterator.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(batches: batches.makeAsyncIterator())
        }

        /// Hands out the datagrams of one batch, then receives the next.
        public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
            var batches: Batches.AsyncIterator
            var batch: [Datagram] = []
            var index = 0

            /// The next datagram; `nil` at the end (see ``Datagrams``).
            public mutating func next() async throws -> Datagram? {
                try await next(on: nil)
            }

            /// ``next()``, run on the caller's actor (see
            /// ``Batches/AsyncIterator/next(isolation:)``).
            @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> Datagram? {
                try await next(on: actor)
            }

            /// The body of both.
            mutating func next(on actor: isolated (any Actor)?) async throws -> Datagram? {
                if index == batch.count {
                    // Let the used batch go before waiting for the next.
                    batch = []
                    index = 0
                    guard let next = try await batches.next(on: actor) else {
                        return nil
                    }
                    batch = next
                }
                defer { index += 1 }
                return batch[index]
            }
        }
    }
}
