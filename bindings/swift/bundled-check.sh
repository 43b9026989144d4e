#!/bin/sh
# A new Swift package that depends on BatchUDP builds, tests and runs on a
# machine where libbatchudp is not installed: SwiftPM compiles the C
# library from the repository's sources (the CBatchUDP C target).
#
#   bindings/swift/bundled-check.sh WORKDIR
#
# WORKDIR receives the package (WORKDIR/app) and its build.  The commands
# run with an environment holding only PATH and HOME: no PKG_CONFIG_PATH,
# no LD_LIBRARY_PATH, nothing naming libbatchudp.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 WORKDIR" >&2
    exit 2
fi
mkdir -p "$1"
work=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
app=$work/app
clean_env() {
    env -i PATH="$PATH" HOME="${HOME:-/root}" "$@"
}

bash "$repo/bindings/no-system-library.sh" || {
    echo "$0: this check needs a machine without libbatchudp" >&2
    exit 1
}

rm -rf "$app"
mkdir -p "$app/Sources/App" "$app/Tests/AppTests"
cat >"$app/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "App",
    dependencies: [.package(path: "$repo")],
    targets: [
        .executableTarget(name: "App", dependencies: [
            .product(name: "BatchUDP", package: "$(basename "$repo")")]),
        .testTarget(name: "AppTests", dependencies: [
            .product(name: "BatchUDP", package: "$(basename "$repo")")]),
    ]
)
SWIFT
# The same round trip as the binding README's first example: a batch of
# datagrams from one socket to another, received in batches.
cat >"$app/Sources/App/main.swift" <<'SWIFT'
import BatchUDP
import Foundation

let receiver = try BatchUDPSocket(bindHost: "127.0.0.1", port: 0)
let sender = try BatchUDPSocket(bindHost: "127.0.0.1", port: 0)
let peer = receiver.localAddress
let outgoing = (0..<8).map { OutgoingDatagram(Data("datagram \($0)".utf8), to: peer) }
let sent = try sender.send(outgoing)

var received: [String] = []
while received.count < sent, try receiver.wait(timeout: .seconds(2)) {
    for datagram in try receiver.receive() {
        received.append(String(decoding: datagram.data, as: UTF8.self))
    }
}
guard received == outgoing.prefix(sent).map({ String(decoding: $0.data, as: UTF8.self) }) else {
    fatalError("sent \(sent), received \(received)")
}
print("received \(received.count) datagrams through libbatchudp \(BatchUDPLibrary.version), backend \(receiver.backendName)")
SWIFT
cat >"$app/Tests/AppTests/RoundTripTests.swift" <<'SWIFT'
import BatchUDP
import Foundation
import XCTest

final class RoundTripTests: XCTestCase {
    func testBatchArrives() throws {
        let receiver = try BatchUDPSocket(bindHost: "127.0.0.1", port: 0)
        let sender = try BatchUDPSocket(bindHost: "127.0.0.1", port: 0)
        let peer = receiver.localAddress
        let payloads = (0..<4).map { Data("test \($0)".utf8) }
        XCTAssertEqual(try sender.send(payloads.map { OutgoingDatagram($0, to: peer) }), 4)
        var got: [Data] = []
        while got.count < 4, try receiver.wait(timeout: .seconds(2)) {
            got += try receiver.receive().map(\.data)
        }
        XCTAssertEqual(got, payloads)
    }
}
SWIFT

cd "$app"
echo "== swift build"
clean_env swift build -j 2
echo "== swift test"
clean_env swift test -j 2 --disable-swift-testing
echo "== swift run"
clean_env swift run -j 2 App

binary=$(clean_env swift build -j 2 --show-bin-path)/App
rc=0
found=$(bash "$repo/bindings/shared-libbatchudp.sh" "$binary") || rc=$?
if [ $rc -ne 1 ]; then
    echo "$0: $binary: the C target should be linked in, but it needs a shared libbatchudp or cannot be read:" >&2
    echo "$found" >&2
    exit 1
fi
echo "$binary needs no shared libbatchudp"
