/* posix_sockopt.c - the socket options the POSIX backends set, and put
 * back. */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif
#ifdef __linux__
#include <linux/net_tstamp.h>
#endif

#include "batchudp.h"
#include "posix_sockopt.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

static int set_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno : 0;
}

static void remember(struct budp_sockopt_saved *saved, int level, int name,
                     int old)
{
    if (saved->count < sizeof saved->opt / sizeof saved->opt[0]) {
        saved->opt[saved->count].level = level;
        saved->opt[saved->count].name = name;
        saved->opt[saved->count].value = old;
        saved->count++;
    }
}

/* Set an int option to value, remembering the old one when it differs. */
static int change(int fd, struct budp_sockopt_saved *saved, int level, int name,
                  int value)
{
    int old = 0, rc;
    socklen_t len = sizeof old;

    if (getsockopt(fd, level, name, &old, &len) < 0)
        return -errno;
    if (old == value)
        return 0;
    if ((rc = set_int(fd, level, name, value)) < 0)
        return rc;
    remember(saved, level, name, old);
    return 0;
}

static int set_recv_buffer(int fd, struct budp_sockopt_saved *saved, int64_t bytes)
{
    int old = 0, rc = 0;
    socklen_t len = sizeof old;

    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &old, &len) < 0)
        return -errno;
    /* SO_RCVBUFFORCE passes rmem_max when the process may; SO_RCVBUF is
     * capped by it silently, which is the best an unprivileged one gets. */
#ifdef SO_RCVBUFFORCE
    if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)bytes) < 0)
#endif
        rc = set_int(fd, SOL_SOCKET, SO_RCVBUF, (int)bytes);
    if (rc < 0)
        return rc;
#ifdef __linux__
    /* Linux reports twice what was set: restoring sets half.  Other
     * systems report what was set. */
    old /= 2;
#endif
    remember(saved, SOL_SOCKET, SO_RCVBUF, old);
    return 0;
}

/* SO_SNDBUF at least bytes: raised when below, left when above. */
static int raise_send_buffer(int fd, struct budp_sockopt_saved *saved, int64_t bytes)
{
    int old = 0, rc;
    socklen_t len = sizeof old;

    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &old, &len) < 0)
        return -errno;
    if (old >= bytes)
        return 0;
    if ((rc = set_int(fd, SOL_SOCKET, SO_SNDBUF, (int)bytes)) < 0)
        return rc;
#ifdef __linux__
    old /= 2;   /* as SO_RCVBUF: Linux reports twice what was set */
#endif
    remember(saved, SOL_SOCKET, SO_SNDBUF, old);
    return 0;
}

