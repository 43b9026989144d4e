# Manual pages, made from the comments of include/batchudp.h by
# tools/gen-man.py: one page per exported function and public type, the
# overview batchudp(3), and an alias page (".so") per constant that points
# at the page documenting it.  They are distributed, and newer than the
# header in the tarball, so a build from a release never runs python3; a
# build from git makes them (configure's PYTHON3, through `missing`, which
# explains what is absent instead of failing obscurely).  Being distributed,
# they go with maintainer-clean only.  tests/man_pages.sh checks these lists
# against the header and lib/batchudp.map.
MAN_PAGES = \
	man/batchudp.3 \
	man/budp_addr.3 \
	man/budp_addr_from_string.3 \
	man/budp_addr_to_string.3 \
	man/budp_backend_name.3 \
	man/budp_backend_reason.3 \
	man/budp_bind.3 \
	man/budp_close.3 \
	man/budp_connect.3 \
	man/budp_datagram.3 \
	man/budp_dispatch.3 \
	man/budp_error_event.3 \
	man/budp_get_stats.3 \
	man/budp_group.3 \
	man/budp_group_bind.3 \
	man/budp_group_close.3 \
	man/budp_group_close_member.3 \
	man/budp_group_dropped.3 \
	man/budp_group_size.3 \
	man/budp_group_socket.3 \
	man/budp_local_addr.3 \
	man/budp_open.3 \
	man/budp_options.3 \
	man/budp_options_bounds.3 \
	man/budp_options_free.3 \
	man/budp_options_get.3 \
	man/budp_options_new.3 \
	man/budp_options_set.3 \
	man/budp_pacing_support.3 \
	man/budp_poll_fd.3 \
	man/budp_recv.3 \
	man/budp_recv_errors.3 \
	man/budp_recv_fn.3 \
	man/budp_recv_packed.3 \
	man/budp_send.3 \
	man/budp_set_callback.3 \
	man/budp_shutdown.3 \
	man/budp_socket.3 \
	man/budp_socket_fd.3 \
	man/budp_stats.3 \
	man/budp_strerror.3 \
	man/budp_version.3 \
	man/budp_version_string.3 \
	man/budp_wait.3
MAN_ALIASES = \
	man/BUDP_AF_INET.3 \
	man/BUDP_AF_INET6.3 \
	man/BUDP_AF_UNSPEC.3 \
	man/BUDP_APPLE_SEND_BUFFER.3 \
	man/BUDP_BACKEND_AUTO.3 \
	man/BUDP_BACKEND_LOOP.3 \
	man/BUDP_BACKEND_MMSG.3 \
	man/BUDP_BACKEND_MSGX.3 \
	man/BUDP_BACKEND_URING.3 \
	man/BUDP_CALLBACK_CONTINUE.3 \
	man/BUDP_CALLBACK_PAUSE.3 \
	man/BUDP_DGRAM_COALESCED.3 \
	man/BUDP_DGRAM_CONTROL_TRUNCATED.3 \
	man/BUDP_DGRAM_HAS_ECN.3 \
	man/BUDP_DGRAM_HAS_LOCAL.3 \
	man/BUDP_DGRAM_HAS_TIME.3 \
	man/BUDP_DGRAM_TRUNCATED.3 \
	man/BUDP_ERROR_ORIGIN_ICMP.3 \
	man/BUDP_ERROR_ORIGIN_ICMP6.3 \
	man/BUDP_ERROR_ORIGIN_LOCAL.3 \
	man/BUDP_ERROR_QUEUE_EVENTS.3 \
	man/BUDP_GROUP_MAX_MEMBERS.3 \
	man/BUDP_MEMORY_LIMIT.3 \
	man/BUDP_OPT_BACKEND.3 \
	man/BUDP_OPT_BATCH_SIZE.3 \
	man/BUDP_OPT_CALLBACK_THREAD.3 \
	man/BUDP_OPT_ECN.3 \
	man/BUDP_OPT_ERRORS.3 \
	man/BUDP_OPT_GRO.3 \
	man/BUDP_OPT_GSO.3 \
	man/BUDP_OPT_MAX_DATAGRAM.3 \
	man/BUDP_OPT_OVERFLOW.3 \
	man/BUDP_OPT_PACING.3 \
	man/BUDP_OPT_PKTINFO.3 \
	man/BUDP_OPT_RECV_BUFFER.3 \
	man/BUDP_OPT_RING_CAPACITY.3 \
	man/BUDP_OPT_STEERING.3 \
	man/BUDP_OPT_STEER_LENGTH.3 \
	man/BUDP_OPT_STEER_OFFSET.3 \
	man/BUDP_OPT_THREADED.3 \
	man/BUDP_OPT_TIMESTAMPS.3 \
	man/BUDP_OPT_ZEROCOPY.3 \
	man/BUDP_OVERFLOW_DROP.3 \
	man/BUDP_OVERFLOW_WAIT.3 \
	man/BUDP_PACING_GRANULARITY_NS.3 \
	man/BUDP_PACING_MONOTONIC.3 \
	man/BUDP_PACING_OFF.3 \
	man/BUDP_PACING_TAI.3 \
	man/BUDP_STEER_CPU.3 \
	man/BUDP_STEER_HASH.3 \
	man/BUDP_STEER_KEY.3 \
	man/BUDP_STEER_PAYLOAD_MAX.3 \
	man/BUDP_VERSION.3 \
	man/BUDP_VERSION_MAJOR.3 \
	man/BUDP_VERSION_MINOR.3 \
	man/BUDP_VERSION_PATCH.3 \
	man/BUDP_ZEROCOPY_MIN_BYTES.3 \
	man/libbatchudp.3

dist_man3_MANS = $(MAN_PAGES) $(MAN_ALIASES)
MAINTAINERCLEANFILES = $(MAN_PAGES) $(MAN_ALIASES)

MAN_GENERATOR = \
	tools/gen-man.py \
	tools/manpages/__init__.py \
	tools/manpages/header.py \
	tools/manpages/doc.py \
	tools/manpages/roff.py \
	tools/manpages/pages.py
EXTRA_DIST += $(MAN_GENERATOR)

# One page per run, so make rebuilds pages in parallel and only those out of
# date; each is written whole or not at all.  -B: no bytecode left in the
# source tree.
$(MAN_PAGES) $(MAN_ALIASES): include/batchudp.h $(MAN_GENERATOR)
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(PYTHON3) -B $(srcdir)/tools/gen-man.py $(srcdir)/include/batchudp.h $@ >$@.tmp && \
	mv -f $@.tmp $@ || { rm -f $@.tmp; exit 1; }

# make check: every function, type and constant has its page, each renders
# without a groff warning and shows its declaration as the header has it.
TESTS += tests/man_pages.sh
EXTRA_DIST += tests/man_pages.sh tests/check_man.py
AM_TESTS_ENVIRONMENT += BUDP_MAN_PAGES='$(MAN_PAGES) $(MAN_ALIASES)'; export BUDP_MAN_PAGES;
