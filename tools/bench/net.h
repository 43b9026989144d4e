/* net.h - the loopback sockets of the bench, and a batch sender. */
#ifndef BUDP_BENCH_NET_H
#define BUDP_BENCH_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

/* A UDP socket bound to 127.0.0.1 on a free port, its receive buffer set
 * to about want bytes (SO_RCVBUFFORCE where permitted, else SO_RCVBUF; 0
 * leaves it as is).  *addr receives the bound address, *forced whether the
 * force worked, *actual the buffer the kernel granted.  Returns the fd or
 * -errno. */
int net_receiver(size_t want, struct sockaddr_in *addr, int *forced,
                 size_t *actual);

/* Set fd's receive buffer to about want bytes: SO_RCVBUFFORCE where
 * permitted (*forced = 1), else SO_RCVBUF.  Returns 0 or -errno. */
int net_set_rcvbuf(int fd, size_t want, int *forced);

/* A UDP socket connected to to; with gso_size > 0 it coalesces every send
 * longer than gso_size into segments of that size (UDP_SEGMENT).  Returns
 * the fd, -ENOTSUP when the kernel lacks UDP_SEGMENT, or -errno. */
int net_sender(const struct sockaddr_in *to, unsigned gso_size);

/* The socket's receive queue in bytes, its limit and its drop counter
 * (Linux SO_MEMINFO).  Returns 0 or -ENOTSUP. */
struct net_meminfo {
    uint64_t rmem;
    uint64_t rcvbuf;
    uint64_t drops;
};
int net_meminfo(int fd, struct net_meminfo *mi);

/* Datagrams to send in one batch call: nmsg messages of segs datagrams of
 * size bytes each (segs > 1 only on a UDP_SEGMENT socket).  Datagram i of
 * a batch starts with its index, so receivers have something to read. */
struct net_sendbuf {
    unsigned size, segs, nmsg;
    uint8_t *payload;        /* segs * size bytes, shared by every message */
    struct iovec *iov;
    void *msgs;              /* struct mmsghdr[nmsg] where sendmmsg exists */
};

int  net_sendbuf_init(struct net_sendbuf *b, unsigned size, unsigned segs,
                      unsigned nmsg);
void net_sendbuf_free(struct net_sendbuf *b);

/* Send up to max datagrams (at most one batch) without blocking.  Returns
 * the datagrams sent (> 0), -EAGAIN when the send buffer is full, or
 * -errno. */
long net_send(struct net_sendbuf *b, int fd, unsigned long max);

/* Wait up to timeout_ms for fd to become writable. */
void net_wait_writable(int fd, int timeout_ms);

/* Send up to want datagrams of b from sfd without overflowing the queue of
 * rfd, the receiving socket (its SO_MEMINFO counters, or a guess from
 * rcvbuf where it has none): stops while two more batches would still fit,
 * or at the first kernel drop.  Returns the number sent or -errno; *drops
 * receives the kernel drops. */
long net_fill_queue(struct net_sendbuf *b, int sfd, int rfd, unsigned long want,
                    size_t rcvbuf, uint64_t *drops);

/* Largest GSO run for datagrams of size bytes (1 when GSO cannot help). */
unsigned net_gso_segments(unsigned size);

#endif
