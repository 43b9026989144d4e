// swift-tools-version:6.1
//
// BatchUDP: the Swift binding of libbatchudp (batched UDP receive and send).
//
// The manifest sits at the repository's root because SwiftPM takes a
// package from there, so `.package(url:)` and `.package(path:)` both work.
// The Swift sources are in bindings/swift.
//
// The C library comes from one of two places:
//  - by default, the CBatchUDP C target: SwiftPM compiles the library's own
//    sources (lib/ and include/, read where they are) into the package, with
//    lib/build_config.h in place of configure.  Nothing needs installing, on
//    Linux, macOS, iOS, tvOS, watchOS and visionOS alike.
//  - with BATCHUDP_SWIFT_SYSTEM_LIBRARY=1 in the environment of `swift build`:
//    an installed libbatchudp found with pkg-config ("batchudp"), through a
//    system library target (bindings/swift/Sources/CBatchUDP).
//
// The trait NoPrivateAPI (off by default) leaves out the backend that looks
// up Apple's private recvmsg_x/sendmsg_x at run time, as configure's
// --disable-msgx does: the library then uses recvmsg/sendmsg in a loop.  An
// opt-out rather than a default-on opt-in, because SwiftPM unites the
// traits every dependent asks for: one package in an app's graph that asks
// for NoPrivateAPI (an App Store build) wins.  It applies to the C target;
// a system library is as it was built.  Traits need tools version 6.1.

import PackageDescription

let useSystemLibrary = Context.environment["BATCHUDP_SWIFT_SYSTEM_LIBRARY"] == "1"

let bundledLibrary: Target = .target(
    name: "CBatchUDP",
    path: ".",
    exclude: [
        // Read by the autotools build only.
        "lib/local.mk", "lib/batchudp.map",
        "lib/batchudp.pc.in", "lib/batchudp-uninstalled.pc.in",
    ],
    sources: ["lib"],
    publicHeadersPath: "include",
    cSettings: [
        // The export macro's definition for the library's own sources.
        .define("BUDP_BUILDING_LIBRARY"),
        // lib/build_config.h: the msgx backend (lib/backend_msgx.c,
        // lib/msgx_gate.c) compiles to nothing.
        .define("BUDP_WITHOUT_MSGX", .when(traits: ["NoPrivateAPI"])),
        // BUDP_WITH_URING is never defined here: the io_uring backend
        // (lib/backend_uring.c) needs liburing, which the package does not
        // link, so it compiles to nothing and .uring throws ENOTSUP.
    ],
    linkerSettings: [
        .linkedLibrary("pthread", .when(platforms: [.linux, .android])),
        .linkedLibrary("dl", .when(platforms: [.linux, .android])),
    ])

let systemLibrary: Target = .systemLibrary(
    name: "CBatchUDP",
    path: "bindings/swift/Sources/CBatchUDP",
    pkgConfig: "batchudp",
    providers: [
        .apt(["libbatchudp-dev"]),
        .brew(["libbatchudp"]),
    ])

let package = Package(
    name: "BatchUDP",
    platforms: [.macOS(.v13), .iOS(.v16), .tvOS(.v16), .watchOS(.v9)],
    products: [
        .library(name: "BatchUDP", targets: ["BatchUDP"]),
    ],
    traits: [
        .trait(
            name: "NoPrivateAPI",
            description: "Leave out the backend that uses Apple's private "
                + "recvmsg_x/sendmsg_x; recvmsg/sendmsg in a loop instead."),
    ],
    targets: [
        useSystemLibrary ? systemLibrary : bundledLibrary,
        .target(
            name: "BatchUDP",
            dependencies: ["CBatchUDP"],
            path: "bindings/swift/Sources/BatchUDP"),
        .testTarget(
            name: "BatchUDPTests",
            dependencies: ["BatchUDP", "CBatchUDP"],
            path: "bindings/swift/Tests/BatchUDPTests"),
    ],
    swiftLanguageModes: [.v6],
    cLanguageStandard: .c11
)
