/* msgx_shim.h - recvmsg_x/sendmsg_x for Linux, emulating XNU on top of
 * recvmsg/sendmsg, so the library's msgx backend (which finds them with
 * dlsym) runs in the test suite.  The test program links this file with
 * -rdynamic so that the two functions are visible to dlsym.
 *
 * Emulated as XNU documents and behaves:
 *  - flags: only MSG_DONTWAIT (else EINVAL); cnt 0 or over 256: EINVAL.
 *  - recvmsg_x: fills up to cnt messages, msg_datalen = bytes received,
 *    msg_namelen/msg_controllen/msg_flags updated; stops early after a
 *    truncated datagram (the count includes it); by default reports the
 *    truncation WITHOUT MSG_TRUNC, as recent XNU does; returns the count,
 *    or -1 with errno when the first message fails (EAGAIN when empty).
 *  - sendmsg_x: every message must have msg_name and msg_control NULL and
 *    msg_datalen zero (else EINVAL); returns how many were sent, or -1 with
 *    errno when the first fails.
 * Knobs let a test inject an error, cap the count per call, and read what
 * the calls saw. */
#ifndef BUDP_MSGX_SHIM_H
#define BUDP_MSGX_SHIM_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Layout as XNU's bsd/sys/socket_private.h (56 bytes on 64-bit). */
struct msghdr_x {
    void         *msg_name;
    socklen_t     msg_namelen;
    struct iovec *msg_iov;
    int           msg_iovlen;
    void         *msg_control;
    socklen_t     msg_controllen;
    int           msg_flags;
    size_t        msg_datalen;
};

#define MSGX_SHIM_MAX_CNT 256

/* Default visibility: the build compiles everything with
 * -fvisibility=hidden, and dlsym must see these two. */
#define MSGX_SHIM_EXPORT __attribute__((visibility("default")))

MSGX_SHIM_EXPORT ssize_t recvmsg_x(int s, const struct msghdr_x *msgp,
                                   unsigned int cnt, int flags);
MSGX_SHIM_EXPORT ssize_t sendmsg_x(int s, const struct msghdr_x *msgp,
                                   unsigned int cnt, int flags);

/* What the calls saw since the last msgx_shim_reset. */
struct msgx_shim_stats {
    unsigned long recv_calls;      /* recvmsg_x calls */
    unsigned long recv_messages;   /* messages returned by them */
    unsigned long recv_with_data;  /* calls that returned messages */
    unsigned long recv_einval;     /* calls refused with EINVAL */
    unsigned long recv_max_cnt;    /* largest cnt asked for */
    unsigned long recv_truncated;  /* datagrams that did not fit */
    unsigned long send_calls;      /* sendmsg_x calls */
    unsigned long send_messages;   /* messages sent by them */
    unsigned long send_einval;     /* calls refused with EINVAL */
    unsigned long send_max_cnt;
    unsigned long injected;        /* injected errors returned */
};

/* Clear the stats and every knob. */
void msgx_shim_reset(void);
struct msgx_shim_stats msgx_shim_stats(void);

/* The next recvmsg_x (or sendmsg_x) call fails with err (once). */
void msgx_shim_fail_next_recv(int err);
void msgx_shim_fail_next_send(int err);
/* Return at most cap messages per call (0: no cap). */
void msgx_shim_cap_recv(unsigned cap);
void msgx_shim_cap_send(unsigned cap);
/* 1 (default): report truncation without MSG_TRUNC; 0: set MSG_TRUNC. */
void msgx_shim_silent_truncation(int on);

#endif
