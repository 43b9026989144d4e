/* fault_shim.h - a fault injector for the system calls the library makes.
 *
 * Its definitions of recvmmsg, sendmmsg, recvmsg, sendmsg, poll, read,
 * write, getsockopt, setsockopt, eventfd, pipe, pipe2 and pthread_create
 * (fault_shim.c), and of malloc and its family
 * (fault_alloc.c), take the place of libc's for the library: linked into a
 * test program and exported with -rdynamic, or preloaded (LD_PRELOAD) as
 * tests/faults/budp_fault.so, which reads its requests from the environment
 * (fault_env.c).  Each forwards to the real function unless a request says
 * otherwise: an error, a short count, a rewritten result, or a record of
 * how it was called.  Nothing is injected until asked; fault_reset()
 * forgets every request.  Safe to use while other threads make the calls.
 *
 * Two kinds of request:
 *  - rules (fault_rule and friends): counted and applied only to calls the
 *    library itself makes (the caller's return address lies in
 *    libbatchudp), so that a test's own sockets, sanitizers and libc's
 *    internals are never touched: "the 3rd allocation the library makes"
 *    means just that.  Their faults are ones a kernel can give: an EAGAIN
 *    from a write to a wake-up fd leaves the fd readable, as a full
 *    eventfd or pipe is;
 *  - the older requests further below (fault_sockopt, the crafted results
 *    of fault_recv_gro_segment and the rest), applied to every caller's
 *    calls; fault_recv_error, fault_notify_write and fault_thread_create
 *    set rules. */
#ifndef BUDP_FAULT_SHIM_H
#define BUDP_FAULT_SHIM_H

#include <stddef.h>

/* The calls a rule can aim at.  FAULT_NOTIFY_READ/WRITE are read() and
 * write() made by the library, which reads and writes only its wake-up
 * fds; FAULT_ALLOC is malloc, calloc, realloc, aligned_alloc and
 * posix_memalign together. */
enum fault_call {
    FAULT_RECVMMSG,
    FAULT_SENDMMSG,
    FAULT_RECVMSG,
    FAULT_SENDMSG,
    FAULT_POLL,
    FAULT_NOTIFY_READ,
    FAULT_NOTIFY_WRITE,
    FAULT_SETSOCKOPT,
    FAULT_GETSOCKOPT,
    FAULT_ALLOC,
    FAULT_THREAD,
    FAULT_CALLS
};

/* Results a rule can craft in place of what recvmmsg/recvmsg received. */
enum fault_craft {
    CRAFT_NONE,
    CRAFT_LEN_PAST_BUFFER, /* a length beyond the buffer the kernel had */
    CRAFT_TRUNC_FLAG,      /* MSG_TRUNC on a datagram that fitted */
    CRAFT_BAD_FAMILY,      /* the peer's address family garbage */
    CRAFT_NAME_TOO_LONG,   /* msg_namelen beyond the name buffer */
    CRAFT_GRO_SEGMENT,     /* a UDP_GRO message of `value` bytes */
    CRAFT_SHORT_CMSG,      /* a UDP_GRO message cut short, MSG_CTRUNC */
    CRAFT_COUNT_EXTRA,     /* a count `value` above what was asked for
                              (recvmmsg, sendmmsg) */
    CRAFT_HIDE_TRUNC,      /* MSG_TRUNC taken off a datagram the kernel
                              cut, as recent XNU reports one */
    CRAFT_KINDS
};

/* What a rule does to the calls it matches: fail with err (an errno), or
 * with err 0 pass on at most `keep` messages (recvmmsg/sendmmsg: a short
 * count), or craft the result.  It matches the nth call only (nth > 0), or
 * every `every`-th call (every > 0), `count` times (-1: no limit); a rule
 * that crafts results counts only the calls that returned data. */
struct fault_spec {
    int err;
    unsigned nth;
    unsigned every;
    int count;
    unsigned keep;
    enum fault_craft craft;
    int value;
};

/* Set the rule for call c (one rule per call; a new one replaces it, and
 * its "every N-th" counts from there). */
void fault_rule(enum fault_call c, const struct fault_spec *spec);
/* Calls the library made to c since the last reset, and how many of them
 * the rule changed. */
unsigned fault_calls(enum fault_call c);
unsigned fault_injected(enum fault_call c);
/* Allocations the library made that it has not freed (fault_alloc.c). */
long fault_library_heap_live(void);

/* Parse a rule written as in BUDP_FAULTS ("recvmmsg:err=EINTR:every=3",
 * see fault_env.c); 0, or -1 for a rule that cannot be read. */
int fault_parse(const char *text, enum fault_call *c, struct fault_spec *spec);

/* Forget every rule, request and record. */
void fault_reset(void);

/* ---- targeted requests ---- */

/* Only calls on fd are touched by the receive and send rules and requests
 * (-1, the default: every fd). */
void fault_target_fd(int fd);

/* getsockopt (get = 1) or setsockopt (get = 0) of level/name fails with
 * err, count times (-1: always). */
void fault_sockopt(int get, int level, int name, int err, int count);

/* recvmmsg fails with err, count times (-1: always): a rule. */
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
/* A write() the library makes (to its wake-up fds: it writes nothing
 * else) fails with err on every `every`-th write, count times in all (-1:
 * no limit): a rule. */
void fault_notify_write(int err, unsigned every, int count);
/* Pipes created without O_CLOEXEC since the last reset. */
unsigned fault_pipes_without_cloexec(void);
/* Wake-up writes failed so far (fault_injected(FAULT_NOTIFY_WRITE)). */
unsigned fault_notify_writes_failed(void);

/* pthread_create fails with err, count times (-1: always): a rule. */
void fault_thread_create(int err, int count);

#endif
