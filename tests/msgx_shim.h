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
 * the calls saw.
 *
 * XNU's known bugs and quirks, each behind a knob (off by default):
 *  - macOS 10.15's recvmsg_x leaves msg_controllen as it was passed in
 *    (msgx_shim_keep_controllen);
 *  - XNU's send buffer: a datagram above SO_SNDBUF is refused with
 *    EMSGSIZE, and one within MSGX_SHIM_SNDBUF_RESERVE bytes under it with
 *    EWOULDBLOCK at every try, FB23671230 (msgx_shim_xnu_send_buffer);
 *  - sendmsg_x stopped partway: the count when the error is EWOULDBLOCK,
 *    ENOBUFS, EMSGSIZE or EINTR, -1 with the count lost otherwise (ENOSPC)
 *    (msgx_shim_send_fail_after);
 *  - the BSD rule that a destination on a connected UDP socket is refused
 *    with EISCONN (msgx_shim_xnu_sendmsg, msgx_shim_sys.c);
 *  - the system's version, read by sysctlbyname("kern.osproductversion")
 *    and "kern.osrelease" (msgx_shim_os_version, msgx_shim_sys.c).
 * The recvmsg_x lock leak of releases before macOS 15.6 is not emulated
 * (it hangs the machine's loopback traffic); the library's answer, AUTO
 * passing msgx over on those releases, is tested through the version. */
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
    unsigned long recv_control_dirty; /* calls offered a control buffer
                                     holding bytes not zeroed */
    unsigned long send_calls;      /* sendmsg_x calls */
    unsigned long send_messages;   /* messages sent by them */
    unsigned long send_einval;     /* calls refused with EINVAL */
    unsigned long send_max_cnt;
    unsigned long send_refused;    /* messages refused by an emulated bug
                                      or quirk, or by the kernel */
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
/* 1: recvmsg_x leaves msg_controllen as passed in (macOS 10.15). */
void msgx_shim_keep_controllen(int on);
/* 1: sendmsg_x applies XNU's send buffer rules (see above). */
#define MSGX_SHIM_SNDBUF_RESERVE 2048
void msgx_shim_xnu_send_buffer(int on);
/* The next sendmsg_x sends `sent` messages and then meets err, returned
 * as XNU does (see above). */
void msgx_shim_send_fail_after(unsigned sent, int err);

/* msgx_shim_sys.c: the system calls around the batch calls. */
/* What sysctlbyname reports for kern.osproductversion and kern.osrelease;
 * NULL: that name fails with ENOENT.  Default "26.1" and "25.1.0". */
void msgx_shim_os_version(const char *product, const char *release);
/* 1: sendmsg with a destination on a connected socket fails with EISCONN,
 * as on XNU (Linux sends it). */
void msgx_shim_xnu_sendmsg(int on);
/* The next sendmsg fails with err (once). */
void msgx_shim_fail_next_sendmsg(int err);
/* libc's sendmsg, which the emulated batch calls use. */
ssize_t msgx_shim_real_sendmsg(int s, const struct msghdr *msg, int flags);
/* sendmsg calls refused with EISCONN so far. */
unsigned long msgx_shim_eisconn_count(void);
/* Forget the knobs of msgx_shim_sys.c (msgx_shim_reset calls it). */
void msgx_shim_sys_reset(void);

#endif
