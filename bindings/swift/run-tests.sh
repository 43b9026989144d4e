#!/bin/sh
# Runs the Swift binding's test suite (XCTest) against the library built in
# BUILDDIR (an autotools build directory of libbatchudp).
#
#   bindings/swift/run-tests.sh BUILDDIR
#
# Everything the build writes goes under BUILDDIR/bindings/swift; the source
# tree is only read.  Needs swift (6.0 or newer) and pkg-config on PATH; works
# offline (the package has no dependencies).  Extra arguments after BUILDDIR
# go to `swift test` (for example --filter StreamTests).
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILDDIR [swift test arguments...]" >&2
    exit 2
fi

builddir=$(cd "$1" && pwd)
shift
pkgdir=$(cd "$(dirname "$0")" && pwd)
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

PKG_CONFIG_PATH=$scratch/pkgconfig:$builddir/lib${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
DYLD_LIBRARY_PATH=$libdir${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}
export PKG_CONFIG_PATH LD_LIBRARY_PATH DYLD_LIBRARY_PATH

# Lean on a 2-core machine; warnings are errors (the package must build clean
# under Swift 6 strict concurrency); the test binary finds the library in the
# build tree through its rpath as well as LD_LIBRARY_PATH.
swiftpm() {
    command=$1
    shift
    swift "$command" --package-path "$pkgdir" --scratch-path "$scratch/.build" -j 2 \
        -Xswiftc -warnings-as-errors \
        -Xlinker -rpath -Xlinker "$libdir" \
        "$@"
}

echo "== swift build (library in $libdir)"
swiftpm build
echo "== swift test"
# The suite is XCTest only: no empty Swift Testing run after it.
swiftpm test --disable-swift-testing "$@"
