#!/usr/bin/env bash
# Runs the Rust binding's suite (unit tests, integration tests, doctests) and
# builds and runs the echo example, against the library built in BUILDDIR.
# Everything cargo writes goes under BUILDDIR/bindings/rust/target; the
# source tree is only read (Cargo.lock is committed and --locked keeps it).
#
#   bindings/rust/run-tests.sh BUILDDIR
set -euo pipefail

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
for tool in cargo rustc pkg-config cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: $tool not found" >&2
        exit 1
    fi
done

export PKG_CONFIG_PATH="$builddir/lib${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DYLD_LIBRARY_PATH="$builddir/lib/.libs${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}"
export CARGO_TARGET_DIR="$builddir/bindings/rust/target"
unset BATCHUDP_LIB_DIR

# The directory of batchudp.h, for the -sys crate's layout test.
BATCHUDP_INCLUDE_DIR=
for flag in $(pkg-config --cflags-only-I batchudp); do
    BATCHUDP_INCLUDE_DIR=${flag#-I}
    break
done
if [ ! -f "$BATCHUDP_INCLUDE_DIR/batchudp.h" ]; then
    BATCHUDP_INCLUDE_DIR=$(cd "$here/../../include" && pwd)
fi
export BATCHUDP_INCLUDE_DIR

mkdir -p "$CARGO_TARGET_DIR"
log="$CARGO_TARGET_DIR/test.log"
cd "$here"

echo "== cargo test (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
status=0
cargo test --offline --locked --workspace --no-fail-fast 2>&1 | tee "$log" || status=$?

echo "== example: echo --self-test"
if ! cargo build --offline --locked -p batchudp --example echo; then
    status=1
fi
echo_bin="$CARGO_TARGET_DIR/debug/examples/echo"
for mode in "" "--threaded"; do
    # shellcheck disable=SC2086
    if "$echo_bin" --self-test --count 200 --batch 8 $mode; then
        echo "test echo example ${mode:-inline} ... ok" | tee -a "$log"
        echo "test result: ok. 1 passed; 0 failed" >>"$log"
    else
        echo "test echo example ${mode:-inline} ... FAILED" | tee -a "$log"
        echo "test result: FAILED. 0 passed; 1 failed" >>"$log"
        status=1
    fi
done

# One closing line for the whole suite.
awk '/^test result:/ { p += $4; f += $6 } END { printf "rust: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
