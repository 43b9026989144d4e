/* posix_errqueue.c - ICMP and local send errors from the kernel's error
 * queue (MSG_ERRQUEUE), as events carrying the destination they concern. */
#include "build_config.h"

#include <errno.h>
#include <stdalign.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "addr.h"
#include "posix_cmsg.h"
#include "posix_errqueue.h"

#if defined(__linux__) && defined(IP_RECVERR) && defined(IPV6_RECVERR)
#include <linux/errqueue.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Room for the error, its offender's address, and whatever else the
 * socket's options add to a queued message (receive time, destination
 * address, TOS). */
#define ERRQUEUE_CONTROL_BYTES 256

static int event_origin(uint8_t origin)
{
    switch (origin) {
    case SO_EE_ORIGIN_LOCAL: return BUDP_ERROR_ORIGIN_LOCAL;
    case SO_EE_ORIGIN_ICMP:  return BUDP_ERROR_ORIGIN_ICMP;
    case SO_EE_ORIGIN_ICMP6: return BUDP_ERROR_ORIGIN_ICMP6;
    default:                 return 0;
    }
}

/* The extended error of mh, with its offender's address, into ev.
 * Returns 1 when mh held an error the library reports. */
static int read_event(const struct msghdr *mh, budp_error_event *ev)
{
    for (struct cmsghdr *c = budp_cmsg_first(mh); c != NULL; c = budp_cmsg_next(mh, c)) {
        struct sock_extended_err ee;
        size_t value, offender_len;
        int origin;

        if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
              (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
            continue;
        value = budp_cmsg_value_bytes(mh, c);
        if (value < sizeof ee)
            return 0;
        memcpy(&ee, CMSG_DATA(c), sizeof ee);
        origin = event_origin(ee.ee_origin);
        if (origin == 0 || ee.ee_errno == 0)
            return 0;
        memset(ev, 0, sizeof *ev);
        budp_addr_from_sockaddr(&ev->destination, (const struct sockaddr *)mh->msg_name,
                                mh->msg_namelen);
        /* The offender's address follows the error (SO_EE_OFFENDER); its
         * family is AF_UNSPEC for a local error. */
        offender_len = value - sizeof ee;
        if (offender_len >= sizeof(struct sockaddr_in)) {
            struct sockaddr_storage who;

            if (offender_len > sizeof who)
                offender_len = sizeof who;
            memcpy(&who, CMSG_DATA(c) + sizeof ee, offender_len);
            budp_addr_from_sockaddr(&ev->offender, (const struct sockaddr *)&who,
                                    (socklen_t)offender_len);
            ev->offender.port = 0;
        }
        ev->error = -(int32_t)ee.ee_errno;
        ev->mtu = ee.ee_errno == EMSGSIZE ? ee.ee_info : 0;
        ev->origin = (uint8_t)origin;
        if (origin != BUDP_ERROR_ORIGIN_LOCAL) {
            ev->icmp_type = ee.ee_type;
            ev->icmp_code = ee.ee_code;
        }
        return 1;
    }
    return 0;
}

int budp_errqueue_read(int fd, budp_error_event *ev, unsigned n)
{
    unsigned got = 0;

    while (got < n) {
        struct sockaddr_storage name;
        struct {
            alignas(struct cmsghdr) char bytes[ERRQUEUE_CONTROL_BYTES];
        } control;
        /* The payload that met the error is not wanted: an empty buffer
         * takes none of it (MSG_TRUNC says so, and is no matter here). */
        struct iovec iov = { NULL, 0 };
        struct msghdr mh;
        ssize_t rc;

        memset(&mh, 0, sizeof mh);
        mh.msg_name = &name;
        mh.msg_namelen = sizeof name;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control.bytes;
        mh.msg_controllen = sizeof control.bytes;
        do
            rc = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
        while (rc < 0 && errno == EINTR);
        if (rc < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return got > 0 ? (int)got : -errno;
        }
        if (read_event(&mh, &ev[got]))
            got++;
    }
    return (int)got;
}

int budp_errqueue_readable_fd(int fd)
{
    struct epoll_event ev;
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0)
        return -errno;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;   /* EPOLLERR is always reported */
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = -errno;
        close(ep);
        return err;
    }
    return ep;
}

#else

int budp_errqueue_readable_fd(int fd)
{
    (void)fd;
    return -ENOTSUP;
}

int budp_errqueue_read(int fd, budp_error_event *ev, unsigned n)
{
    (void)fd;
    (void)ev;
    (void)n;
    return -ENOTSUP;
}

#endif
