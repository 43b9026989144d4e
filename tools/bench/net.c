/* net.c - loopback sockets, the receive queue's counters, batch sends. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#ifdef __linux__
#include <linux/sock_diag.h>
#endif

#include "net.h"

#if defined(__linux__)
#  ifndef SOL_UDP
#    define SOL_UDP 17
#  endif
#  ifndef UDP_SEGMENT
#    define UDP_SEGMENT 103
#  endif
#endif

/* Linux caps one GSO send at 64 segments and one IP datagram. */
#define GSO_MAX_SEGMENTS 64u
#define GSO_MAX_BYTES    65000u

int net_set_rcvbuf(int fd, size_t want, int *forced)
{
    /* The kernel doubles the value it is given (for its own overhead). */
    int v = want / 2 > 0x3fffffff ? 0x3fffffff : (int)(want / 2);

    *forced = 0;
#ifdef SO_RCVBUFFORCE
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0) {
        *forced = 1;
        return 0;
    }
#endif
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0)
        return -errno;
    return 0;
}

int net_receiver(size_t want, struct sockaddr_in *addr, int *forced,
                 size_t *actual)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int fd, v = 0, err;

    *forced = 0;
    *actual = 0;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -errno;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        err = -errno;
        close(fd);
        return err;
    }
    if (want > 0 && (err = net_set_rcvbuf(fd, want, forced)) < 0) {
        close(fd);
        return err;
    }
    len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 && v > 0)
        *actual = (size_t)v;
    *addr = sin;
    return fd;
}

int net_sender(const struct sockaddr_in *to, unsigned gso_size)
{
    int fd, err, v = 4 << 20;

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0) {
        err = -errno;
        close(fd);
        return err;
    }
    /* A large send buffer keeps the sender from stalling between batches;
     * best effort. */
#ifdef SO_SNDBUFFORCE
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0)
#endif
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    if (gso_size > 0) {
#ifdef UDP_SEGMENT
        v = (int)gso_size;
        if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, sizeof v) != 0) {
            err = errno == ENOPROTOOPT || errno == EINVAL ? -ENOTSUP : -errno;
            close(fd);
            return err;
        }
#else
        close(fd);
        return -ENOTSUP;
#endif
    }
    return fd;
}

int net_meminfo(int fd, struct net_meminfo *mi)
{
#if defined(__linux__) && defined(SO_MEMINFO)
    uint32_t v[SK_MEMINFO_VARS];
    socklen_t len = sizeof v;

    memset(v, 0, sizeof v);
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, v, &len) != 0)
        return -errno;
    mi->rmem = v[SK_MEMINFO_RMEM_ALLOC];
    mi->rcvbuf = v[SK_MEMINFO_RCVBUF];
    mi->drops = len > SK_MEMINFO_DROPS * sizeof v[0] ? v[SK_MEMINFO_DROPS] : 0;
    return 0;
#else
    (void)fd;
    memset(mi, 0, sizeof *mi);
    return -ENOTSUP;
#endif
}

unsigned net_gso_segments(unsigned size)
{
    unsigned n = size ? GSO_MAX_BYTES / size : 1;

    if (n > GSO_MAX_SEGMENTS)
        n = GSO_MAX_SEGMENTS;
    return n < 1 ? 1 : n;
}

int net_sendbuf_init(struct net_sendbuf *b, unsigned size, unsigned segs,
                     unsigned nmsg)
{
    unsigned i;

    memset(b, 0, sizeof *b);
    b->size = size;
    b->segs = segs ? segs : 1;
    b->nmsg = nmsg ? nmsg : 1;
    b->payload = calloc(b->segs, size ? size : 1);
    b->iov = calloc(b->nmsg, sizeof *b->iov);
    if (b->payload == NULL || b->iov == NULL)
        goto nomem;
    for (i = 0; i < b->segs && size > 0; i++)
        b->payload[(size_t)i * size] = (uint8_t)i;
    for (i = 0; i < b->nmsg; i++) {
        b->iov[i].iov_base = b->payload;
        b->iov[i].iov_len = (size_t)b->segs * size;
    }
#ifdef HAVE_SENDMMSG
    {
        struct mmsghdr *m = calloc(b->nmsg, sizeof *m);

        if (m == NULL)
            goto nomem;
        for (i = 0; i < b->nmsg; i++) {
            m[i].msg_hdr.msg_iov = &b->iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
        }
        b->msgs = m;
    }
#endif
    return 0;
nomem:
    net_sendbuf_free(b);
    return -ENOMEM;
}

