import BatchUDP
import Foundation
import XCTest

/// Socket groups: the kernel's hash keeps each flow on one member, key
/// steering sends key k to member k mod n whatever the source, datagrams
/// too short for the key follow their source, closing a member counts what
/// was queued to it, the members are ordinary sockets that the group's
/// close stops, and bad input opens nothing.
///
/// A flow is a client socket of its own (its own source port); each
/// payload starts with the flow's number and a sequence number (4 bytes
/// each, big-endian), then, for key steering, the key (4 bytes).
final class GroupTests: XCTestCase {
    /// A datagram as received, with the member that received it.
    private struct Arrival {
        let member: Int
        let data: Data

        /// The first four bytes, big-endian (the flow, in most tests).
        var flow: Int { Int(Self.word(data, at: 0)) }

        /// Bytes 8..<12, big-endian: the key of the keyed tests.
        var key: UInt32 { Self.word(data, at: 8) }

        static func word(_ data: Data, at offset: Int) -> UInt32 {
            data.dropFirst(offset).prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    /// What arrived, by member and by flow.
    private struct Arrivals {
        var all: [Arrival] = []

        /// For each flow, the members it arrived on.
        var membersOfFlow: [Int: Set<Int>] {
            all.reduce(into: [:]) { $0[$1.flow, default: []].insert($1.member) }
        }

        /// Datagrams per flow.
        var countOfFlow: [Int: Int] {
            all.reduce(into: [:]) { $0[$1.flow, default: 0] += 1 }
        }

        /// The members that received anything.
        var membersUsed: Set<Int> { Set(all.map(\.member)) }
    }

    /// A group on 127.0.0.1, any port, with room in each member's receive
    /// buffer for everything a test sends before it reads.  On other
    /// systems than Linux, checks that the group is refused with ENOTSUP,
    /// then skips.
    private func loopbackGroup(_ count: Int, steering: BatchUDPGroup.Steering = .hash,
                               threaded: Bool = false) throws -> BatchUDPGroup {
        var options = BatchUDPSocket.Options()
        options.recvBuffer = 4 << 20
        options.threaded = threaded
        #if os(Linux)
        do {
            return try BatchUDPGroup(bindHost: "127.0.0.1", port: 0, count: count,
                                     steering: steering, options: options)
        } catch let error as BatchUDPError where error.errorNumber == ENOTSUP && threaded {
            throw XCTSkip("threaded mode not available in this build of the library: \(error)")
        }
        #else
        assertThrows(ENOTSUP, try BatchUDPGroup(bindHost: "127.0.0.1", port: 0, count: count,
                                                steering: steering, options: options))
        throw XCTSkip("socket groups are Linux only")
        #endif
    }

    /// `count` client sockets on 127.0.0.1, each a flow with a port of its own.
    private func flows(_ count: Int) throws -> [BatchUDPSocket] {
        let clients = try (0..<count).map { _ in try loopbackSocket() }
        XCTAssertEqual(Set(clients.map(\.localAddress.port)).count, count)
        return clients
    }

    /// The payload of `flow`'s datagram number `seq`, with `key` after them.
    private static func payload(flow: Int, seq: Int, key: UInt32 = 0) -> Data {
        var data = Data()
        for word in [UInt32(flow), UInt32(seq), key] {
            withUnsafeBytes(of: word.bigEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Sends `perFlow` datagrams from every flow to the group, a round of
    /// one per flow at a time.  Returns how many it sent.
    @discardableResult
    private func send(from clients: [BatchUDPSocket], to group: BatchUDPGroup, perFlow: Int,
                      key: (Int, Int) -> UInt32 = { _, _ in 0 }) throws -> Int {
        for seq in 0..<perFlow {
            for (flow, client) in clients.enumerated() {
                try client.send(Self.payload(flow: flow, seq: seq, key: key(flow, seq)),
                                to: group.localAddress)
            }
        }
        return clients.count * perFlow
    }

    /// Receives from every open member but those in `skipping`, until
    /// `want` datagrams arrived, or 2 s passed without one.
    private func collect(_ group: BatchUDPGroup, want: Int = .max,
                         skipping: Set<Int> = [], quiet: TimeInterval = 2) throws -> Arrivals {
        var arrivals = Arrivals()
        var quietUntil = Date(timeIntervalSinceNow: quiet)
        while arrivals.all.count < want && Date() < quietUntil {
            var got = 0
            for (index, member) in group.members.enumerated()
            where !skipping.contains(index) && !member.isClosed {
                let batch = try member.receive(max: 64)
                arrivals.all += batch.map { Arrival(member: index, data: $0.data) }
                got += batch.count
            }
            if got > 0 {
                quietUntil = Date(timeIntervalSinceNow: quiet)
            } else {
                Thread.sleep(forTimeInterval: 0.001)
            }
        }
        return arrivals
    }

    // MARK: - Steering

    /// 100 flows into a group of 4 with the default steering, the kernel's
    /// hash: every datagram delivered, each flow on one member, the
    /// members' counters add up.
    func testHashKeepsEachFlowOnOneMember() throws {
        let (flows, perFlow, count) = (100, 10, 4)
        let group = try loopbackGroup(count)
        defer { group.close() }
        XCTAssertEqual(group.count, count)
        XCTAssertEqual(group.steering, .hash)
        let clients = try self.flows(flows)

        let sent = try send(from: clients, to: group, perFlow: perFlow)
        let arrivals = try collect(group, want: sent)

        XCTAssertEqual(arrivals.all.count, sent)
        XCTAssertEqual(arrivals.countOfFlow, Dictionary(uniqueKeysWithValues: (0..<flows).map { ($0, perFlow) }))
        for (flow, members) in arrivals.membersOfFlow {
            XCTAssertEqual(members.count, 1, "flow \(flow) reached members \(members.sorted())")
        }
        XCTAssertEqual(group.members.reduce(0) { $0 + $1.stats.rxDatagrams }, UInt64(sent))
        // 100 flows hashed onto 4 members: all on fewer than 3 has a chance
        // far below 1e-20.
        XCTAssertGreaterThanOrEqual(arrivals.membersUsed.count, 3)
        XCTAssertEqual(group.dropped, 0)
    }

    /// Key steering: key k at bytes 8..<12 lands on member k mod 4, whatever
    /// the flow it comes from.
    func testKeySteersByKeyWhateverTheSource() throws {
        let (flows, perFlow) = (20, 20)
        let group = try loopbackGroup(4, steering: .key(offset: 8, length: 4))
        defer { group.close() }
        XCTAssertEqual(group.steering, .key(offset: 8))
        let clients = try self.flows(flows)
        let key: (Int, Int) -> UInt32 = { flow, seq in UInt32(flow * 7 + seq * 13) }

        let sent = try send(from: clients, to: group, perFlow: perFlow, key: key)
        let arrivals = try collect(group, want: sent)

        XCTAssertEqual(arrivals.all.count, sent)
        for arrival in arrivals.all {
            XCTAssertEqual(arrival.member, Int(arrival.key % 4), "key \(arrival.key)")
        }
        XCTAssertEqual(arrivals.membersUsed, [0, 1, 2, 3])
        // Flows were split: steering did not follow the source.
        XCTAssertTrue(arrivals.membersOfFlow.values.allSatisfy { $0.count > 1 })
    }

    /// Datagrams too short to hold the key (3 bytes; the key ends at 4) go
    /// by their source: every one delivered, each flow on one member,
    /// flows spread over several.
    func testShortDatagramsFollowTheirSource() throws {
        let (flows, perFlow) = (60, 5)
        let group = try loopbackGroup(4, steering: .key(offset: 2, length: 2))
        defer { group.close() }
        let clients = try self.flows(flows)

        for seq in 0..<perFlow {
            for (flow, client) in clients.enumerated() {
                try client.send(Data([UInt8(flow), UInt8(seq), 0xff]), to: group.localAddress)
            }
        }
        let arrivals = try collect(group, want: flows * perFlow)

        XCTAssertEqual(arrivals.all.count, flows * perFlow)
        var membersOfFlow: [UInt8: Set<Int>] = [:]
        for arrival in arrivals.all {
            XCTAssertEqual(arrival.data.count, 3)
            membersOfFlow[arrival.data[0], default: []].insert(arrival.member)
        }
        XCTAssertEqual(membersOfFlow.count, flows)
        for (flow, members) in membersOfFlow {
            XCTAssertEqual(members.count, 1, "flow \(flow) reached members \(members.sorted())")
        }
        XCTAssertGreaterThanOrEqual(arrivals.membersUsed.count, 3)
    }

    /// CPU steering binds and delivers every datagram to some member.
    func testCPUSteeringDeliversEverything() throws {
        let group = try loopbackGroup(2, steering: .cpu)
        defer { group.close() }
        let clients = try flows(4)
        let sent = try send(from: clients, to: group, perFlow: 25)
        let arrivals = try collect(group, want: sent)
        XCTAssertEqual(arrivals.all.count, sent)
        XCTAssertEqual(Set(arrivals.all.map(\.data)).count, sent)
    }

    // MARK: - Closing members

    /// Closing a member counts what was queued to it: the others' datagrams
    /// plus the count make everything sent.  The closed member throws EBADF;
    /// its flows then reach the open members, each still on one.
    private func closeMemberRound(threaded: Bool, throughMemberClose: Bool) throws {
        let (flows, perFlow, count, gone) = (60, 8, 4, 1)
        let group = try loopbackGroup(count, threaded: threaded)
        defer { group.close() }
        let clients = try self.flows(flows)
        let target = group.localAddress

        let sent = try send(from: clients, to: group, perFlow: perFlow)
        // Take the others' datagrams, leaving member 1's queued.
        let others = try collect(group, skipping: [gone], quiet: 0.3).all.count

        let dropped: UInt64
        if throughMemberClose {
            group[gone].close()
            dropped = group.dropped
            assertThrows(EBADF, try group.closeMember(gone))
        } else {
            dropped = try group.closeMember(gone)
            XCTAssertEqual(group.dropped, dropped)
        }
        // 60 flows on 4 members: member 1 had some.
        XCTAssertGreaterThan(dropped, 0)
        XCTAssertEqual(others + Int(dropped), sent)
        XCTAssertTrue(group[gone].isClosed)
        assertEveryCallThrowsEBADF(group[gone], local: target)
        assertThrows(EBADF, try group.closeMember(gone))
        XCTAssertEqual(group.count, count)

        // Every flow again: nothing lost, each flow on one open member.
        let again = try send(from: clients, to: group, perFlow: perFlow)
        let arrivals = try collect(group, want: again)
        XCTAssertEqual(arrivals.all.count, again)
        XCTAssertFalse(arrivals.membersUsed.contains(gone))
        XCTAssertTrue(arrivals.membersOfFlow.values.allSatisfy { $0.count == 1 })
        XCTAssertEqual(group.dropped, dropped)
    }

    func testCloseMemberCountsWhatWasQueued() throws {
        try closeMemberRound(threaded: false, throughMemberClose: false)
    }

    func testCloseMemberCountsWhatTheRingHeld() throws {
        try closeMemberRound(threaded: true, throughMemberClose: false)
    }

    func testMemberCloseCountsInTheGroup() throws {
        try closeMemberRound(threaded: false, throughMemberClose: true)
    }

    /// A member with nothing queued closes with a count of 0; every member
    /// may be closed, down to the last; an index out of range is EINVAL.
    func testCloseEveryMember() throws {
        let group = try loopbackGroup(3, steering: .key(offset: 8))
        defer { group.close() }
        assertThrows(EINVAL, try group.closeMember(3))
        assertThrows(EINVAL, try group.closeMember(-1))
        for index in [2, 0, 1] {
            XCTAssertEqual(try group.closeMember(index), 0)
            assertThrows(EBADF, try group.closeMember(index))
        }
        XCTAssertTrue(group.members.allSatisfy(\.isClosed))
        XCTAssertFalse(group.isClosed)
        XCTAssertEqual(group.dropped, 0)
    }

    /// closeMember from inside a call on that member on the same thread
    /// would wait for itself: EBUSY, and the member stays open.
    func testCloseMemberFromInsideItsOwnCallIsBusy() throws {
        let group = try loopbackGroup(2)
        defer { group.close() }
        let busy: Int32? = try group[0].withReceivedDatagrams { _ in
            do {
                try group.closeMember(0)
                return nil
            } catch let error as BatchUDPError {
                return error.errorNumber
            }
        }
        XCTAssertEqual(busy, EBUSY)
        XCTAssertFalse(group[0].isClosed)
        XCTAssertEqual(try group.closeMember(0), 0)
    }

    /// Two threads closing one member at once: one gets the count, the
    /// other EBADF, and the count is the group's.
    func testConcurrentClosesOfOneMemberCountOnce() throws {
        let group = try loopbackGroup(2, steering: .key(offset: 8))
        defer { group.close() }
        let clients = try flows(4)
        // Key 0 for everything: all of it queued to member 0.
        let sent = try send(from: clients, to: group, perFlow: 10)
        XCTAssertTrue(try group[0].wait(timeout: .seconds(30)))

        let results = Box<[Result<UInt64, BatchUDPError>]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let result: Result<UInt64, BatchUDPError>
            do {
                result = .success(try group.closeMember(0))
            } catch let error as BatchUDPError {
                result = .failure(error)
            } catch {
                result = .failure(BatchUDPError(code: -EIO, operation: "\(error)"))
            }
            results.modify { $0.append(result) }
        }
        let counts = results.value.compactMap { try? $0.get() }
        let errors = results.value.compactMap { result -> Int32? in
            if case let .failure(error) = result { return error.errorNumber }
            return nil
        }
        XCTAssertEqual(counts, [UInt64(sent)])
        XCTAssertEqual(errors, [EBADF])
        XCTAssertEqual(group.dropped, UInt64(sent))
    }

    /// The group closed from a member's handler on its receiver thread
    /// (callback-thread mode), while the other members' receiver threads
    /// run theirs: no deadlock, every member closed, the address free.
    func testGroupCloseFromInsideAHandler() throws {
        var options = BatchUDPSocket.Options()
        options.threaded = true
        options.callbackThread = true
        let group: BatchUDPGroup
        do {
            group = try BatchUDPGroup(bindHost: "127.0.0.1", port: 0, count: 3, options: options)
        } catch let error as BatchUDPError where error.errorNumber == ENOTSUP {
            throw XCTSkip("no socket groups or callback-thread mode here: \(error)")
        }
        let target = group.localAddress
        let handled = Counter()
        for member in group.members {
            try member.onDatagrams { [weak group] batch in
                handled.add(batch.map { Data($0.bytes) })
                group?.close()
            }
        }
        let clients = try flows(30)
        try send(from: clients, to: group, perFlow: 2)
        eventuallySync { group.isClosed && group.members.allSatisfy(\.isClosed) }
        XCTAssertGreaterThan(handled.count, 0)

        let closed = expectation(description: "close returned")
        Thread {
            group.close()
            closed.fulfill()
        }.start()
        wait(for: [closed], timeout: 30)
        for member in group.members {
            assertEveryCallThrowsEBADF(member, local: target)
        }
        let rebound = try BatchUDPSocket(bindHost: "127.0.0.1", port: target.port)
        rebound.close()
    }

    /// Waits until `condition` holds, at most 30 s (a guard against
    /// hanging); fails the test if it never does.
    private func eventuallySync(file: StaticString = #filePath, line: UInt = #line,
                                _ condition: () -> Bool) {
        let deadline = Date(timeIntervalSinceNow: 30)
        while !condition() {
            guard Date() < deadline else {
                return XCTFail("condition still false after 30 s", file: file, line: line)
            }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }

    // MARK: - Members and the group's close

    /// Each member is an ordinary socket bound to the group's address: it
    /// sends, its async sequence receives.  The group's close ends the
    /// sequence, wakes a thread blocked in wait(), and every call on a
    /// member throws EBADF afterwards.
    func testMembersAreSocketsThatTheGroupsCloseStops() async throws {
        let group = try loopbackGroup(3)
        let target = group.localAddress
        XCTAssertNotEqual(target.port, 0)
        XCTAssertEqual(group.members.map(\.localAddress), Array(repeating: target, count: 3))

        // A member sends.
        let client = try loopbackSocket()
        try group[2].send(Data("from member 2".utf8), to: client.localAddress)
        XCTAssertEqual(try receive(1, from: client).map(\.data), [Data("from member 2".utf8)])

        // Members 1 and 2 receive through their async sequences, one task
        // each, counting until the group's close ends the loop; member 0 on
        // a thread that receives, then blocks in wait() until the close
        // wakes it.
        let tasks = group.members.dropFirst().map { member in
            Task { () throws -> Int in
                var received = 0
                for try await batch in member.batches {
                    received += batch.count
                }
                return received
            }
        }
        let byThread = Box(0)
        let woken = expectation(description: "wait() threw EBADF")
        let waiter = Thread {
            do {
                while true {
                    let batch = try group[0].receive()
                    byThread.modify { $0 += batch.count }
                    _ = try group[0].wait(timeout: .seconds(30))
                }
            } catch let error as BatchUDPError where error.errorNumber == EBADF {
                woken.fulfill()
            } catch {
                XCTFail("\(error)")
            }
        }
        waiter.start()

        let clients = try flows(40)
        let sent = try send(from: clients, to: group, perFlow: 5)
        try await eventually {
            group.members.reduce(0) { $0 + $1.stats.rxDatagrams } == UInt64(sent)
        }

        group.close()
        XCTAssertTrue(group.isClosed)
        var received = 0
        for task in tasks {
            received += try await value(of: task)
        }
        await fulfillment(of: [woken], timeout: 30)
        XCTAssertEqual(received + byThread.value, sent)

        for member in group.members {
            XCTAssertTrue(member.isClosed)
            assertEveryCallThrowsEBADF(member, local: target)
        }
        assertThrows(EBADF, try group.closeMember(0))
        XCTAssertEqual(group.dropped, 0)
        group.close()  // idempotent
        // The address is free again.
        let rebound = try BatchUDPSocket(bindHost: "127.0.0.1", port: target.port)
        rebound.close()
    }

    /// The last reference to the group going away closes it: a member kept
    /// beyond it throws EBADF, and the address is free again.
    func testReleasingTheGroupClosesItsMembers() throws {
        var group: BatchUDPGroup? = try loopbackGroup(2)
        weak var weakGroup: BatchUDPGroup?
        weakGroup = group
        let member = try XCTUnwrap(group?[1])
        let target = member.localAddress
        XCTAssertTrue(try member.receive().isEmpty)
        group = nil
        XCTAssertNil(weakGroup)
        XCTAssertTrue(member.isClosed)
        assertEveryCallThrowsEBADF(member, local: target)
        let rebound = try BatchUDPSocket(bindHost: "127.0.0.1", port: target.port)
        rebound.close()
    }

    // MARK: - Bad input

    /// Bad input: the library's error with its code, and nothing opened.
    func testBadInputOpensNothing() throws {
        #if os(Linux)
        let descriptors = try openDescriptors()
        let bad: [(count: Int, steering: BatchUDPGroup.Steering, operation: String)] = [
            (0, .hash, "budp_group_bind"),
            (BatchUDPGroup.maxMembers + 1, .hash, "budp_group_bind"),
            (-1, .hash, "budp_group_bind"),
            // The key must end within a UDP payload.
            (2, .key(offset: BatchUDPGroup.Steering.maxKeyEnd, length: 1), "budp_group_bind"),
            (2, .key(offset: BatchUDPGroup.Steering.maxKeyEnd - 7, length: 8), "budp_group_bind"),
            (2, .key(offset: -1, length: 4), "budp_options_set(steering key offset = -1)"),
            (2, .key(offset: 0, length: 0), "budp_options_set(steering key length = 0)"),
            (2, .key(offset: 0, length: 9), "budp_options_set(steering key length = 9)"),
        ]
        for (count, steering, operation) in bad {
            XCTAssertThrowsError(try BatchUDPGroup(bindHost: "127.0.0.1", port: 0, count: count,
                                                   steering: steering)) { error in
                guard let error = error as? BatchUDPError else {
                    return XCTFail("not a BatchUDPError: \(error)")
                }
                XCTAssertEqual(error.errorNumber, EINVAL, "\(count) \(steering): \(error)")
                XCTAssertEqual(error.code, .EINVAL)
                XCTAssertTrue(error.operation.hasPrefix(operation), error.description)
            }
        }
        assertThrows(EINVAL, try BatchUDPGroup(bindHost: "localhost", port: 0, count: 2))
        XCTAssertEqual(try openDescriptors(), descriptors)

        // The largest group, and a key that ends at the payload's end, are
        // accepted.
        let largest = try BatchUDPGroup(bindHost: "127.0.0.1", port: 0, count: BatchUDPGroup.maxMembers)
        XCTAssertEqual(largest.count, 256)
        XCTAssertGreaterThanOrEqual(try openDescriptors(), descriptors + 256)
        largest.close()
        let lastKey = try BatchUDPGroup(
            bindHost: "127.0.0.1", port: 0, count: 2,
            steering: .key(offset: BatchUDPGroup.Steering.maxKeyEnd - 8, length: 8))
        lastKey.close()
        XCTAssertEqual(try openDescriptors(), descriptors)
        #else
        assertThrows(ENOTSUP, try BatchUDPGroup(bindHost: "127.0.0.1", port: 0, count: 2))
        #endif
    }

    /// The number of this process's open descriptors.
    private func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }
}
