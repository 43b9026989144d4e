#!/usr/bin/env bash
# Run every C suite of a build directory under valgrind memcheck: no error,
# no leak.  Check's fork mode is off so valgrind sees the test bodies; the
# load tests run with smaller counts.
# Usage: tests/run-valgrind.sh BUILDDIR
# BUDP_VALGRIND_SUITES="tests/test_a tests/test_b" runs those only.
set -uo pipefail
build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
BUDP_SKIP_BINDINGS=1 make -C "$build" -j"$(nproc)" check TESTS= >/dev/null || exit 1
status=0
suites=("$build"/tests/test_*)
if [ -n "${BUDP_VALGRIND_SUITES:-}" ]; then
    suites=()
    for s in $BUDP_VALGRIND_SUITES; do suites+=("$build/$s"); done
fi
for t in "${suites[@]}"; do
    case "$t" in *.log|*.trs|*.o) continue ;; esac
    [ -x "$t" ] || continue
    name=$(basename "$t")
    CK_FORK=no BUDP_TEST_SCALE=50 BUDP_STRESS_ROUNDS=50 CK_DEFAULT_TIMEOUT=600 \
        "$build/libtool" --mode=execute valgrind -q --error-exitcode=99 \
            --leak-check=full --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible \
            --suppressions="$top/tests/valgrind.supp" \
            "$t" >"$build/tests/$name.valgrind.log" 2>&1
    rc=$?
    if [ "$rc" = 0 ]; then
        echo "valgrind PASS: $name ($(grep -E '^[0-9]+%: Checks' "$build/tests/$name.valgrind.log"))"
    elif [ "$rc" = 77 ]; then
        # Skipped (automake's 77), with the reason it printed; not a pass.
        echo "valgrind SKIP: $name ($(grep -m1 '^SKIP' "$build/tests/$name.valgrind.log"))"
    else
        echo "valgrind FAIL: $name"
        cat "$build/tests/$name.valgrind.log"
        status=1
    fi
done
exit $status