void net_sendbuf_free(struct net_sendbuf *b)
{
    free(b->payload);
    free(b->iov);
    free(b->msgs);
    memset(b, 0, sizeof *b);
}

long net_send(struct net_sendbuf *b, int fd, unsigned long max)
{
    unsigned long full = max / b->segs, rest = max % b->segs;
    unsigned n = full >= b->nmsg ? b->nmsg : (unsigned)full;
    unsigned i, sent_msgs;
    long sent = 0;

    if (n < b->nmsg && rest > 0) {
        /* A shorter last message: a GSO run may end short. */
        b->iov[n].iov_len = rest * b->size;
        n++;
    }
    if (n == 0)
        return 0;
#ifdef HAVE_SENDMMSG
    {
        int r;

        do
            r = sendmmsg(fd, b->msgs, n, MSG_DONTWAIT);
        while (r < 0 && errno == EINTR);
        sent_msgs = r < 0 ? 0 : (unsigned)r;
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
            sent = -errno;
    }
#else
    for (sent_msgs = 0; sent_msgs < n; sent_msgs++) {
        ssize_t r = send(fd, b->iov[sent_msgs].iov_base,
                         b->iov[sent_msgs].iov_len, MSG_DONTWAIT);

        if (r < 0 && errno == EINTR) {
            sent_msgs--;
            continue;
        }
        if (r < 0) {
            if (sent_msgs == 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                errno != ENOBUFS)
                sent = -errno;
            break;
        }
    }
#endif
    for (i = 0; i < sent_msgs; i++)
        sent += (long)(b->iov[i].iov_len / (b->size ? b->size : 1));
    for (i = 0; i < n; i++)
        b->iov[i].iov_len = (size_t)b->segs * b->size;
    if (sent == 0)
        return -EAGAIN;
    return sent;
}

void net_wait_writable(int fd, int timeout_ms)
{
    struct pollfd p = { fd, POLLOUT, 0 };

    (void)poll(&p, 1, timeout_ms);
}

long net_fill_queue(struct net_sendbuf *b, int sfd, int rfd, unsigned long want,
                    size_t rcvbuf, uint64_t *drops)
{
    struct net_meminfo m0, mi;
    uint64_t step, max_step = 0, prev;
    unsigned long sent = 0, cap = want;
    unsigned stalls = 0;
    int have = net_meminfo(rfd, &m0) == 0;
    long n;

    if (!have) {
        /* No queue counters: stay well below the estimated capacity. */
        cap = rcvbuf / 2 / (b->size + 1024u);
        if (cap > want)
            cap = want;
        if (cap == 0)
            cap = 1;
    }
    prev = have ? m0.rmem : 0;
    *drops = 0;
    while (sent < cap) {
        n = net_send(b, sfd, cap - sent);
        if (n == -EAGAIN) {
            if (++stalls > 100)
                break;
            net_wait_writable(sfd, 10);
            continue;
        }
        if (n < 0)
            return n;
        sent += (unsigned long)n;
        if (!have || net_meminfo(rfd, &mi) != 0)
            continue;
        *drops = mi.drops - m0.drops;
        if (*drops > 0)
            break;
        /* Stop while two more batches would still fit. */
        step = mi.rmem > prev ? mi.rmem - prev : 0;
        if (step > max_step)
            max_step = step;
        prev = mi.rmem;
        if (mi.rmem + 2 * max_step >= mi.rcvbuf)
            break;
    }
    return (long)sent;
}
