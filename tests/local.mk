# C test suites (Check), the libffi ABI test, and the benchmark smoke test.
# Suites that use only the public API link the shared library; unit suites
# of internal pieces link the convenience library.
if HAVE_CHECK
check_LTLIBRARIES += tests/libtestutil.la
tests_libtestutil_la_SOURCES = tests/testutil.c tests/testrun.c tests/testutil.h
tests_libtestutil_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

TEST_LIBS = tests/libtestutil.la lib/libbatchudp.la $(CHECK_LIBS) $(PTHREAD_LIBS)
TEST_CORE_LIBS = tests/libtestutil.la lib/libbatchudp-core.la $(CHECK_LIBS) $(PTHREAD_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

PUBLIC_API_SUITES = \
	tests/test_options \
	tests/test_badinput \
	tests/test_callback_calls \
	tests/test_roundtrip \
	tests/test_send_errors \
	tests/test_noalloc \
	tests/test_threaded \
	tests/test_lifetime \
	tests/test_shutdown_stress \
	tests/test_lifetime_stress \
	tests/test_offload \
	tests/test_addressing \
	tests/test_timestamps \
	tests/test_errors \
	tests/test_group \
	tests/test_uring \
	tests/test_veth \
	tests/test_netpath \
	tests/test_pacing_fq \
	tests/test_pacing_etf
UNIT_SUITES = \
	tests/test_ring \
	tests/test_views \
	tests/test_gso_run
# Suites that link the fault shim: its definitions of the system calls the
# library makes take the place of libc's (exported with -rdynamic).
FAULT_SUITES = \
	tests/test_kernel_results \
	tests/test_setup_faults \
	tests/test_wakeups

check_PROGRAMS += $(PUBLIC_API_SUITES) $(UNIT_SUITES) $(FAULT_SUITES)
TESTS += $(PUBLIC_API_SUITES) $(UNIT_SUITES) $(FAULT_SUITES)

FAULT_SHIM = tests/faults/fault_shim.c tests/faults/fault_shim.h \
	tests/faults/fault_rules.c tests/faults/fault_rules.h \
	tests/faults/fault_craft.c tests/faults/fault_craft.h
FAULT_LIBS = $(TEST_LIBS)
tests_test_kernel_results_SOURCES = tests/test_kernel_results.c $(FAULT_SHIM)
tests_test_kernel_results_CFLAGS = $(TEST_CFLAGS)
tests_test_kernel_results_LDFLAGS = -rdynamic
tests_test_kernel_results_LDADD = $(FAULT_LIBS)
tests_test_setup_faults_SOURCES = tests/test_setup_faults.c $(FAULT_SHIM)
tests_test_setup_faults_CFLAGS = $(TEST_CFLAGS)
tests_test_setup_faults_LDFLAGS = -rdynamic
tests_test_setup_faults_LDADD = $(FAULT_LIBS)
tests_test_wakeups_SOURCES = tests/test_wakeups.c $(FAULT_SHIM)
tests_test_wakeups_CFLAGS = $(TEST_CFLAGS)
tests_test_wakeups_LDFLAGS = -rdynamic
tests_test_wakeups_LDADD = $(FAULT_LIBS)

tests_test_options_SOURCES = tests/test_options.c
tests_test_options_CFLAGS = $(TEST_CFLAGS)
tests_test_options_LDADD = $(TEST_LIBS)
tests_test_badinput_SOURCES = tests/test_badinput.c
tests_test_badinput_CFLAGS = $(TEST_CFLAGS)
tests_test_badinput_LDADD = $(TEST_LIBS)
tests_test_callback_calls_SOURCES = tests/test_callback_calls.c
tests_test_callback_calls_CFLAGS = $(TEST_CFLAGS)
tests_test_callback_calls_LDADD = $(TEST_LIBS)
tests_test_roundtrip_SOURCES = tests/test_roundtrip.c tests/combo.c tests/combo.h
tests_test_roundtrip_CFLAGS = $(TEST_CFLAGS)
tests_test_roundtrip_LDADD = $(TEST_LIBS)
tests_test_send_errors_SOURCES = tests/test_send_errors.c tests/combo.c tests/combo.h
tests_test_send_errors_CFLAGS = $(TEST_CFLAGS)
tests_test_send_errors_LDADD = $(TEST_LIBS)
tests_test_noalloc_SOURCES = tests/test_noalloc.c
tests_test_noalloc_CFLAGS = $(TEST_CFLAGS)
tests_test_noalloc_LDADD = $(TEST_LIBS)
if WITH_MSGX
# With the recvmsg_x emulation, the msgx backend is counted too.
tests_test_noalloc_SOURCES += tests/msgx_shim.c tests/msgx_shim.h tests/msgx_shim_sys.c
tests_test_noalloc_LDFLAGS = -rdynamic
endif
tests_test_threaded_SOURCES = tests/test_threaded.c
tests_test_threaded_CFLAGS = $(TEST_CFLAGS)
tests_test_threaded_LDADD = $(TEST_LIBS)
tests_test_lifetime_SOURCES = tests/test_lifetime.c
tests_test_lifetime_CFLAGS = $(TEST_CFLAGS)
tests_test_lifetime_LDADD = $(TEST_LIBS)
tests_test_shutdown_stress_SOURCES = tests/test_shutdown_stress.c
tests_test_shutdown_stress_CFLAGS = $(TEST_CFLAGS)
tests_test_shutdown_stress_LDADD = $(TEST_LIBS)
tests_test_lifetime_stress_SOURCES = tests/test_lifetime_stress.c \
	tests/lifetime_round.c tests/lifetime_round.h
tests_test_lifetime_stress_CFLAGS = $(TEST_CFLAGS)
tests_test_lifetime_stress_LDADD = $(TEST_LIBS)
tests_test_offload_SOURCES = tests/test_offload.c
tests_test_offload_CFLAGS = $(TEST_CFLAGS)
tests_test_offload_LDADD = $(TEST_LIBS)
tests_test_addressing_SOURCES = tests/test_addressing.c
tests_test_addressing_CFLAGS = $(TEST_CFLAGS)
tests_test_addressing_LDADD = $(TEST_LIBS)
tests_test_veth_SOURCES = tests/test_veth.c tests/netns.c tests/netns.h
tests_test_veth_CFLAGS = $(TEST_CFLAGS)
tests_test_veth_LDADD = $(TEST_LIBS)
tests_test_netpath_SOURCES = tests/test_netpath.c tests/netpath.c tests/netpath.h \
	tests/netns.c tests/netns.h tests/bpf_tstamp.c tests/bpf_tstamp.h
tests_test_netpath_CFLAGS = $(TEST_CFLAGS)
tests_test_netpath_LDADD = $(TEST_LIBS)
tests_test_pacing_fq_SOURCES = tests/test_pacing_fq.c tests/netpath.c tests/netpath.h \
	tests/netns.c tests/netns.h
tests_test_pacing_fq_CFLAGS = $(TEST_CFLAGS)
tests_test_pacing_fq_LDADD = $(TEST_LIBS)
tests_test_pacing_etf_SOURCES = tests/test_pacing_etf.c tests/netpath.c tests/netpath.h \
	tests/netns.c tests/netns.h
tests_test_pacing_etf_CFLAGS = $(TEST_CFLAGS)
tests_test_pacing_etf_LDADD = $(TEST_LIBS)
tests_test_timestamps_SOURCES = tests/test_timestamps.c
tests_test_timestamps_CFLAGS = $(TEST_CFLAGS)
tests_test_timestamps_LDADD = $(TEST_LIBS)
tests_test_group_SOURCES = tests/test_group.c
tests_test_group_CFLAGS = $(TEST_CFLAGS)
tests_test_group_LDADD = $(TEST_LIBS)
tests_test_uring_SOURCES = tests/test_uring.c
tests_test_uring_CFLAGS = $(TEST_CFLAGS)
tests_test_uring_LDADD = $(TEST_LIBS)
tests_test_errors_SOURCES = tests/test_errors.c
tests_test_errors_CFLAGS = $(TEST_CFLAGS)
tests_test_errors_LDADD = $(TEST_LIBS)

tests_test_ring_SOURCES = tests/test_ring.c
tests_test_ring_CFLAGS = $(TEST_CFLAGS)
tests_test_ring_LDADD = $(TEST_CORE_LIBS)
tests_test_views_SOURCES = tests/test_views.c
tests_test_views_CFLAGS = $(TEST_CFLAGS)
tests_test_views_LDADD = $(TEST_CORE_LIBS)
tests_test_gso_run_SOURCES = tests/test_gso_run.c
tests_test_gso_run_CFLAGS = $(TEST_CFLAGS)
tests_test_gso_run_LDADD = $(TEST_CORE_LIBS)

# The msgx backend on Linux: the test program defines recvmsg_x/sendmsg_x
# (emulating XNU on top of recvmsg/sendmsg) and exports them, so the
# library's dlsym finds them.
if WITH_MSGX
check_PROGRAMS += tests/test_msgx
TESTS += tests/test_msgx
tests_test_msgx_SOURCES = tests/test_msgx.c tests/msgx_shim.c tests/msgx_shim.h \
	tests/msgx_shim_sys.c
tests_test_msgx_CFLAGS = $(TEST_CFLAGS)
tests_test_msgx_LDFLAGS = -rdynamic
tests_test_msgx_LDADD = $(TEST_LIBS)
# The choice of backend, with the internal pieces (the convenience
# library) and the emulated sysctlbyname.
check_PROGRAMS += tests/test_backend_choice
TESTS += tests/test_backend_choice
tests_test_backend_choice_SOURCES = tests/test_backend_choice.c tests/msgx_shim.c \
	tests/msgx_shim.h tests/msgx_shim_sys.c
tests_test_backend_choice_CFLAGS = $(TEST_CFLAGS)
tests_test_backend_choice_LDFLAGS = -rdynamic
tests_test_backend_choice_LDADD = $(TEST_CORE_LIBS)
endif

if HAVE_FFI
check_PROGRAMS += tests/test_abi_ffi
TESTS += tests/test_abi_ffi
tests_test_abi_ffi_SOURCES = tests/test_abi_ffi.c
tests_test_abi_ffi_CFLAGS = $(TEST_CFLAGS) $(FFI_CFLAGS) -DBUDP_LIBDIR='"$(abs_top_builddir)/lib/.libs"'
tests_test_abi_ffi_LDADD = tests/libtestutil.la $(CHECK_LIBS) $(FFI_LIBS) $(LIBS)
endif
CHECK_DEPS_MISSING =
else
CHECK_DEPS_MISSING = check-deps-missing
endif

check-deps-missing:
	@echo "make check needs the Check library (Debian: check, pkg-config): not found by configure" >&2
	@exit 1

# Script tests: the benchmark in every mode, the instruction counter, and
# the README's C example, the layering of lib/, and the bundled builds' config.
TESTS += tests/bench_smoke.sh tests/cost_tool.sh tests/readme_example.sh tests/layering.sh \
	tests/build-config.sh
AM_TESTS_ENVIRONMENT = abs_top_srcdir='$(abs_top_srcdir)' abs_top_builddir='$(abs_top_builddir)' CC='$(CC)'; export abs_top_srcdir abs_top_builddir CC;
EXTRA_DIST += tests/bench_smoke.sh tests/cost_tool.sh tests/readme_example.sh \
	tests/layering.sh tests/check_layering.py tests/build-config.sh

EXTRA_DIST += tests/valgrind.supp tests/tsan.supp tests/run-valgrind.sh tests/install-check.sh
