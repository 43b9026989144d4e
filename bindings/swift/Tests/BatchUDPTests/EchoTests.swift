import BatchUDP
import Foundation
import XCTest

/// The actor both ends of the deterministic echo run on.
@globalActor actor EchoActor {
    static let shared = EchoActor()
}

/// An echo server written the natural async way (a batch in, the batch
/// back out) keeps the batching: one send call per received batch, far
/// fewer than datagrams.
///
/// How many datagrams a receive finds depends on timing: a server running
/// in parallel with its client, and as fast, keeps pace with it and may
/// find them one at a time, whatever the API.  So the test that counts the
/// calls runs the server and the client on one actor, where the client's
/// round of sends is all queued before the server looks; the test in
/// parallel checks what does not depend on timing (one send call per
/// batch, content, order).
final class EchoTests: XCTestCase {
    private static let count = 10_000
    /// Datagrams in flight at most (sent as one round, echoed back before
    /// the next round), and so queued at most in either socket: within the
    /// receive buffers asked for below (Linux grants twice its rmem_max, by
    /// default 2 x 208 KiB, where 128 datagrams of 1400 bytes take about
    /// 300 KiB), so loopback drops nothing even when a side is slow.
    private static let window = 128

    /// Datagram `i`: `i % 1401` bytes (every size from 0 to 1400), each
    /// depending on `i`.
    private static let expected: [Data] = (0..<count).map { i in
        Data((0..<(i % 1401)).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0) })
    }

    private static func sockets() throws -> (server: BatchUDPSocket, client: BatchUDPSocket) {
        var options = BatchUDPSocket.Options()
        options.recvBuffer = 1 << 20
        options.batchSize = 64  // half a round per call
        return (try loopbackSocket(options: options), try loopbackSocket(options: options))
    }

    /// The server, as the README writes it, on the caller's actor.  Returns
    /// the number of batches it echoed, or its error; its loop ends when the
    /// socket is shut down.
    private static func serve(_ server: BatchUDPSocket,
                              isolation: isolated (any Actor)? = #isolation) async -> Result<Int, BatchUDPError> {
        var batches = 0
        do {
            for try await batch in server.batches {
                try await server.sendAll(batch.map { OutgoingDatagram($0.data, to: $0.peer) })
                batches += 1
            }
            return .success(batches)
        } catch {
            return .failure(error as? BatchUDPError ?? BatchUDPError(code: -EIO, operation: "\(error)"))
        }
    }

    /// What the client saw.
    private struct Outcome: Sendable {
        var received = 0
        var firstMismatch: Int?   // the first datagram out of order or changed
        var foreignPeer = false   // a reply not from the server
    }

    /// The client: sends the datagrams a round at a time, and checks every
    /// reply against the datagram expected next.
    private static func run(_ client: BatchUDPSocket, to server: Address,
                            isolation: isolated (any Actor)? = #isolation) async throws -> Outcome {
        var outcome = Outcome()
        var roundEnd = min(window, count)
        try await client.sendAll(expected[0..<roundEnd].map { OutgoingDatagram($0, to: server) })
        // Ends (nil) only when the hang guard cancels the task.
        for try await batch in client.batches {
            for datagram in batch {
                if outcome.received >= count || datagram.data != expected[outcome.received] {
                    outcome.firstMismatch = outcome.firstMismatch ?? outcome.received
                }
                if datagram.peer != server {
                    outcome.foreignPeer = true
                }
                outcome.received += 1
            }
            if outcome.received >= count {
                break
            }
            if outcome.received == roundEnd {
                let round = roundEnd..<min(roundEnd + window, count)
                try await client.sendAll(expected[round].map { OutgoingDatagram($0, to: server) })
                roundEnd = round.upperBound
            }
        }
        return outcome
    }

    /// Runs the echo, with both ends on `actor` (nil: in parallel), and
    /// checks what holds either way.  Returns the two sockets' counters.
    private func echo(on actor: EchoActor?) async throws -> (server: BatchUDPSocket.Stats,
                                                             client: BatchUDPSocket.Stats) {
        let (server, client) = try Self.sockets()
        let serverAddress = server.localAddress
        // EchoTests, not Self, inside the closures: a Task closure that
        // captures the dynamic Self type is more than Swift 6.3's region
        // checker can check.
        let serving: Task<Result<Int, BatchUDPError>, Never>
        let running: Task<Outcome, Error>
        if actor != nil {
            serving = Task { @EchoActor in await EchoTests.serve(server) }
            running = Task { @EchoActor in try await EchoTests.run(client, to: serverAddress) }
        } else {
            serving = Task { await EchoTests.serve(server) }
            running = Task { try await EchoTests.run(client, to: serverAddress) }
        }
        let outcome = try await value(of: running, within: .seconds(60))
        // The server's last send call may still be on its way back when
        // its datagrams have arrived; a stopped socket keeps the counters
        // read at the stop, so let that call count first.
        try await eventually { server.stats.txDatagrams >= UInt64(outcome.received) }
        server.shutdown()
        let batches = try await value(of: serving, within: .seconds(10)).get()

        XCTAssertEqual(outcome.received, Self.count)
        XCTAssertNil(outcome.firstMismatch, "content or order differs from datagram \(outcome.firstMismatch ?? -1) on")
        XCTAssertFalse(outcome.foreignPeer)
        let stats = (server: server.stats, client: client.stats)
        XCTAssertEqual(stats.server.rxDatagrams, UInt64(Self.count))
        XCTAssertEqual(stats.server.txDatagrams, UInt64(Self.count))
        // One send call per batch received: the batching holds end to end.
        XCTAssertEqual(stats.server.txSyscalls, UInt64(batches))
        print("echo of \(Self.count), \(actor == nil ? "in parallel" : "on one actor"): server "
              + "\(batches) batches, \(stats.server.txSyscalls) send calls; client \(stats.client.txSyscalls) send calls")
        client.close()
        server.close()
        return stats
    }

    func testEchoOnOneActorSendsInBatches() async throws {
        let stats = try await echo(on: EchoActor.shared)
        XCTAssertLessThan(stats.server.txSyscalls, 1000)
        XCTAssertLessThan(stats.client.txSyscalls, 1000)
    }

    func testEchoInParallelSendsOncePerBatch() async throws {
        let stats = try await echo(on: nil)
        XCTAssertLessThan(stats.client.txSyscalls, 1000)
    }
}
