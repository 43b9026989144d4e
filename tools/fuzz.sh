#!/bin/sh
# tools/fuzz.sh [--merge] [MINUTES] [TARGET...] - build the fuzz targets
# with libFuzzer, ASan and UBSan, and run each for MINUTES (default 5) on a
# copy of its seed corpus (tests/fuzz/corpus/TARGET).  Prints each target's
# executions and coverage; exits non-zero when one crashed, naming the file
# that reproduces it.  --merge adds the inputs that found new coverage back
# into tests/fuzz/corpus, minimized (libFuzzer's -merge=1).
#
# Targets: control views addr api (all by default).  MINUTES 0 builds the
# targets (in BUILD) without running them.
# Environment: CLANG (default clang, the Swift toolchain's first through
# tools/env.sh), BUILD (default _build/fuzz), JOBS (default 2),
# FUZZ_FLAGS (more libFuzzer flags).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/env.sh"

merge=0
if [ "${1:-}" = "--merge" ]; then
    merge=1
    shift
fi
minutes=5
case "${1:-}" in
    ''|*[!0-9]*) ;;
    *) minutes=$1; shift ;;
esac
targets=${*:-control views addr api}

CLANG=${CLANG:-clang}
BUILD=${BUILD:-$top/_build/fuzz}
JOBS=${JOBS:-2}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS_FUZZ="-g -O1 -fno-omit-frame-pointer $SAN"

mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)

# The library, built by its own makefiles (their source list and
# conditionals) with the sanitizers and libFuzzer's coverage hooks.
obj=$BUILD/obj
if [ ! -f "$obj/Makefile" ]; then
    [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
    mkdir -p "$obj"
    (cd "$obj" && "$top/configure" --disable-shared --enable-static \
        CC="$CLANG" CFLAGS="$CFLAGS_FUZZ -fsanitize=fuzzer-no-link") \
        > "$BUILD/configure.log" 2>&1 || {
        echo "configure failed: see $BUILD/configure.log" >&2
        exit 1
    }
fi
make -C "$obj" -j"$JOBS" lib/libbatchudp-core.la > "$BUILD/make.log" 2>&1 || {
    tail -n 30 "$BUILD/make.log" >&2
    exit 1
}
core=$obj/lib/.libs/libbatchudp-core.a

for t in $targets; do
    src=$top/tests/fuzz/fuzz_$t.c
    [ -f "$src" ] || { echo "no fuzz target $t ($src)" >&2; exit 2; }
    # A target's helpers, if it has some: fuzz_NAME_*.c.
    for extra in "$top"/tests/fuzz/fuzz_"$t"_*.c; do
        [ -f "$extra" ] && src="$src $extra"
    done
    "$CLANG" $CFLAGS_FUZZ -fsanitize=fuzzer -std=c11 -Wall -Wextra \
        -I"$obj" -I"$top/include" -I"$top/lib" -I"$top/tests/fuzz" \
        -o "$BUILD/fuzz_$t" $src "$top/tests/fuzz/input.c" "$core" -lpthread \
        > "$BUILD/build-$t.log" 2>&1 || {
        cat "$BUILD/build-$t.log" >&2
        exit 1
    }
done

[ "$minutes" -gt 0 ] || exit 0
failed=0
for t in $targets; do
    work=$BUILD/run-$t
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    seeds=$top/tests/fuzz/corpus/$t
    [ -d "$seeds" ] && cp "$seeds"/* "$work/corpus/" 2>/dev/null || true
    echo "== fuzz_$t: $minutes min, $(ls "$work/corpus" | wc -l) seeds"
    rc=0
    # Leak checking stays on: an input that leaks an fd-owning handle
    # shows up as a leak of its memory.
    (cd "$work" && ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
        UBSAN_OPTIONS=print_stacktrace=1 \
        "$BUILD/fuzz_$t" -max_total_time=$((minutes * 60)) -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$work/artifacts/" \
        ${FUZZ_FLAGS:-} corpus > "$work/log" 2>&1) || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
    status=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1 || true)
    cov=$(printf '%s\n' "$status" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$status" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    echo "   executions: ${execs:-?}  cov: ${cov:-?}  ft: ${ft:-?}  corpus: $(ls "$work/corpus" | wc -l) files"
    if [ "$rc" -ne 0 ]; then
        failed=1
        echo "   CRASHED (exit $rc); log: $work/log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)' "$work/log" | head -n 5 | sed 's/^/   /'
        for f in "$work"/artifacts/*; do
            [ -e "$f" ] && echo "   reproducer: $f"
        done
    elif [ "$merge" -eq 1 ]; then
        mkdir -p "$seeds"
        before=$(ls "$seeds" | wc -l)
        (cd "$work" && "$BUILD/fuzz_$t" -merge=1 "$seeds" corpus > "$work/merge.log" 2>&1)
        echo "   merged: $before -> $(ls "$seeds" | wc -l) files in $seeds"
    fi
done
exit $failed
