/* tx.c - sending with plain system calls or with the library. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "tx.h"

#define SNDBUF_BYTES (4 << 20)
#define FULL_WAIT_MS 10

static int sender_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), v = SNDBUF_BYTES;

    if (fd < 0)
        return -errno;
    /* Room for many batches in flight; best effort. */
#ifdef SO_SNDBUFFORCE
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0)
#endif
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    return fd;
}

/* A full send buffer (or a full device queue: ENOBUFS) is waited out and
 * counted; anything else is an error. */
static int full(struct tx *t, int err)
{
    struct pollfd p = { t->fd, POLLOUT, 0 };

    if (err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS)
        return -err;
    t->stalls++;
    (void)poll(&p, 1, FULL_WAIT_MS);
    return 0;
}

static int open_raw(struct tx *t)
{
    struct iovec *iov = calloc(t->batch, sizeof *iov);
    unsigned i;

    t->iov = iov;
    if (iov == NULL)
        return -ENOMEM;
    for (i = 0; i < t->batch; i++) {
        iov[i].iov_base = t->payload + (size_t)i * t->size;
        iov[i].iov_len = t->size;
    }
    if (t->m->kind == KIND_RAW_SENDMMSG) {
#ifdef HAVE_SENDMMSG
        struct mmsghdr *msgs = calloc(t->batch, sizeof *msgs);

        t->msgs = msgs;
        if (msgs == NULL)
            return -ENOMEM;
        for (i = 0; i < t->batch; i++) {
            msgs[i].msg_hdr.msg_name = &t->to;
            msgs[i].msg_hdr.msg_namelen = sizeof t->to;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
#else
        return -ENOTSUP;
#endif
    }
    return 0;
}

static int open_lib(struct tx *t, struct run_info *info)
{
    budp_options *o = NULL;
    budp_addr peer;
    const char *what = "budp_options_new";
    unsigned i;
    int err;

    if ((err = budp_options_new(&o)) < 0)
        goto fail;
#define SET(key, val) \
    do { what = #key; if ((err = budp_options_set(o, key, val)) < 0) goto fail; } while (0)
    SET(BUDP_OPT_BATCH_SIZE, t->batch);
    SET(BUDP_OPT_BACKEND, t->m->backend);
    SET(BUDP_OPT_GSO, t->m->gso_sender);
    if (t->m->zerocopy)
        SET(BUDP_OPT_ZEROCOPY, 1);
    SET(BUDP_OPT_GRO, 0);          /* nothing is received on this socket */
#undef SET
    what = "budp_addr_from_string";
    if ((err = budp_addr_from_string(&peer, "127.0.0.1", ntohs(t->to.sin_port))) < 0)
        goto fail;
    what = "budp_open";
    if ((err = budp_open(&t->s, t->fd, o)) < 0)
        goto fail;
    budp_options_free(o);
    t->d = calloc(t->batch, sizeof *t->d);
    if (t->d == NULL)
        return -ENOMEM;
    for (i = 0; i < t->batch; i++) {
        t->d[i].data = t->payload + (size_t)i * t->size;
        t->d[i].len = t->size;
        t->d[i].peer = peer;
    }
    snprintf(info->backend, sizeof info->backend, "%s", budp_backend_name(t->s));
    return 0;
fail:
    budp_options_free(o);
    t->s = NULL;
    snprintf(info->note, sizeof info->note, "%s: %s", what, budp_strerror(err));
    return err;
}

int tx_open(struct tx *t, const struct method *m, const struct sockaddr_in *to,
            const struct bench_config *c, struct run_info *info)
{
    unsigned i;
    int err;

    memset(t, 0, sizeof *t);
    t->m = m;
    t->to = *to;
    t->size = c->size;
    t->batch = m->kind == KIND_SENDTO ? 1 : c->batch;
    snprintf(info->backend, sizeof info->backend, "-");
    t->fd = sender_socket();
    if (t->fd < 0) {
        err = t->fd;
        snprintf(info->note, sizeof info->note, "sender socket: %s", strerror(-err));
        return err;
    }
    t->payload = calloc(t->batch, t->size);
    if (t->payload == NULL) {
        tx_close(t);
        return -ENOMEM;
    }
    /* Each datagram starts with its slot number; touching every page now
     * keeps page faults out of the timed region. */
    for (i = 0; i < t->batch; i++)
        memset(t->payload + (size_t)i * t->size, (int)(i & 0xff), t->size);
    if (m->kind == KIND_LIB_SEND)
        err = open_lib(t, info);
    else if ((err = open_raw(t)) < 0)
        snprintf(info->note, sizeof info->note, "%s", strerror(-err));
    if (err < 0)
        tx_close(t);
    return err;
}

static int send_sendto(struct tx *t, unsigned long n)
{
    unsigned long i = 0;
    int err;

    while (i < n) {
        ssize_t r = sendto(t->fd, t->payload, t->size, MSG_DONTWAIT,
                           (const struct sockaddr *)&t->to, sizeof t->to);

        if (r < 0) {
            if (errno != EINTR && (err = full(t, errno)) < 0)
                return err;
            continue;
        }
        t->calls++;
        i++;
    }
    t->sent += n;
    return 0;
}

static int send_sendmmsg(struct tx *t, unsigned long n)
{
#ifdef HAVE_SENDMMSG
    struct mmsghdr *msgs = t->msgs;
    unsigned long done = 0;
    int err;

    while (done < n) {
        unsigned k = n - done < t->batch ? (unsigned)(n - done) : t->batch;
        unsigned off = 0;

        while (off < k) {
            int r = sendmmsg(t->fd, msgs + off, k - off, MSG_DONTWAIT);

            if (r < 0) {
                if (errno != EINTR && (err = full(t, errno)) < 0)
                    return err;
                continue;
            }
            t->calls++;
            off += (unsigned)r;
        }
        done += k;
    }
    t->sent += n;
    return 0;
#else
    (void)t;
    (void)n;
    return -ENOTSUP;
#endif
}

static int send_lib(struct tx *t, unsigned long n)
{
    unsigned long done = 0;
    int err;

    while (done < n) {
        unsigned k = n - done < t->batch ? (unsigned)(n - done) : t->batch;
        unsigned off = 0;

        while (off < k) {
            int r = budp_send(t->s, t->d + off, k - off);

            if (r < 0) {
                if ((err = full(t, -r)) < 0)
                    return err;
                continue;
            }
            off += (unsigned)r;
        }
        done += k;
    }
    t->sent += n;
    return 0;
}

int tx_send(struct tx *t, unsigned long n)
{
    if (t->m->kind == KIND_SENDTO)
        return send_sendto(t, n);
    if (t->m->kind == KIND_RAW_SENDMMSG)
        return send_sendmmsg(t, n);
    return send_lib(t, n);
}

void tx_counters(const struct tx *t, struct tx_counters *out)
{
    budp_stats st;

    memset(out, 0, sizeof *out);
    out->syscalls = t->calls;
    out->datagrams = t->sent;
    if (t->s == NULL)
        return;
    memset(&st, 0, sizeof st);
    if (budp_get_stats(t->s, &st, sizeof st) < 0)
        return;
    out->syscalls = st.tx_syscalls;
    out->datagrams = st.tx_datagrams;
    out->gso_sends = st.tx_coalesced;
    out->gso_fallbacks = st.tx_gso_fallbacks;
}

void tx_close(struct tx *t)
{
    budp_close(t->s);
    t->s = NULL;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    free(t->payload);
    free(t->iov);
    free(t->msgs);
    free(t->d);
    t->payload = NULL;
    t->iov = t->msgs = NULL;
    t->d = NULL;
}
