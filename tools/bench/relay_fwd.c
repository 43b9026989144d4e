/* relay_fwd.c - the relay of --mode relay, one way per method: receive a
 * batch, send every datagram of it on to the sink, from the buffers it
 * arrived in.
 *
 * Every method forwards what it received before it receives again, never
 * drops a datagram (a full send buffer is waited out with poll, and any
 * other send error ends the sample), and never touches the payload: a
 * relay that moves datagrams as they are (a proxy) has no reason to. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "relay.h"

/* A full send buffer is polled for this long at a time. */
#define FULL_WAIT_MS 10

static int is_full(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

static void wait_writable(struct fwd *f)
{
    struct pollfd p = { f->fd, POLLOUT, 0 };

    f->full_waits++;
    (void)poll(&p, 1, FULL_WAIT_MS);
}

/* 0 when something can be read, -ETIMEDOUT after idle_ms, or -errno. */
static int wait_readable(struct fwd *f, int idle_ms)
{
    struct pollfd p = { f->fd, POLLIN, 0 };
    int n;

    if (f->s != NULL)
        n = budp_wait(f->s, idle_ms);
    else {
        do
            n = poll(&p, 1, idle_ms);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            n = -errno;
    }
    return n < 0 ? n : n == 0 ? -ETIMEDOUT : 0;
}

/* A receive failed with errno: 0 to try again (interrupted, or something
 * became readable), or -errno (-ETIMEDOUT after idle_ms of nothing). */
static int after_failed_receive(struct fwd *f, int idle_ms)
{
    if (errno == EINTR)
        return 0;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -errno;
    return wait_readable(f, idle_ms);
}

static int open_raw(struct fwd *f)
{
    unsigned i, n = f->m->kind == KIND_RELAY_RECVFROM ? 1 : f->batch;
    struct iovec *rx_iov, *tx_iov;

    f->bufs = malloc(n * f->slot);
    f->rx_iov = rx_iov = calloc(n, sizeof *rx_iov);
    f->tx_iov = tx_iov = calloc(n, sizeof *tx_iov);
    f->names = calloc(n, sizeof(struct sockaddr_storage));
    if (f->bufs == NULL || rx_iov == NULL || tx_iov == NULL || f->names == NULL)
        return -ENOMEM;
    /* Touch the buffers now so page faults stay out of the timed region. */
    memset(f->bufs, 0, n * f->slot);
    for (i = 0; i < n; i++) {
        rx_iov[i].iov_base = tx_iov[i].iov_base = f->bufs + (size_t)i * f->slot;
        rx_iov[i].iov_len = f->slot;
    }
    if (f->m->kind == KIND_RELAY_MMSG) {
#if defined(HAVE_RECVMMSG) && defined(HAVE_SENDMMSG)
        struct mmsghdr *rx = calloc(n, sizeof *rx), *tx = calloc(n, sizeof *tx);

        f->rx_msgs = rx;
        f->tx_msgs = tx;
        if (rx == NULL || tx == NULL)
            return -ENOMEM;
        /* Two message arrays over the same buffers: the sends carry the
         * received bytes as they lie, to the sink's address. */
        for (i = 0; i < n; i++) {
            rx[i].msg_hdr.msg_name = (struct sockaddr_storage *)f->names + i;
            rx[i].msg_hdr.msg_iov = &rx_iov[i];
            rx[i].msg_hdr.msg_iovlen = 1;
            tx[i].msg_hdr.msg_name = &f->to;
            tx[i].msg_hdr.msg_namelen = sizeof f->to;
            tx[i].msg_hdr.msg_iov = &tx_iov[i];
            tx[i].msg_hdr.msg_iovlen = 1;
        }
#else
        return -ENOTSUP;
#endif
    }
    return 0;
}

static int open_lib(struct fwd *f, struct run_info *info)
{
    const struct method *m = f->m;
    budp_options *o = NULL;
    budp_addr sink;
    const char *what = "budp_options_new";
    unsigned i;
    int err;

    if ((err = budp_options_new(&o)) < 0)
        goto fail;
#define SET(key, val) \
    do { what = #key; if ((err = budp_options_set(o, key, val)) < 0) goto fail; } while (0)
    SET(BUDP_OPT_BATCH_SIZE, f->batch);
    SET(BUDP_OPT_BACKEND, m->backend);
    SET(BUDP_OPT_GRO, m->gro > 0);
    SET(BUDP_OPT_GSO, m->gso_sender);
#undef SET
    what = "budp_open";
    if ((err = budp_open(&f->s, f->fd, o)) < 0)
        goto fail;
    budp_options_free(o);
    o = NULL;
    what = "calloc";
    f->out = calloc(f->batch, sizeof *f->out);
    if (f->out == NULL) {
        err = -ENOMEM;
        goto fail;
    }
    /* Every outgoing datagram goes to the sink; data and len are set per
     * datagram to the received view's, the rest stays zero (flags,
     * segment_size and reserved must be). */
    memset(&sink, 0, sizeof sink);
    sink.family = BUDP_AF_INET;
    sink.port = ntohs(f->to.sin_port);
    memcpy(sink.bytes, &f->to.sin_addr, 4);
    for (i = 0; i < f->batch; i++)
        f->out[i].peer = sink;
    snprintf(info->backend, sizeof info->backend, "%s", budp_backend_name(f->s));
    return 0;
fail:
    budp_options_free(o);
    snprintf(info->note, sizeof info->note, "%s: %s", what, budp_strerror(err));
    return err;
}

int fwd_open(struct fwd *f, const struct method *m, int fd,
             const struct sockaddr_in *to, const struct bench_config *c,
             struct run_info *info)
{
    int err;

    memset(f, 0, sizeof *f);
    f->m = m;
    f->fd = fd;
    f->to = *to;
    f->batch = m->kind == KIND_RELAY_RECVFROM ? 1 : c->batch;
    f->slot = c->size > 2048 ? c->size : 2048;
    snprintf(info->backend, sizeof info->backend, "-");
    if (m->kind == KIND_RELAY_LIB)
        err = open_lib(f, info);
    else if ((err = open_raw(f)) < 0)
        snprintf(info->note, sizeof info->note, "%s", strerror(-err));
    if (err < 0)
        fwd_close(f);
    return err;
}

static int run_recvfrom(struct fwd *f, uint64_t target, int idle_ms)
{
    struct sockaddr_storage *from = f->names;
    socklen_t fl;
    ssize_t n, r;
    int err;

    while (f->forwarded < target) {
        fl = sizeof *from;
        n = recvfrom(f->fd, f->bufs, f->slot, MSG_DONTWAIT,
                     (struct sockaddr *)from, &fl);
        if (n < 0) {
            if ((err = after_failed_receive(f, idle_ms)) < 0)
                return err;
            continue;
        }
        f->rx_calls++;
        f->received++;
        for (;;) {
            r = sendto(f->fd, f->bufs, (size_t)n, MSG_DONTWAIT,
                       (const struct sockaddr *)&f->to, sizeof f->to);
            if (r >= 0)
                break;
            if (errno == EINTR)
                continue;
            if (!is_full(errno))
                return -errno;
            wait_writable(f);
        }
        f->tx_calls++;
        f->forwarded++;
    }
    return 0;
}

static int run_mmsg(struct fwd *f, uint64_t target, int idle_ms)
{
#if defined(HAVE_RECVMMSG) && defined(HAVE_SENDMMSG)
    struct mmsghdr *rx = f->rx_msgs, *tx = f->tx_msgs;
    struct iovec *tx_iov = f->tx_iov;
    int i, n, r, off, err;

    while (f->forwarded < target) {
        for (i = 0; i < (int)f->batch; i++)
            rx[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        n = recvmmsg(f->fd, rx, f->batch, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if ((err = after_failed_receive(f, idle_ms)) < 0)
                return err;
            continue;
        }
        f->rx_calls++;
        f->received += (unsigned)n;
        for (i = 0; i < n; i++)
            tx_iov[i].iov_len = rx[i].msg_len;
        /* sendmmsg may stop short: what it did not take goes again. */
        for (off = 0; off < n; ) {
            r = sendmmsg(f->fd, tx + off, (unsigned)(n - off), MSG_DONTWAIT);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                if (!is_full(errno))
                    return -errno;
                wait_writable(f);
                continue;
            }
            f->tx_calls++;
            off += r;
        }
        f->forwarded += (unsigned)n;
    }
    return 0;
#else
    (void)f;
    (void)target;
    (void)idle_ms;
    return -ENOTSUP;
#endif
}

static int run_lib(struct fwd *f, uint64_t target, int idle_ms)
{
    const budp_datagram *d;
    budp_datagram *out = f->out;
    int i, n, r, off, err;

    while (f->forwarded < target) {
        n = budp_recv(f->s, &d, f->batch);
        if (n < 0)
            return n;
        if (n == 0) {
            if ((err = wait_readable(f, idle_ms)) < 0)
                return err;
            continue;
        }
        f->received += (unsigned)n;
        /* Zero copy: the datagrams sent point at the received views' data,
         * valid until the next receiving call on the socket (budp_send is
         * not one). */
        for (i = 0; i < n; i++) {
            out[i].data = d[i].data;
            out[i].len = d[i].len;
        }
        /* budp_send returns how many went; the rest goes again.  A short
         * count means the kernel stopped taking them: the next call says
         * why (-EAGAIN: wait for room). */
        for (off = 0; off < n; ) {
            r = budp_send(f->s, out + off, (unsigned)(n - off));
            if (r < 0) {
                if (!is_full(-r))
                    return r;
                wait_writable(f);
                continue;
            }
            off += r;
        }
        f->forwarded += (unsigned)n;
    }
    return 0;
}

int fwd_run(struct fwd *f, uint64_t target, int idle_ms)
{
    if (f->m->kind == KIND_RELAY_RECVFROM)
        return run_recvfrom(f, target, idle_ms);
    if (f->m->kind == KIND_RELAY_MMSG)
        return run_mmsg(f, target, idle_ms);
    return run_lib(f, target, idle_ms);
}

void fwd_counters(const struct fwd *f, struct fwd_counters *out)
{
    budp_stats st;

    memset(out, 0, sizeof *out);
    out->rx_calls = f->rx_calls;
    out->tx_calls = f->tx_calls;
    if (f->s == NULL)
        return;
    memset(&st, 0, sizeof st);
    if (budp_get_stats(f->s, &st, sizeof st) < 0)
        return;
    out->rx_calls = st.rx_syscalls;
    out->tx_calls = st.tx_syscalls;
    out->gso_sends = st.tx_coalesced;
    out->gso_fallbacks = st.tx_gso_fallbacks;
    out->coalesced = st.rx_coalesced;
}

void fwd_close(struct fwd *f)
{
    budp_close(f->s);
    f->s = NULL;
    free(f->bufs);
    free(f->rx_iov);
    free(f->tx_iov);
    free(f->names);
    free(f->rx_msgs);
    free(f->tx_msgs);
    free(f->out);
    f->bufs = NULL;
    f->rx_iov = f->tx_iov = f->names = f->rx_msgs = f->tx_msgs = NULL;
    f->out = NULL;
}
