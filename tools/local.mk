# tools: batchudp-bench, the benchmark that compares ways of receiving (and
# sending) UDP on loopback (plain system calls against the library in each
# mode), and of relaying it across a veth pair, and the scripts around it.
bin_PROGRAMS += tools/batchudp-bench
tools_batchudp_bench_SOURCES = \
	tools/bench/bench.h \
	tools/bench/main.c \
	tools/bench/methods.c \
	tools/bench/report.c tools/bench/report.h \
	tools/bench/rx.c tools/bench/rx.h \
	tools/bench/net.c tools/bench/net.h \
	tools/bench/drain.c \
	tools/bench/stream.c tools/bench/stream.h \
	tools/bench/stream_group.c \
	tools/bench/latency.c \
	tools/bench/send.c \
	tools/bench/tx.c tools/bench/tx.h \
	tools/bench/stats.c \
	tools/bench/gro_sink.c tools/bench/gro_sink.h \
	tools/bench/netns.c tools/bench/netns.h \
	tools/bench/relay.c tools/bench/relay.h \
	tools/bench/relay_ends.c \
	tools/bench/relay_fwd.c \
	tools/bench/relay_methods.c
tools_batchudp_bench_LDADD = lib/libbatchudp.la $(PTHREAD_LIBS)

# bench-smoke.sh BUILDDIR runs the built bench once per mode with --quick;
# bench-sweep.sh and plot-bench.py produce the figures of docs/PERFORMANCE.md.
EXTRA_DIST += tools/bench-smoke.sh tools/bench-sweep.sh tools/plot-bench.py

# cost-per-datagram.py counts the user-space instructions per datagram of
# each row under callgrind (docs/PERFORMANCE.md); tests/cost_tool.sh
# checks that it runs.
EXTRA_DIST += tools/cost-per-datagram.py

# batchudp-soak: millions of datagrams through threaded sockets that are
# closed and reopened while senders keep sending; run by tools/soak.sh,
# never by make check, never installed (docs/TESTING.md, "Soak").
noinst_PROGRAMS += tools/batchudp-soak
tools_batchudp_soak_SOURCES = \
	tools/soak/soak.h \
	tools/soak/soak.c \
	tools/soak/sender.c \
	tools/soak/proc.c
tools_batchudp_soak_LDADD = lib/libbatchudp.la $(PTHREAD_LIBS)
EXTRA_DIST += tools/soak.sh

# pacing-vm.sh runs the suites that need the fq queue discipline in a
# virtual machine with Debian's kernel, for machines whose kernel lacks it
# (docs/TESTING.md, "Long runs"); never run by make check.
EXTRA_DIST += tools/pacing-vm.sh
