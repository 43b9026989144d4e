# The fault matrix: the fault shim as a module to preload (LD_PRELOAD) with
# its requests in BUDP_FAULTS, the program one scenario runs in, and the
# runner that make check runs (tests/faults/fault_matrix.c says what it
# covers).
if HAVE_CHECK
# The module is built by hand, without the CFLAGS of the build: its malloc
# runs before a sanitizer's runtime is ready, so it must not be
# instrumented (the library and the scenario are).  Everything exported:
# the scenario looks the shim's counters up with dlsym.
FAULT_PRELOAD_FILES = $(FAULT_SHIM) \
	tests/faults/fault_alloc.c tests/faults/fault_env.c \
	tests/faults/errno_names.c tests/faults/errno_names.h
tests/faults/budp_fault.so: $(FAULT_PRELOAD_FILES) config.h
	$(AM_V_CC)$(CC) -shared -fPIC -g -O1 $(BUDP_CFLAGS) -fvisibility=default \
		$(DEFS) -I$(top_builddir) $(AM_CPPFLAGS) -o $@ \
		$(filter %.c,$(addprefix $(srcdir)/,$(FAULT_PRELOAD_FILES))) \
		$(PTHREAD_CFLAGS) $(PTHREAD_LIBS) -ldl
check_DATA = tests/faults/budp_fault.so
CLEANFILES += tests/faults/budp_fault.so
EXTRA_DIST += tests/faults/fault_alloc.c tests/faults/fault_env.c

check_PROGRAMS += tests/faults/fault_scenario tests/faults/fault_matrix
tests_faults_fault_scenario_SOURCES = tests/faults/fault_scenario.c \
	tests/faults/errno_names.c tests/faults/errno_names.h \
	tests/faults/scenario_traffic.c tests/faults/scenario_setup.c \
	tests/faults/scenario.h
tests_faults_fault_scenario_CFLAGS = $(TEST_CFLAGS)
# A real executable, not libtool's wrapper script, so that the preloaded
# shim sees only the scenario.
tests_faults_fault_scenario_LDFLAGS = -no-install
tests_faults_fault_scenario_LDADD = $(TEST_LIBS)
tests_faults_fault_matrix_SOURCES = tests/faults/fault_matrix.c \
	tests/faults/matrix_list.c tests/faults/matrix.h

TESTS += tests/faults/fault_matrix
endif
