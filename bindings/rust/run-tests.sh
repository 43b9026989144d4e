#!/usr/bin/env bash
# Runs the Rust binding's suite against both ways the -sys crate gets the C
# library, and builds and runs the echo example on each:
#
# - system (--no-default-features): the library built in BUILDDIR, found
#   through pkg-config.  Everything runs here: unit, integration and doc
#   tests; then with the `tokio` feature (AsyncSocket) the unit tests,
#   the async integration tests, the closing ones (a shutdown also wakes
#   the async waiters then) and the feature's doctests (those of
#   src/tokio_socket* and the README's, which that module includes): the
#   other tests do not reach what the feature changes.  It is the library
#   configure and make just built, the one make check is about.  A build
#   of the crate without the feature is checked to compile no tokio, and
#   one of its tests (tokio is a dev-dependency) to have it, so that the
#   check is seen to find it.
# - bundled (the crates' default): the repository's C sources compiled by
#   the cc crate into the crate, with nothing of BUILDDIR in the
#   environment.  Unit and integration tests (every call into C is in
#   them) run; the doctests do not: they check the Rust API and its borrow
#   rules, which do not depend on how the library is linked, and compiling
#   each one apart is about half of the suite's time.
# - BATCHUDP_SYSTEM=1 with the default features: the -sys crate's abi test
#   only, to show that the variable switches to BUILDDIR's library.
#
# The dynamic section of a binary of each route is checked: libbatchudp's
# shared object is needed on the system routes, not on the bundled one.
#
# The crates.io crates (cc, and tokio with its dependencies: Cargo.lock
# holds every optional dependency, used or not) come from Debian's
# librust-cc-dev and librust-tokio-dev (/usr/share/cargo/registry) through
# --config flags when they are there, else from cargo's own offline cache.
# Cargo.lock records Debian's checksums, and Debian has none for some
# crates ("Could not get crate checksum"): with crates.io itself, cargo
# refuses it (see README.md, Tests).  Everything cargo writes goes under
# BUILDDIR/bindings/rust/target (ignored by git and left out of tarballs,
# for builds in the source tree); the source tree is only read (Cargo.lock
# is committed and --locked keeps it).
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
cargo_flags=(--offline --locked)
registry=/usr/share/cargo/registry
if compgen -G "$registry/cc-1.*/Cargo.toml" >/dev/null; then
    # Every locked crate must be there, even for a build without tokio.
    if ! compgen -G "$registry/tokio-1.*/Cargo.toml" >/dev/null; then
        echo "$0: no tokio crate in $registry: apt-get install librust-tokio-dev" >&2
        exit 1
    fi
    cargo_flags+=(--config 'source.crates-io.replace-with="debian"'
                  --config "source.debian.directory=\"$registry\"")
else
    echo "note: no cc crate in $registry (Debian's librust-cc-dev): cargo's own cache must hold cc and tokio"
fi

outdir="$builddir/bindings/rust/target"
mkdir -p "$outdir"
log="$outdir/test.log"
: >"$log"
cd "$here"
unset BATCHUDP_LIB_DIR BATCHUDP_SYSTEM BATCHUDP_INCLUDE_DIR
status=0

# record NAME COMMAND...: runs a check that is not a cargo test, with a
# result line in the log for the closing count.
record() {
    local name=$1
    shift
    if "$@"; then
        echo "test $name ... ok" | tee -a "$log"
        echo "test result: ok. 1 passed; 0 failed" >>"$log"
    else
        echo "test $name ... FAILED" | tee -a "$log"
        echo "test result: FAILED. 0 passed; 1 failed" >>"$log"
        status=1
    fi
}

# needs_shared_lib BINARY yes|no: whether BINARY loads libbatchudp's shared
# object, against what the route should give.
needs_shared_lib() {
    local found rc=0
    found=$(bash "$here/../shared-libbatchudp.sh" "$1") || rc=$?
    case $rc in
        0) [ "$2" = yes ] || { echo "$1 needs libbatchudp's shared object:"; echo "$found"; return 1; } ;;
        1) [ "$2" = no ] || { echo "$1 does not need libbatchudp's shared object"; return 1; } ;;
        *) echo "$1: cannot tell which libraries it needs"; return 1 ;;
    esac
}

# echo_example ROUTE NEEDS_SHARED_LIB CARGO_OPTION...: builds the echo
# example, checks how it is linked and runs its self-test.
echo_example() {
    local route=$1 shared=$2
    shift 2
    echo "== $route: example echo --self-test"
    if ! cargo build "${cargo_flags[@]}" -p batchudp --example echo "$@"; then
        record "$route: echo example build" false
        return
    fi
    local bin="$CARGO_TARGET_DIR/debug/examples/echo"
    record "$route: echo example needs libbatchudp.so: $shared" needs_shared_lib "$bin" "$shared"
    for mode in "" "--threaded"; do
        # shellcheck disable=SC2086
        record "$route: echo example ${mode:-inline}" "$bin" --self-test --count 200 --batch 8 $mode
    done
}

