/* fault_shim.h - a fault injector for the system calls the library makes.
 *
 * Linked into a test program (and exported with -rdynamic), its
 * definitions of recvmmsg, sendmmsg, getsockopt, setsockopt, eventfd,
 * pipe, pipe2, write, close and pthread_create take the place of libc's
 * for the library.  Each forwards to the real function, unless the test
 * asked for a fault: an error, a rewritten result (a count above what was
 * asked, a crafted control message), or a record of how it was called.
 * Nothing is injected until a test asks; fault_reset() forgets every
 * request.  Safe to use while other threads make the calls. */
#ifndef BUDP_FAULT_SHIM_H
#define BUDP_FAULT_SHIM_H

#include <stddef.h>

/* Forget every request and record; watched notify fds are forgotten too. */
void fault_reset(void);

/* Only calls on fd are touched by the receive and send requests below
 * (-1, the default: every fd). */
void fault_target_fd(int fd);

/* getsockopt (get = 1) or setsockopt (get = 0) of level/name fails with
 * err, count times (-1: always). */
void fault_sockopt(int get, int level, int name, int err, int count);

/* recvmmsg fails with err, count times (-1: always). */
void fault_recv_error(int err, int count);
/* recvmmsg reports `extra` more messages than it received (and than the
 * caller asked for), once. */
void fault_recv_count_extra(unsigned extra);
/* Every message recvmmsg returns carries one UDP_GRO control message with
 * segment size seg, in place of what the kernel wrote. */
void fault_recv_gro_segment(int seg);
/* Every message recvmmsg returns carries, as its only control message, a
 * level/type message cut short as Linux cuts one when control space runs
 * out: cmsg_len is CMSG_LEN(kept) and it ends where the caller's control
 * buffer ends; msg_flags gets MSG_CTRUNC. */
void fault_recv_short_cmsg(int level, int type, size_t kept);

/* sendmmsg reports `extra` more messages sent than it was given, once. */
void fault_send_count_extra(unsigned extra);

/* eventfd() fails with err (0: works again), so that the pipe fallback
 * runs. */
void fault_eventfd_error(int err);
/* write() to a notify fd (one eventfd() or pipe()/pipe2() created since
 * the last reset) fails with err on every `every`-th write, count times in
 * all (-1: no limit). */
void fault_notify_write(int err, unsigned every, int count);
/* Pipes created without O_CLOEXEC since the last reset. */
unsigned fault_pipes_without_cloexec(void);
/* Notify writes failed so far. */
unsigned fault_notify_writes_failed(void);

/* pthread_create fails with err, count times (-1: always). */
void fault_thread_create(int err, int count);

#endif
