/* relay_ends.c - what surrounds the relay in --mode relay: its sockets,
 * made inside the namespaces, the sender that fills the relay's queue, and
 * the sink that counts and checks what the relay forwarded. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "netns.h"
#include "relay.h"

#define SNDBUF_BYTES (4 << 20)

/* ---- sockets inside a namespace ---- */

struct make_req {
    struct in_addr ip;
    size_t rcvbuf;
    struct relay_socket *out;
    char why[120];
};

/* Runs on a thread inside the namespace (netns_run). */
static int make_socket(void *arg)
{
    struct make_req *q = arg;
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int fd, v = SNDBUF_BYTES, err;
    const char *what = "socket";

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        err = -errno;
        goto fail;
    }
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr = q->ip;
    what = "bind";
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        err = -errno;
        goto fail;
    }
    what = "receive buffer";
    if (q->rcvbuf > 0 && (err = net_set_rcvbuf(fd, q->rcvbuf, &q->out->forced)) < 0)
        goto fail;
    /* The relay's sends leave the socket's account as soon as veth hands
     * them to the peer; a large buffer only spares waits; best effort. */
#ifdef SO_SNDBUFFORCE
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0)
#endif
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 && v > 0)
        q->out->rcvbuf = (size_t)v;
    q->out->fd = fd;
    q->out->addr = sin;
    return 0;
fail:
    snprintf(q->why, sizeof q->why, "%s: %s", what, strerror(-err));
    if (fd >= 0)
        close(fd);
    return err;
}

int relay_socket_open(struct relay_socket *s, const char *ns, struct in_addr ip,
                      size_t rcvbuf, char *why, size_t size)
{
    struct make_req q;
    int err;

    memset(s, 0, sizeof *s);
    s->fd = -1;
    memset(&q, 0, sizeof q);
    q.ip = ip;
    q.rcvbuf = rcvbuf;
    q.out = s;
    why[0] = '\0';
    err = netns_run(ns, make_socket, &q, why, size);
    if (err < 0 && q.why[0])
        snprintf(why, size, "%s", q.why);
    return err < 0 ? err : s->fd;
}

/* ---- the sender ---- */

struct sender_req {
    const struct sockaddr_in *to;
    unsigned gso_size;
    int fd;
};

static int make_sender(void *arg)
{
    struct sender_req *q = arg;

    q->fd = net_sender(q->to, q->gso_size);
    return q->fd < 0 ? q->fd : 0;
}

int relay_sender_open(struct relay_sender *s, const char *ns,
                      const struct sockaddr_in *relay, unsigned size,
                      char *why, size_t wsize)
{
    struct sender_req q;
    int err;

    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->segs = net_gso_segments(size);
    q.to = relay;
    q.gso_size = s->segs > 1 ? size : 0;
    q.fd = -1;
    why[0] = '\0';
    err = netns_run(ns, make_sender, &q, why, wsize);
    if (err == -ENOTSUP && q.gso_size > 0) {
        /* No UDP_SEGMENT here: every row gets plain datagrams then, and
         * the header of the table says so. */
        s->gso_refused = 1;
        s->segs = 1;
        q.gso_size = 0;
        err = netns_run(ns, make_sender, &q, why, wsize);
    }
    if (err < 0) {
        if (!why[0])
            snprintf(why, wsize, "sender socket: %s", strerror(-err));
        return err;
    }
    s->fd = q.fd;
    /* Runs of up to 64 datagrams, 8 per sendmmsg; 64 plain datagrams per
     * sendmmsg without GSO (as drain mode's sender). */
    s->nmsg = s->segs > 1 ? 8 : 64;
    err = net_sendbuf_init(&s->b, size, s->segs, s->nmsg);
    if (err < 0) {
        snprintf(why, wsize, "sender buffers: %s", strerror(-err));
        relay_sender_close(s);
    }
    return err;
}

long relay_sender_fill(struct relay_sender *s, int relay_fd, size_t rcvbuf,
                       unsigned long want, uint64_t *drops)
{
    /* veth hands each packet to the relay's namespace within the send
     * call, so the queue's counters are up to date after each one. */
    return net_fill_queue(&s->b, s->fd, relay_fd, want, rcvbuf, drops);
}

void relay_sender_close(struct relay_sender *s)
{
    net_sendbuf_free(&s->b);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* ---- the sink ---- */

int relay_sink_open(struct relay_sink *k, const char *ns, struct in_addr ip,
                    size_t rcvbuf, unsigned size, char *why, size_t wsize)
{
    int err;

    memset(k, 0, sizeof *k);
    err = relay_socket_open(&k->sock, ns, ip, rcvbuf, why, wsize);
    if (err < 0)
        return err;
    err = gro_sink_open(&k->rx, k->sock.fd, size, why, wsize);
    if (err < 0)
        relay_sink_close(k);
    return err;
}

int relay_sink_drain(struct relay_sink *k, uint64_t want, int idle_ms)
{
    return gro_sink_drain(&k->rx, want, idle_ms);
}

void relay_sink_close(struct relay_sink *k)
{
    gro_sink_close(&k->rx);
    if (k->sock.fd >= 0)
        close(k->sock.fd);
    k->sock.fd = -1;
}
