// swift-tools-version:6.0
//
// BatchUDP: Swift binding of libbatchudp (batched UDP receive and send).
//
// The C library comes from one of two places:
//  - pkg-config ("batchudp"): an installed libbatchudp, or an uninstalled
//    build tree through PKG_CONFIG_PATH (see run-tests.sh);
//  - CBatchUDP.xcframework next to this file, built by make-xcframework.sh
//    for Apple platforms (no pkg-config on iOS).  When that directory exists
//    (and the manifest is read on macOS) it is used instead of pkg-config.

import Foundation
import PackageDescription

let xcframeworkName = "CBatchUDP.xcframework"
#if canImport(Darwin)
let hasXCFramework = FileManager.default.fileExists(
    atPath: Context.packageDirectory + "/" + xcframeworkName)
#else
let hasXCFramework = false  // xcframeworks are for Apple platforms only
#endif

let cLibrary: Target = hasXCFramework
    ? .binaryTarget(name: "CBatchUDP", path: xcframeworkName)
    : .systemLibrary(
        name: "CBatchUDP",
        path: "Sources/CBatchUDP",
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
    targets: [
        cLibrary,
        .target(
            name: "BatchUDP",
            dependencies: ["CBatchUDP"]),
        .testTarget(
            name: "BatchUDPTests",
            dependencies: ["BatchUDP", "CBatchUDP"]),
    ],
    swiftLanguageModes: [.v6]
)
