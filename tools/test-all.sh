#!/usr/bin/env bash
# Every test of the project, from a fresh clone: the C suites (plain, under
# ASan+UBSan, the threaded ones under TSan, all under valgrind), the ABI
# against its baseline, make distcheck, and the Python, Rust and Swift
# binding suites.  Here a missing
# toolchain is a failure, not a skip.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/env.sh"
bash "$top/tools/install-deps.sh" || exit 1

passed=0
failed=0
failures=()
stage() {
    local name=$1 start=$SECONDS
    shift
    echo
    echo "==== $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "==== $name: passed in $((SECONDS - start)) s"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "==== $name: FAILED after $((SECONDS - start)) s"
    fi
}

# make check prints only the summary; on failure, show the suites' logs.
check_in() {
    local dir=$1
    shift
    if make -C "$dir" -j"$(nproc)" check "$@" >"$dir/check.out" 2>&1; then
        grep -E '^(# |PASS|SKIP|XFAIL)|[0-9]+ passed|Executed [0-9]+ tests|^test result:' \
            "$dir/check.out" || true
        grep -h -E '^[0-9]+%: Checks' "$dir"/tests/*.log 2>/dev/null || true
        return 0
    fi
    cat "$dir/check.out"
    for log in "$dir"/tests/*.log "$dir"/tools/*.log; do
        [ -f "$log" ] && grep -q -E '^:test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null && cat "$log"
    done
    return 1
}

build=$top/_build
plain=$build/default

# What the checkout holds before the tests run, to tell afterwards whether
# they wrote anything git does not ignore.
checkout_status() {
    git -C "$top" status --porcelain --untracked-files=all 2>/dev/null
}
status_before=$(checkout_status)

stage "build" bash "$top/tools/build.sh" "$plain"
stage "C suites and bindings (make check)" \
    env BUDP_REQUIRE_BINDINGS=1 bash -c "$(declare -f check_in); check_in '$plain'"

stage "C suites under ASan+UBSan" bash -c "
    bash '$top/tools/build.sh' '$build/asan' \
        CFLAGS='-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
        LDFLAGS='-fsanitize=address,undefined' >/dev/null &&
    $(declare -f check_in); BUDP_SKIP_BINDINGS=1 BUDP_TEST_SCALE=4 check_in '$build/asan'"

stage "threaded suites under TSan" bash -c "
    bash '$top/tools/build.sh' '$build/tsan' \
        CFLAGS='-g -O1 -fsanitize=thread' LDFLAGS='-fsanitize=thread' >/dev/null &&
    $(declare -f check_in); TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1 suppressions=$top/tests/tsan.supp' \
        BUDP_SKIP_BINDINGS=1 BUDP_TEST_SCALE=10 BUDP_STRESS_ROUNDS=500 \
        check_in '$build/tsan' TESTS='tests/test_ring tests/test_threaded tests/test_lifetime tests/test_shutdown_stress tests/test_lifetime_stress tests/test_wakeups tests/test_errors tests/test_group tests/test_uring'"

# The suites whose tests hold for every backend (the others reach the
# system calls of one: fault shims, crafted results, Apple's calls), once
# more with the whole process on the io_uring backend: plain, under
# ASan+UBSan, the threaded ones under TSan and valgrind.
uring_suites='tests/test_badinput tests/test_callback_calls tests/test_noalloc
    tests/test_threaded tests/test_lifetime tests/test_shutdown_stress
    tests/test_lifetime_stress tests/test_offload tests/test_addressing
    tests/test_timestamps tests/test_errors tests/test_group tests/test_netpath'
uring_threaded='tests/test_threaded tests/test_lifetime tests/test_shutdown_stress
    tests/test_errors tests/test_group'
stage "C suites again on the io_uring backend (BATCHUDP_BACKEND=uring)" bash -c "
    $(declare -f check_in); export BATCHUDP_BACKEND=uring BUDP_SKIP_BINDINGS=1
    echo '-- plain' && check_in '$plain' TESTS=\"\$1\" &&
    echo '-- ASan+UBSan' && BUDP_TEST_SCALE=4 check_in '$build/asan' TESTS=\"\$1\" &&
    echo '-- TSan' && TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1 suppressions=$top/tests/tsan.supp' \
        BUDP_TEST_SCALE=10 BUDP_STRESS_ROUNDS=200 check_in '$build/tsan' TESTS=\"\$2\" &&
    echo '-- valgrind' && BUDP_VALGRIND_SUITES=\"\$2\" bash '$top/tests/run-valgrind.sh' '$plain'
" _ "$(echo $uring_suites)" "$(echo $uring_threaded)"

stage "ABI against the baseline in tests/abi (abidiff)" \
    bash "$top/tools/abi-check.sh" "$plain"

stage "install, and a program built outside the tree with pkg-config" \
    bash "$top/tests/install-check.sh" "$plain"

stage "bindings with nothing installed (SwiftPM, cargo, pip)" \
    bash "$top/tools/bundled-check.sh" "$build/bundled"

stage "configure --disable-msgx leaves the private Apple calls out" bash -c "
    bash '$top/tools/build.sh' '$build/nomsgx' --disable-msgx >/dev/null &&
    ! grep -q recvmsg_x '$build/nomsgx/lib/.libs/libbatchudp.so.1' &&
    echo 'no recvmsg_x in the library built with --disable-msgx'"

stage "C suites under valgrind" bash "$top/tests/run-valgrind.sh" "$plain"

stage "make distcheck" bash -c "
    BUDP_SKIP_BINDINGS=1 BUDP_TEST_SCALE=4 make -C '$plain' distcheck >'$plain/distcheck.out' 2>&1 ||
    { tail -80 '$plain/distcheck.out'; exit 1; }
    grep -E 'archives ready|\.tar\.gz' '$plain/distcheck.out' | head -3"

stage "the checkout holds nothing new but ignored build products" bash -c "
    git -C '$top' rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
        { echo 'not a git checkout: nothing to compare'; exit 0; }
    diff <(printf '%s\\n' \"\$1\") <(printf '%s\\n' \"\$2\") && echo 'git status unchanged by the tests'
" _ "$status_before" "$(checkout_status)"

echo
if [ $failed -gt 0 ]; then
    echo "failed stages: ${failures[*]}"
fi
echo "stages: $passed passed, $failed failed, in $SECONDS s"
[ $failed -eq 0 ]
