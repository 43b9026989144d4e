#!/bin/sh
# Runs the Swift binding's test suite (XCTest), by both routes to the C
# library the manifest (Package.swift at the repository's root) offers:
#  - the CBatchUDP C target, which compiles lib/ into the package (the
#    default, and what users get): the whole suite; then a build of the
#    BatchUDP target with the NoPrivateAPI trait, whose C objects must not
#    name recvmsg_x while the default build's do (no-private-api-check.sh);
#  - the system library found with pkg-config, here the library built in
#    BUILDDIR (an autotools build directory): the build, and the suites that
#    show the library is the one loaded and works (VersionTests,
#    RoundTripTests), and UringTests: the C target has no io_uring backend
#    (it links no liburing), the library built with configure may.
#
#   bindings/swift/run-tests.sh BUILDDIR [swift test arguments...]
#
# Everything the build writes goes under BUILDDIR/bindings/swift; the source
# tree is only read.  Needs swift (6.1 or newer) and pkg-config on PATH; works
# offline (the package has no dependencies).  Extra arguments after BUILDDIR
# go to the first `swift test` (for example --filter StreamTests).
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILDDIR [swift test arguments...]" >&2
    exit 2
fi

builddir=$(cd "$1" && pwd)
shift
pkgdir=$(cd "$(dirname "$0")/../.." && pwd)
libdir=$builddir/lib/.libs
scratch=$builddir/bindings/swift

if [ ! -e "$libdir/libbatchudp.so" ] && [ ! -e "$libdir/libbatchudp.dylib" ]; then
    echo "$0: no libbatchudp in $libdir: build the library first (make)" >&2
    exit 1
fi
for tool in swift pkg-config; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: $tool not found on PATH" >&2
        exit 1
    fi
done

# Lean on a 2-core machine; warnings are errors (the package must build clean
# under Swift 6 strict concurrency).  Each route has its own scratch path:
# the manifest declares a different CBatchUDP target for each.
swiftpm() {
    route=$1 command=$2
    shift 2
    swift "$command" --package-path "$pkgdir" --scratch-path "$scratch/$route" -j 2 \
        -Xswiftc -warnings-as-errors "$@"
}

echo "== swift test (CBatchUDP compiled from $pkgdir/lib)"
# The suite is XCTest only: no empty Swift Testing run after it.
(unset BATCHUDP_SWIFT_SYSTEM_LIBRARY; swiftpm bundled test --disable-swift-testing "$@")

echo "== swift build --traits NoPrivateAPI (the msgx backend left out)"
(unset BATCHUDP_SWIFT_SYSTEM_LIBRARY
 sh "$(dirname "$0")/no-private-api-check.sh" "$scratch/no-private-api" "$scratch/bundled" \
     -Xswiftc -warnings-as-errors)

# SwiftPM reads .pc files itself and does not know pkg-config's
# "-uninstalled" convention, so it would take BUILDDIR/lib/batchudp.pc (the
# file for the installed library).  Give it a batchudp.pc holding the flags
# pkg-config gives for the build tree (from batchudp-uninstalled.pc).
mkdir -p "$scratch/pkgconfig"
cflags=$(PKG_CONFIG_PATH="$builddir/lib" pkg-config --cflags batchudp)
libs=$(PKG_CONFIG_PATH="$builddir/lib" pkg-config --libs batchudp)
version=$(PKG_CONFIG_PATH="$builddir/lib" pkg-config --modversion batchudp)
cat > "$scratch/pkgconfig/batchudp.pc" <<PC
Name: batchudp
Description: libbatchudp in the build tree $builddir
Version: $version
Cflags: $cflags
Libs: $libs
PC

echo "== swift test, system library route (libbatchudp in $libdir)"
PKG_CONFIG_PATH=$scratch/pkgconfig:$builddir/lib${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
DYLD_LIBRARY_PATH=$libdir${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}
BATCHUDP_SWIFT_SYSTEM_LIBRARY=1
export PKG_CONFIG_PATH LD_LIBRARY_PATH DYLD_LIBRARY_PATH BATCHUDP_SWIFT_SYSTEM_LIBRARY
swiftpm system test --disable-swift-testing \
    -Xlinker -rpath -Xlinker "$libdir" \
    --filter 'VersionTests|RoundTripTests|UringTests'
# The test binary must have loaded the build tree's shared library, not
# compiled its own copy.
test_binary=$(find "$scratch/system" -path '*debug/BatchUDPPackageTests.xctest' | head -n 1)
if [ -n "$test_binary" ] && command -v ldd >/dev/null 2>&1; then
    ldd "$test_binary" | grep -q "$libdir/libbatchudp" || {
        echo "$0: the system-route test binary does not load $libdir/libbatchudp" >&2
        exit 1
    }
    echo "system route: the tests loaded $libdir/libbatchudp"
fi
