#!/bin/sh
# Runs the Rust binding's suite (unit tests, integration tests, doctests) and
# builds and runs the example, against the library built in BUILDDIR.
# Everything cargo writes goes under BUILDDIR/bindings/rust/target; the
# source tree is only read (Cargo.lock is committed, --locked keeps it so).
#
#   bindings/rust/run-tests.sh BUILDDIR
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILDDIR" >&2
    exit 2
fi
builddir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -e "$builddir/lib/.libs/libbatchudp.so" ] && [ ! -e "$builddir/lib/.libs/libbatchudp.dylib" ]; then
    echo "$0: no libbatchudp in $builddir/lib/.libs: build the library first" >&2
    exit 1
fi
for tool in cargo rustc pkg-config; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: $tool not found" >&2
        exit 1
    fi
done

PKG_CONFIG_PATH="$builddir/lib${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
LD_LIBRARY_PATH="$builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
DYLD_LIBRARY_PATH="$builddir/lib/.libs${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}"
# The directory of batchudp.h, for the -sys crate's layout test.
BATCHUDP_INCLUDE_DIR=
for flag in $(pkg-config --cflags-only-I batchudp); do
    BATCHUDP_INCLUDE_DIR=${flag#-I}
    break
done
if [ ! -f "$BATCHUDP_INCLUDE_DIR/batchudp.h" ]; then
    BATCHUDP_INCLUDE_DIR=$(cd "$here/../../include" && pwd)
fi
CARGO_TARGET_DIR="$builddir/bindings/rust/target"
export PKG_CONFIG_PATH LD_LIBRARY_PATH DYLD_LIBRARY_PATH BATCHUDP_INCLUDE_DIR CARGO_TARGET_DIR
unset BATCHUDP_LIB_DIR || true

cd "$here"
echo "== cargo test (PKG_CONFIG_PATH=$builddir/lib)"
cargo test --offline --locked --workspace
echo "== example: echo --self-test"
cargo build --offline --locked -p batchudp --example echo
"$CARGO_TARGET_DIR/debug/examples/echo" --self-test --count 200
"$CARGO_TARGET_DIR/debug/examples/echo" --self-test --count 200 --batch 8 --threaded
