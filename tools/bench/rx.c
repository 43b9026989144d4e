/* rx.c - receiving with plain system calls or with the library. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "rx.h"

static inline void consume(struct rx *r, const uint8_t *data, uint32_t len)
{
    r->bytes += len;
    if (len != r->expect_len)
        r->bad_lengths++;
    if (len > 0)
        r->checksum += data[0];
}

static int alloc_raw(struct rx *r)
{
    unsigned i, n = r->m->kind == KIND_RECVFROM ? 1 : r->batch;
    struct iovec *iov;

    r->bufs = malloc(n * r->slot);
    r->iov = iov = calloc(n, sizeof *iov);
    r->names = calloc(n, sizeof(struct sockaddr_storage));
    if (r->bufs == NULL || r->iov == NULL || r->names == NULL)
        return -ENOMEM;
    /* Touch the buffers now so page faults stay out of the timed region. */
    memset(r->bufs, 0, n * r->slot);
    for (i = 0; i < n; i++) {
        iov[i].iov_base = r->bufs + (size_t)i * r->slot;
        iov[i].iov_len = r->slot;
    }
    if (r->m->kind == KIND_RAW_RECVMMSG) {
#ifdef HAVE_RECVMMSG
        struct mmsghdr *msgs = calloc(n, sizeof *msgs);

        if (msgs == NULL)
            return -ENOMEM;
        for (i = 0; i < n; i++) {
            msgs[i].msg_hdr.msg_name = (struct sockaddr_storage *)r->names + i;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        r->msgs = msgs;
#else
        return -ENOTSUP;
#endif
    }
    return 0;
}

static unsigned ring_capacity(unsigned batch)
{
    unsigned cap = 256;

    while (cap < 4 * batch && cap < 65536)
        cap *= 2;
    return cap;
}