static int enable_pktinfo(int fd, int family, struct budp_sockopt_saved *saved)
{
    int rc;

    if (family == BUDP_AF_INET6) {
#ifdef IPV6_RECVPKTINFO
        rc = change(fd, saved, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
#else
        rc = -ENOTSUP;
#endif
        /* A dual-stack socket also sees IPv4 datagrams. */
#ifdef IP_PKTINFO
        if (rc == 0)
            (void)change(fd, saved, IPPROTO_IP, IP_PKTINFO, 1);
#endif
        return rc;
    }
#if defined(IP_PKTINFO)
    return change(fd, saved, IPPROTO_IP, IP_PKTINFO, 1);
#elif defined(IP_RECVDSTADDR)
    return change(fd, saved, IPPROTO_IP, IP_RECVDSTADDR, 1);
#else
    return -ENOTSUP;
#endif
}

static int enable_ecn(int fd, int family, struct budp_sockopt_saved *saved)
{
    int rc;

    if (family == BUDP_AF_INET6) {
        rc = change(fd, saved, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
#ifdef IP_RECVTOS
        if (rc == 0)
            (void)change(fd, saved, IPPROTO_IP, IP_RECVTOS, 1);
#endif
        return rc;
    }
#ifdef IP_RECVTOS
    return change(fd, saved, IPPROTO_IP, IP_RECVTOS, 1);
#else
    return -ENOTSUP;
#endif
}

/* Receive times: nanoseconds where the system gives them (Linux), else
 * microseconds. */
static int enable_timestamps(int fd, struct budp_sockopt_saved *saved)
{
#if defined(SO_TIMESTAMPNS)
    return change(fd, saved, SOL_SOCKET, SO_TIMESTAMPNS, 1);
#elif defined(SO_TIMESTAMP)
    return change(fd, saved, SOL_SOCKET, SO_TIMESTAMP, 1);
#else
    (void)fd;
    (void)saved;
    return -ENOTSUP;
#endif
}

/* The error queue: IPV6_RECVERR on an IPv6 socket, and IP_RECVERR on
 * every socket, since a dual-stack one meets IPv4 paths too. */
static int enable_errors(int fd, int family, struct budp_sockopt_saved *saved)
{
#if defined(IP_RECVERR) && defined(IPV6_RECVERR)
    int rc = 0;

    if (family == BUDP_AF_INET6)
        rc = change(fd, saved, IPPROTO_IPV6, IPV6_RECVERR, 1);
    if (rc == 0)
        rc = change(fd, saved, IPPROTO_IP, IP_RECVERR, 1);
    return rc;
#else
    (void)fd;
    (void)family;
    (void)saved;
    return -ENOTSUP;
#endif
}

/* SO_TXTIME in the clock asked for.  Not remembered: the kernel cannot
 * turn it off, and it changes nothing for a send that names no time. */
static int enable_pacing(int fd, int clock)
{
#if defined(SO_TXTIME) && defined(__linux__)
    struct sock_txtime t = { 0, 0 };

    t.clockid = clock == BUDP_PACING_TAI ? CLOCK_TAI : CLOCK_MONOTONIC;
    return setsockopt(fd, SOL_SOCKET, SO_TXTIME, &t, sizeof t) < 0 ? -errno : 0;
#else
    (void)fd;
    (void)clock;
    return -ENOTSUP;
#endif
}

/* UDP_GRO exactly as asked; *gro_on: whether it is on afterwards.
 *
 * Set first, read second: Linux sets UDP_GRO since 5.0 but reads it back
 * only since 5.12.  A value that cannot be read is trusted as set, and
 * taken to have been off before (the kernel's default), so a wrapped fd
 * gets it turned off again at close when it was turned on. */
static int set_gro(int fd, int want, struct budp_sockopt_saved *saved, int *gro_on)
{
    *gro_on = 0;
#ifdef UDP_GRO
    int old = 0, now = 0, rc;
    socklen_t len = sizeof old;
    int readable = getsockopt(fd, SOL_UDP, UDP_GRO, &old, &len) == 0;

    want = want ? 1 : 0;
    if (readable && (old != 0) == want) {
        *gro_on = want;
        return 0;
    }
    rc = set_int(fd, SOL_UDP, UDP_GRO, want);
    if (rc < 0) {
        /* A kernel without UDP_GRO never coalesces: nothing to turn off.
         * One that knows it but refuses to turn it off would merge
         * datagrams; one that refuses to turn it on leaves it off. */
        if (!want && rc != -ENOPROTOOPT)
            return rc;
        return 0;
    }
    if (readable)
        remember(saved, SOL_UDP, UDP_GRO, old);
    else if (want)
        remember(saved, SOL_UDP, UDP_GRO, 0);
    /* What is really on, where the kernel says. */
    len = sizeof now;
    *gro_on = getsockopt(fd, SOL_UDP, UDP_GRO, &now, &len) == 0 ? now != 0 : want;
    return 0;
#else
    (void)fd;
    (void)want;
    (void)saved;
#endif
    return 0;
}

int budp_sockopt_apply(int fd, int family, const struct budp_sockopt_request *req,
                       struct budp_sockopt_saved *saved, int *gro_on)
{
    int rc = 0;

    saved->count = 0;
    if (req->recv_buffer > 0)
        rc = set_recv_buffer(fd, saved, req->recv_buffer);
    if (rc == 0 && req->send_floor > 0)
        rc = raise_send_buffer(fd, saved, req->send_floor);
    if (rc == 0 && req->pktinfo)
        rc = enable_pktinfo(fd, family, saved);
    if (rc == 0 && req->ecn)
        rc = enable_ecn(fd, family, saved);
    if (rc == 0 && req->timestamps)
        rc = enable_timestamps(fd, saved);
    if (rc == 0 && req->errors)
        rc = enable_errors(fd, family, saved);
    if (rc == 0)
        rc = set_gro(fd, req->gro, saved, gro_on);
    /* Last of the options: it cannot be undone (left on, it changes
     * nothing for a send that names no time). */
    if (rc == 0 && req->pacing != BUDP_PACING_OFF)
        rc = enable_pacing(fd, req->pacing);
    if (rc < 0)
        budp_sockopt_restore(fd, saved);
    return rc;
}

void budp_sockopt_restore(int fd, const struct budp_sockopt_saved *saved)
{
    /* Newest first, so an option changed twice ends at its first value. */
    for (unsigned i = saved->count; i-- > 0;) {
        int level = saved->opt[i].level, name = saved->opt[i].name;
        int value = saved->opt[i].value;

#ifdef SO_RCVBUFFORCE
        if (level == SOL_SOCKET && name == SO_RCVBUF &&
            set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, value) == 0)
            continue;
#endif
        (void)set_int(fd, level, name, value);
    }
}
