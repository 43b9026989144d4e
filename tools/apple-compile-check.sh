#!/bin/sh
# Compiles every lib/*.c for Apple targets as the SwiftPM C target does
# (no configure: lib/build_config.h), against an Apple SDK's headers, with
# warnings as errors, and checks that the msgx backend was built.  Works on
# Linux with clang and a copy of an SDK (a directory holding usr/include);
# on macOS, pass "$(xcrun --show-sdk-path)".  Not part of the test command:
# CI has no Apple SDK.
#
#   tools/apple-compile-check.sh SDK_DIR [CLANG]
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 SDK_DIR [CLANG]" >&2
    exit 2
fi
sdk=$1
clang=${2:-clang}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

[ -f "$sdk/usr/include/sys/socket.h" ] || {
    echo "$0: $sdk/usr/include/sys/socket.h not found: not an SDK" >&2
    exit 2
}
status=0
for target in arm64-apple-macos13 x86_64-apple-macos13 arm64-apple-ios16; do
    mkdir -p "$out/$target"
    for f in "$top"/lib/*.c; do
        "$clang" -target "$target" -isysroot "$sdk" -std=c11 -O2 \
            -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror \
            -DBUDP_BUILDING_LIBRARY -I"$top/include" -I"$top/lib" \
            -c "$f" -o "$out/$target/$(basename "$f" .c).o" || status=1
    done
    if nm "$out/$target/backend_msgx.o" 2>/dev/null | grep -q budp_backend_msgx ||
       llvm-nm "$out/$target/backend_msgx.o" 2>/dev/null | grep -q budp_backend_msgx; then
        echo "$target: lib/ compiled, msgx backend included"
    else
        echo "$target: the msgx backend is missing from backend_msgx.o" >&2
        status=1
    fi
done
exit $status