static int on_batch(void *user, const budp_datagram *d, unsigned n)
{
    struct rx *r = user;
    uint64_t total;
    unsigned i;

    for (i = 0; i < n; i++)
        consume(r, d[i].data, d[i].len);
    r->datagrams += n;
    total = atomic_load_explicit(&r->cb_count, memory_order_relaxed) + n;
    atomic_store_explicit(&r->cb_count, total, memory_order_release);
    if (r->hook != NULL)
        r->hook(r->hook_user, n);
    if (total >= r->cb_target && !r->cb_signalled) {
        r->cb_signalled = 1;
        pthread_mutex_lock(&r->mu);
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    return BUDP_CALLBACK_CONTINUE;
}

/* budp_dispatch's callback: the datagrams are counted by rx_recv from
 * the call's return value. */
static int on_dispatch(void *user, const budp_datagram *d, unsigned n)
{
    struct rx *r = user;
    unsigned i;

    for (i = 0; i < n; i++)
        consume(r, d[i].data, d[i].len);
    return BUDP_CALLBACK_CONTINUE;
}

/* What the consuming call needs beyond the socket. */
static int prepare_api(struct rx *r)
{
    if (r->m->api == API_DISPATCH)
        return budp_set_callback(r->s, on_dispatch, r);
    if (r->m->api != API_PACKED)
        return 0;
    r->bufs = malloc(r->batch * r->slot);
    r->packed_lens = calloc(r->batch, sizeof *r->packed_lens);
    if (r->bufs == NULL || r->packed_lens == NULL)
        return -ENOMEM;
    /* Page faults stay out of the timed region. */
    memset(r->bufs, 0, r->batch * r->slot);
    return 0;
}

static unsigned ring_batch_capacity(const struct bench_config *c)
{
    return c->ring >= 0 ? (unsigned)c->ring : ring_capacity(c->batch);
}

int rx_lib_options(const struct method *m, const struct bench_config *c,
                   budp_options **out, const char **what)
{
    budp_options *o = NULL;
    int err;

    *what = "budp_options_new";
    if ((err = budp_options_new(&o)) < 0)
        return err;
#define SET(key, val) \
    do { *what = #key; if ((err = budp_options_set(o, key, val)) < 0) goto fail; } while (0)
    SET(BUDP_OPT_BATCH_SIZE, c->batch);
    if (c->size > 2048)
        SET(BUDP_OPT_MAX_DATAGRAM, c->size);
    SET(BUDP_OPT_BACKEND, m->backend);
    if (m->gro >= 0)
        SET(BUDP_OPT_GRO, m->gro);
    if (m->threading != LIB_INLINE) {
        SET(BUDP_OPT_THREADED, 1);
        SET(BUDP_OPT_RING_CAPACITY, ring_batch_capacity(c));
    }
    if (m->threading == LIB_CALLBACK)
        SET(BUDP_OPT_CALLBACK_THREAD, 1);
#undef SET
    *out = o;
    return 0;
fail:
    budp_options_free(o);
    return err;
}

static int open_lib(struct rx *r, const struct bench_config *c,
                    struct run_info *info)
{
    budp_options *o = NULL;
    const char *what;
    int err;

    if ((err = rx_lib_options(r->m, c, &o, &what)) < 0)
        goto fail;
    what = "budp_open";
    err = budp_open(&r->s, r->fd, o);
    if (err < 0)
        goto fail;
    what = "consuming call setup";
    if ((err = prepare_api(r)) < 0) {
        budp_close(r->s);
        goto fail;
    }
    budp_options_free(o);
    snprintf(info->backend, sizeof info->backend, "%s", budp_backend_name(r->s));
    return 0;
fail:
    budp_options_free(o);
    r->s = NULL;
    snprintf(info->note, sizeof info->note, "%s: %s", what, budp_strerror(err));
    return err;
}

static int rx_init(struct rx *r, const struct method *m, int fd,
                   const struct bench_config *c, struct run_info *info)
{
    memset(r, 0, sizeof *r);
    r->m = m;
    r->fd = fd;
    r->batch = c->batch;
    r->slot = c->size > 2048 ? c->size : 2048;
    r->expect_len = c->size;
    r->cb_target = UINT64_MAX;
    atomic_init(&r->cb_count, 0);
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        return -ENOMEM;
    if (pthread_cond_init(&r->cv, NULL) != 0) {
        pthread_mutex_destroy(&r->mu);
        return -ENOMEM;
    }
    r->sync_ready = 1;
    snprintf(info->backend, sizeof info->backend, "-");
    return 0;
}

int rx_open(struct rx *r, const struct method *m, int fd,
            const struct bench_config *c, struct run_info *info)
{
    int err;

    if (m->kind == KIND_GROUP)
        return -EINVAL;
    if ((err = rx_init(r, m, fd, c, info)) < 0)
        return err;
    if (m->kind == KIND_LIB)
        err = open_lib(r, c, info);
    else if ((err = alloc_raw(r)) < 0)
        snprintf(info->note, sizeof info->note, "%s", strerror(-err));
    if (err < 0)
        rx_close(r);
    return err;
}

int rx_open_socket(struct rx *r, const struct method *m, budp_socket *s,
                   const struct bench_config *c, struct run_info *info)
{
    int err;

    if (m->kind != KIND_LIB || s == NULL)
        return -EINVAL;
    if ((err = rx_init(r, m, -1, c, info)) < 0)
        return err;
    r->s = s;
    r->borrowed = 1;
    if ((err = prepare_api(r)) < 0) {
        snprintf(info->note, sizeof info->note, "consuming call setup: %s",
                 budp_strerror(err));
        rx_close(r);
        return err;
    }
    snprintf(info->backend, sizeof info->backend, "%s", budp_backend_name(s));
    return 0;
}

int rx_start(struct rx *r, uint64_t target)
{
    if (r->m->kind != KIND_LIB || r->m->threading != LIB_CALLBACK)
        return 0;
    r->cb_target = target;
    return budp_set_callback(r->s, on_batch, r);
}

static long recv_raw(struct rx *r)
{
    if (r->m->kind == KIND_RECVFROM) {
        struct sockaddr_storage *ss = r->names;
        socklen_t sl = sizeof *ss;
        ssize_t n;

        do
            n = recvfrom(r->fd, r->bufs, r->slot, MSG_DONTWAIT,
                         (struct sockaddr *)ss, &sl);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        consume(r, r->bufs, (uint32_t)n);
        r->calls++;
        r->datagrams++;
        return 1;
    }
#ifdef HAVE_RECVMMSG
    {
        struct mmsghdr *msgs = r->msgs;
        int i, n;

        for (i = 0; i < (int)r->batch; i++)
            msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        do
            n = recvmmsg(r->fd, msgs, r->batch, MSG_DONTWAIT, NULL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        for (i = 0; i < n; i++)
            consume(r, msgs[i].msg_hdr.msg_iov->iov_base, msgs[i].msg_len);
        r->calls++;
        r->datagrams += (unsigned)n;
        return n;
    }
#else
    return -ENOTSUP;
#endif
}

static int recv_packed(struct rx *r)
{
    const uint8_t *p = r->bufs;
    int i, n = budp_recv_packed(r->s, r->bufs, r->batch * r->slot,
                                r->packed_lens, NULL, NULL, r->batch);

    for (i = 0; i < n; i++) {
        consume(r, p, r->packed_lens[i]);
        p += r->packed_lens[i];
    }
    return n;
}

long rx_recv(struct rx *r)
{
    const budp_datagram *d;
    int i, n;

    if (r->m->kind != KIND_LIB)
        return recv_raw(r);
    if (r->m->threading == LIB_CALLBACK)
        return -EINVAL;
    if (r->m->api == API_PACKED) {
        n = recv_packed(r);
    } else if (r->m->api == API_DISPATCH) {
        n = budp_dispatch(r->s, r->batch);
    } else {
        n = budp_recv(r->s, &d, r->batch);
        for (i = 0; i < n; i++)
            consume(r, d[i].data, d[i].len);
    }
    if (n <= 0)
        return n;
    r->datagrams += (unsigned)n;
    return n;
}

int rx_wait(struct rx *r, int timeout_ms)
{
    struct pollfd p = { r->fd, POLLIN, 0 };
    int n;

    if (r->m->kind == KIND_LIB)
        return budp_wait(r->s, timeout_ms);
    do
        n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n > 0;
}

uint64_t rx_count(struct rx *r)
{
    if (r->m->kind == KIND_LIB && r->m->threading == LIB_CALLBACK)
        return atomic_load_explicit(&r->cb_count, memory_order_acquire);
    return r->datagrams;
}

static int wait_callback(struct rx *r, uint64_t target, int idle_ms)
{
    uint64_t last = rx_count(r), now_count;
    struct timespec ts;
    int rc = 0;

    pthread_mutex_lock(&r->mu);
    while ((now_count = rx_count(r)) < target) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)idle_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) {
            now_count = rx_count(r);
            if (now_count == last) {
                rc = -ETIMEDOUT;
                break;
            }
            last = now_count;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int rx_wait_count(struct rx *r, uint64_t target, int idle_ms)
{
    uint64_t idle_since = 0;
    long n;
    int w;

    if (r->m->kind == KIND_LIB && r->m->threading == LIB_CALLBACK)
        return wait_callback(r, target, idle_ms);
    while (r->datagrams < target) {
        n = rx_recv(r);
        if (n < 0)
            return (int)n;
        if (n > 0) {
            idle_since = 0;
            continue;
        }
        /* Wake-ups may be spurious: give up only after idle_ms without a
         * datagram. */
        if (idle_since == 0)
            idle_since = clock_wall_ns();
        else if (clock_wall_ns() - idle_since > (uint64_t)idle_ms * 1000000u)
            return -ETIMEDOUT;
        w = rx_wait(r, idle_ms);
        if (w < 0)
            return w;
    }
    return 0;
}

int rx_lib_stats(struct rx *r, uint64_t *syscalls, uint64_t *coalesced,
                 uint64_t *kernel_drops)
{
    budp_stats st;

    if (r->s == NULL)
        return -ENOTSUP;
    memset(&st, 0, sizeof st);
    if (budp_get_stats(r->s, &st, sizeof st) < 0)
        return -ENOTSUP;
    *syscalls = st.rx_syscalls;
    *coalesced = st.rx_coalesced;
    *kernel_drops = st.rx_kernel_drops;
    return 0;
}

void rx_close(struct rx *r)
{
    if (!r->borrowed)
        budp_close(r->s);
    r->s = NULL;
    r->borrowed = 0;
    free(r->bufs);
    free(r->iov);
    free(r->names);
    free(r->msgs);
    free(r->packed_lens);
    r->packed_lens = NULL;
    r->bufs = NULL;
    r->iov = r->names = r->msgs = NULL;
    if (r->sync_ready) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        r->sync_ready = 0;
    }
}
