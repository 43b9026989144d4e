#!/usr/bin/env bash
# Builds CBatchUDP.xcframework for Apple platforms: libbatchudp as a static
# library, with the autotools build, for
#   macOS              arm64 + x86_64
#   iOS devices        arm64
#   iOS simulator      arm64 + x86_64
# plus the public header and a module map (module CBatchUDP), for Xcode
# projects that link a prebuilt library, or a SwiftPM binaryTarget (see
# README.md).  SwiftPM users need none of this: the package's C target
# compiles the library for every Apple platform.
#
# Usage: bindings/swift/make-xcframework.sh [OUTDIR]
#   OUTDIR (default ./xcframework-build) receives the per-SDK build trees
#   and OUTDIR/CBatchUDP.xcframework.  The source tree is only read, except
#   that autoreconf runs in it once if it has no configure script yet.
#
# Environment:
#   MACOS_MIN        lowest macOS version (default 13.0)
#   IOS_MIN          lowest iOS version (default 16.0)
#   CONFIGURE_FLAGS  more configure arguments, for example --disable-msgx to
#                    leave out the backend that uses Apple's private
#                    recvmsg_x/sendmsg_x calls
#   JOBS             parallel make jobs (default: the number of CPUs)
#
# Needs macOS with Xcode (xcrun, xcodebuild, lipo), make, and autoconf,
# automake and libtool when configure must be generated.  Not run in this
# project's CI, which has no macOS.
set -euo pipefail

if [[ "$(uname -s)" != Darwin ]]; then
    echo "$0: needs macOS with Xcode (xcrun, xcodebuild, lipo)" >&2
    exit 1
fi
for tool in xcrun xcodebuild lipo make; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: $tool not found" >&2
        exit 1
    fi
done

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
outdir=${1:-xcframework-build}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
macos_min=${MACOS_MIN:-13.0}
ios_min=${IOS_MIN:-16.0}
jobs=${JOBS:-$(sysctl -n hw.ncpu)}
read -r -a extra_flags <<< "${CONFIGURE_FLAGS:-}"

if [[ ! -x "$srcdir/configure" ]]; then
    echo "== autoreconf -fi in $srcdir"
    (cd "$srcdir" && autoreconf -fi)
fi

# build_slice NAME SDK TARGET HOST: configures and builds the static library
# for one architecture of one SDK in OUTDIR/build/NAME; sets $slice_lib.
slice_lib=
build_slice() {
    local name=$1 sdk=$2 target=$3 host=$4
    local dir=$outdir/build/$name
    local sysroot cc
    sysroot=$(xcrun --sdk "$sdk" --show-sdk-path)
    cc=$(xcrun --sdk "$sdk" --find clang)
    echo "== $name: $target ($sdk)"
    rm -rf "$dir"
    mkdir -p "$dir"
    (
        cd "$dir"
        "$srcdir/configure" --quiet \
            --host="$host" --enable-static --disable-shared \
            CC="$cc" \
            CFLAGS="-O2 -g -target $target -isysroot $sysroot" \
            LDFLAGS="-target $target -isysroot $sysroot" \
            ${extra_flags[@]+"${extra_flags[@]}"}
        make -j"$jobs" lib/libbatchudp.la
    )
    slice_lib=$dir/lib/.libs/libbatchudp.a
    if [[ ! -f "$slice_lib" ]]; then
        echo "$0: $slice_lib was not built" >&2
        exit 1
    fi
}

# fat OUTPUT INPUT...: one library holding every architecture.
fat() {
    local output=$1
    shift
    mkdir -p "$(dirname "$output")"
    lipo -create "$@" -output "$output"
}

build_slice macos-arm64 macosx "arm64-apple-macos$macos_min" aarch64-apple-darwin
macos_arm64=$slice_lib
build_slice macos-x86_64 macosx "x86_64-apple-macos$macos_min" x86_64-apple-darwin
macos_x86_64=$slice_lib
build_slice ios-arm64 iphoneos "arm64-apple-ios$ios_min" aarch64-apple-darwin
ios_arm64=$slice_lib
build_slice iossim-arm64 iphonesimulator "arm64-apple-ios$ios_min-simulator" aarch64-apple-darwin
iossim_arm64=$slice_lib
build_slice iossim-x86_64 iphonesimulator "x86_64-apple-ios$ios_min-simulator" x86_64-apple-darwin
iossim_x86_64=$slice_lib

libs=$outdir/libs
rm -rf "$libs"
fat "$libs/macos/libbatchudp.a" "$macos_arm64" "$macos_x86_64"
fat "$libs/iossim/libbatchudp.a" "$iossim_arm64" "$iossim_x86_64"
mkdir -p "$libs/ios"
cp "$ios_arm64" "$libs/ios/libbatchudp.a"

# Headers in a subdirectory named after the module: SwiftPM copies every
# binary target's headers into one include directory, where module maps at
# the top level of two xcframeworks would collide.
headers=$outdir/headers
rm -rf "$headers"
mkdir -p "$headers/CBatchUDP"
cp "$srcdir/include/batchudp.h" "$headers/CBatchUDP/"
cat > "$headers/CBatchUDP/module.modulemap" <<'MODULEMAP'
module CBatchUDP {
    header "batchudp.h"
    export *
}
MODULEMAP

xcframework=$outdir/CBatchUDP.xcframework
rm -rf "$xcframework"
xcodebuild -create-xcframework \
    -library "$libs/macos/libbatchudp.a" -headers "$headers" \
    -library "$libs/ios/libbatchudp.a" -headers "$headers" \
    -library "$libs/iossim/libbatchudp.a" -headers "$headers" \
    -output "$xcframework"

echo "== built $xcframework"
echo "   copy it next to bindings/swift/Package.swift, or see README.md"
