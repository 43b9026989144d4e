/* sys_drain.c - emptying a socket's queue to count what was in it: the
 * last step of a group member's close, which drops what the member still
 * had and says how much. */
#include "build_config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "posix_cmsg.h"
#include "sys.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

/* Errors in a row after which the queue is taken as empty: each ICMP-borne
 * error (ECONNREFUSED, ...) is reported once, so only a socket that keeps
 * failing gets there. */
#define DRAIN_ERRORS_MAX 8

/* The datagrams a receive of len bytes carried: the segments of a GRO
 * receive (UDP_GRO's segment size), else one. */
static uint64_t datagrams_in(const struct msghdr *mh, size_t len)
{
#ifdef UDP_GRO
    for (struct cmsghdr *c = budp_cmsg_first(mh); c != NULL; c = budp_cmsg_next(mh, c)) {
        int seg;

        if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO ||
            !budp_cmsg_holds(mh, c, sizeof seg))
            continue;
        memcpy(&seg, CMSG_DATA(c), sizeof seg);
        if (seg > 0 && len > (size_t)seg)
            return (len + (size_t)seg - 1) / (size_t)seg;
    }
#else
    (void)mh;
    (void)len;
#endif
    return 1;
}

uint64_t budp_sys_drain_count(int fd)
{
#ifdef MSG_TRUNC
    /* Linux returns a datagram's whole length with MSG_TRUNC, so the
     * payload needs no room; a system without it has no GRO either. */
    const int flags = MSG_DONTWAIT | MSG_TRUNC;
#else
    const int flags = MSG_DONTWAIT;
#endif
    uint8_t payload[64];
    union {
        struct cmsghdr align;
        uint8_t bytes[256]; /* room for every option's control message */
    } control;
    uint64_t count = 0;
    unsigned errors = 0;

    while (errors < DRAIN_ERRORS_MAX) {
        struct iovec iov = { payload, sizeof payload };
        struct msghdr mh;
        ssize_t n;

        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control.bytes;
        mh.msg_controllen = sizeof control.bytes;
        n = recvmsg(fd, &mh, flags);
        if (n >= 0) {
            count += datagrams_in(&mh, (size_t)n);
            errors = 0;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            errors++;
        }
    }
    return count;
}
