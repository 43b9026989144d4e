# The library: every source goes into a convenience library that both the
# shared library and the unit tests link, so tests reach internal functions
# without linking object files by hand.
noinst_LTLIBRARIES += lib/libbatchudp-core.la
lib_libbatchudp_core_la_SOURCES = \
	lib/addr.c lib/addr.h \
	lib/backend.c lib/backend.h \
	lib/backend_loop.c \
	lib/build_config.h \
	lib/callback.c lib/callback.h \
	lib/calls.c lib/calls.h \
	lib/counters.h \
	lib/datagram_check.h \
	lib/error_events.c lib/error_events.h \
	lib/error_queue.c lib/error_queue.h \
	lib/errors.c \
	lib/icmp_errors.h \
	lib/footprint.c lib/footprint.h \
	lib/group.c \
	lib/held.c lib/held.h \
	lib/handle.h \
	lib/inline.h \
	lib/lifetime.c lib/lifetime.h \
	lib/notify.c lib/notify.h \
	lib/options.c lib/options.h \
	lib/packed.c lib/packed.h \
	lib/pacing.c \
	lib/posix_base.c lib/posix_base.h \
	lib/posix_cmsg.h \
	lib/posix_errqueue.c lib/posix_errqueue.h \
	lib/posix_msg.c lib/posix_msg.h \
	lib/posix_sockopt.c lib/posix_sockopt.h \
	lib/receive.c lib/receive.h \
	lib/receiver.c lib/receiver.h lib/receiver_state.h \
	lib/ring_consumer.c \
	lib/ring.c lib/ring.h \
	lib/rx.c \
	lib/slot.c lib/slot.h \
	lib/socket.c lib/socket_create.h \
	lib/stats.c lib/stats.h \
	lib/sys.h lib/sys_error.c lib/sys_poll.c lib/sys_qdisc.c lib/sys_socket.c \
	lib/sys_drain.c lib/sys_steer.c \
	lib/teardown.c lib/teardown.h \
	lib/tx.c \
	lib/version.c \
	lib/views.c lib/views.h
if HAVE_MMSG
lib_libbatchudp_core_la_SOURCES += lib/backend_mmsg.c lib/gso.c lib/gso.h \
	lib/posix_txbatch.c lib/posix_txbatch.h
endif
if WITH_MSGX
lib_libbatchudp_core_la_SOURCES += lib/backend_msgx.c lib/msgx.h \
	lib/msgx_gate.c lib/msgx_gate.h
endif
if WITH_URING
lib_libbatchudp_core_la_SOURCES += lib/backend_uring.c lib/backend_uring.h \
	lib/backend_uring_rx.c lib/backend_uring_tx.c
endif
lib_libbatchudp_core_la_CPPFLAGS = $(AM_CPPFLAGS) -DBUDP_BUILDING_LIBRARY $(URING_CFLAGS)
lib_libbatchudp_core_la_LIBADD = $(PTHREAD_LIBS) $(URING_LIBS)

lib_LTLIBRARIES += lib/libbatchudp.la
lib_libbatchudp_la_SOURCES =
lib_libbatchudp_la_LIBADD = lib/libbatchudp-core.la $(PTHREAD_LIBS)
lib_libbatchudp_la_LDFLAGS = -version-info $(BUDP_LT_VERSION_INFO) -no-undefined $(BUDP_LIB_LDFLAGS)
EXTRA_lib_libbatchudp_la_DEPENDENCIES = $(top_srcdir)/lib/batchudp.map
EXTRA_DIST += lib/batchudp.map
