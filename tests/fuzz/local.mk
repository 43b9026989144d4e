# Fuzz targets: tests/fuzz/fuzz_*.c, run under libFuzzer by tools/fuzz.sh.
# make check replays each one's seed corpus (tests/fuzz/corpus/NAME) with
# the plain compiler, so every input that once found a bug keeps guarding
# against it.  The first three reach internal functions and link the
# convenience library; the API sequences use the shared library only.
FUZZ_REPLAYS = \
	tests/fuzz/replay_control \
	tests/fuzz/replay_views \
	tests/fuzz/replay_addr \
	tests/fuzz/replay_api
check_PROGRAMS += $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)

FUZZ_REPLAY_SOURCES = tests/fuzz/replay.c tests/fuzz/input.c tests/fuzz/input.h
FUZZ_CORE_LIBS = lib/libbatchudp-core.la $(PTHREAD_LIBS)

tests_fuzz_replay_control_SOURCES = tests/fuzz/fuzz_control.c $(FUZZ_REPLAY_SOURCES)
tests_fuzz_replay_control_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"control"'
tests_fuzz_replay_control_LDADD = $(FUZZ_CORE_LIBS)
tests_fuzz_replay_views_SOURCES = tests/fuzz/fuzz_views.c $(FUZZ_REPLAY_SOURCES)
tests_fuzz_replay_views_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"views"'
tests_fuzz_replay_views_LDADD = $(FUZZ_CORE_LIBS)
tests_fuzz_replay_addr_SOURCES = tests/fuzz/fuzz_addr.c $(FUZZ_REPLAY_SOURCES)
tests_fuzz_replay_addr_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"addr"'
tests_fuzz_replay_addr_LDADD = $(FUZZ_CORE_LIBS)
tests_fuzz_replay_api_SOURCES = tests/fuzz/fuzz_api.c tests/fuzz/fuzz_api_model.c \
	tests/fuzz/fuzz_api.h $(FUZZ_REPLAY_SOURCES)
tests_fuzz_replay_api_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"api"'
tests_fuzz_replay_api_LDADD = lib/libbatchudp.la $(PTHREAD_LIBS)

EXTRA_DIST += tests/fuzz/corpus tests/fuzz/make_seeds.py tools/fuzz.sh