# builds_tokio yes|no CARGO_OPTION...: whether a build of the batchudp crate
# with these options compiles (or finds already compiled) the tokio crate,
# against what it should.
builds_tokio() {
    local want=$1 built=no out
    shift
    out=$(cargo build "${cargo_flags[@]}" -p batchudp --message-format=json "$@") ||
        { echo "cargo build $* failed"; return 1; }
    # One grep (a pipe into grep -q could end its writer early, which
    # pipefail would count as a failure).
    if grep -q '"reason":"compiler-artifact".*"name":"tokio"' <<<"$out"; then
        built=yes
    fi
    [ "$built" = "$want" ] || { echo "tokio compiled: $built, expected: $want"; return 1; }
}

# The library built in BUILDDIR, for the system routes.
use_builddir_library() {
    export PKG_CONFIG_PATH="$builddir/lib${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export LD_LIBRARY_PATH="$builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export DYLD_LIBRARY_PATH="$builddir/lib/.libs${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}"
    # The directory of batchudp.h, for the -sys crate's layout test.
    local flag
    BATCHUDP_INCLUDE_DIR=
    for flag in $(pkg-config --cflags-only-I batchudp); do
        BATCHUDP_INCLUDE_DIR=${flag#-I}
        break
    done
    if [ ! -f "$BATCHUDP_INCLUDE_DIR/batchudp.h" ]; then
        BATCHUDP_INCLUDE_DIR=$(cd "$here/../../include" && pwd)
    fi
    export BATCHUDP_INCLUDE_DIR
}

# Each route runs in a subshell of its own (its environment stays there)
# and fails when one of its checks did.

system_route() {
    use_builddir_library
    echo "== system: cargo test --no-default-features (PKG_CONFIG_PATH=$PKG_CONFIG_PATH)"
    cargo test "${cargo_flags[@]}" --workspace --no-fail-fast --no-default-features \
        2>&1 | tee -a "$log" || status=1
    echo "== system: cargo test --features tokio"
    cargo test "${cargo_flags[@]}" -p batchudp --no-fail-fast --no-default-features \
        --features tokio --lib --test async_socket --test closing 2>&1 | tee -a "$log" || status=1
    cargo test "${cargo_flags[@]}" -p batchudp --no-fail-fast --no-default-features \
        --features tokio --doc -- tokio_socket 2>&1 | tee -a "$log" || status=1
    record "system: a build without the tokio feature compiles no tokio" \
        builds_tokio no --no-default-features
    record "system: a build of the tests has tokio (the check finds it)" \
        builds_tokio yes --no-default-features --tests
    echo_example system yes --no-default-features
    return "$status"
}

bundled_route() {
    unset PKG_CONFIG_PATH LD_LIBRARY_PATH DYLD_LIBRARY_PATH
    echo "== bundled: cargo test --tests (no PKG_CONFIG_PATH, no LD_LIBRARY_PATH)"
    cargo test "${cargo_flags[@]}" --workspace --no-fail-fast --tests \
        2>&1 | tee -a "$log" || status=1
    echo_example bundled no
    return "$status"
}

system_variable_route() {
    use_builddir_library
    export BATCHUDP_SYSTEM=1
    # The same features as the bundled route: a target directory of its own
    # keeps the two from rebuilding each other every time.
    export CARGO_TARGET_DIR="$outdir/system-env"
    echo "== BATCHUDP_SYSTEM=1: the abi test"
    local abi_test
    abi_test=$(cargo test "${cargo_flags[@]}" -p batchudp-sys --test abi --no-run \
        --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1) || true
    if [ -z "$abi_test" ]; then
        record "BATCHUDP_SYSTEM=1: abi test build" false
        return 1
    fi
    record "BATCHUDP_SYSTEM=1: abi test needs libbatchudp.so: yes" needs_shared_lib "$abi_test" yes
    "$abi_test" 2>&1 | tee -a "$log" || status=1
    return "$status"
}

# Both feature sets share one target directory: their artifacts differ in
# cargo's hashes, so neither route rebuilds the other's.
export CARGO_TARGET_DIR="$outdir"
(system_route) || status=1
(bundled_route) || status=1
(system_variable_route) || status=1

# One closing line for the whole suite.  libtest has no skipped state: a test
# that cannot run here prints "skipped: WHY" (tests/common/mod.rs) and
# passes, so those are counted apart.
skipped=$(grep -o 'skipped: ' "$log" | wc -l | tr -d ' ')
awk -v skipped="$skipped" '/^test result:/ { p += $4; f += $6 }
    END { printf "rust: %d passed (%d of them skipped), %d failed\n", p, skipped, f }' "$log"
exit "$status"
