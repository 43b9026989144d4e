/* backend_msgx.c - Apple's recvmsg_x/sendmsg_x.  They are private, so they
 * are looked up at run time: a system without them falls back to loop, and
 * a program may define them itself (the test suite emulates them on Linux,
 * XNU's known bugs included: tests/msgx_shim.h).  AUTO passes them over on
 * releases whose recvmsg_x can leak the socket lock (msgx_gate.h).
 *
 * sendmsg_x takes neither addresses nor control data, so it batches only on
 * a connected socket, datagrams bound for the connected peer without
 * control data of their own; everything else goes through sendmsg one by
 * one. */
#include "build_config.h"

#include "backend.h"

/* Left out with --disable-msgx or BUDP_WITHOUT_MSGX (build_config.h). */
#ifdef BUDP_WITH_MSGX

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "msgx.h"
#include "msgx_gate.h"
#include "posix_base.h"
#include "posix_msg.h"

struct msgx_state {
    struct budp_posix_base base;   /* first: the shared entries take it */
    unsigned batch;
    int with_control;
    struct msghdr_x *rx_msgs;
    struct budp_rx_scratch *rx_scratch;
    /* Control bytes the kernel may have written into each scratch since it
     * was last zeroed: all it was offered when it does not say (macOS
     * 10.15 leaves msg_controllen as it was). */
    socklen_t *rx_control_dirty;
    struct msghdr_x *tx_msgs;
    struct iovec *tx_iov;
    struct budp_tx_scratch tx_one;
    /* A sendmsg_x error hid how many of a batch went: the next send's
     * first datagram goes alone, so a lasting error comes back exact. */
    int tx_confirm_next;
};

static budp_recvmsg_x_fn recvmsg_x_fn;
static budp_sendmsg_x_fn sendmsg_x_fn;
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

static void lookup_symbols(void)
{
    /* Casting a data pointer to a function pointer is what dlsym requires. */
    void *r = dlsym(RTLD_DEFAULT, "recvmsg_x");
    void *s = dlsym(RTLD_DEFAULT, "sendmsg_x");
    if (r != NULL && s != NULL) {
        memcpy(&recvmsg_x_fn, &r, sizeof r);
        memcpy(&sendmsg_x_fn, &s, sizeof s);
    }
}

static int msgx_probe(char *why, size_t size)
{
    pthread_once(&lookup_once, lookup_symbols);
    if (recvmsg_x_fn == NULL || sendmsg_x_fn == NULL) {
        snprintf(why, size, "recvmsg_x/sendmsg_x not found");
        return BUDP_PROBE_ABSENT;
    }
    return budp_msgx_gate(why, size) == BUDP_MSGX_GATE_OPEN ? BUDP_PROBE_READY
                                                            : BUDP_PROBE_ASKED_ONLY;
}

static void msgx_close(void *state)
{
    struct msgx_state *st = state;

    if (st == NULL)
        return;
    free(st->rx_msgs);
    free(st->rx_scratch);
    free(st->rx_control_dirty);
    free(st->tx_msgs);
    free(st->tx_iov);
    free(st);
}

static int msgx_open(const struct budp_backend_config *cfg, void **state,
                     struct budp_backend_facts *facts)
{
    struct msgx_state *st = calloc(1, sizeof *st);
    unsigned b = cfg->batch_size < BUDP_MSGX_MAX_BATCH ? cfg->batch_size
                                                       : BUDP_MSGX_MAX_BATCH;
    int rc;

    if (st == NULL)
        return -ENOMEM;
    st->batch = b;
    st->with_control = budp_config_wants_control(cfg);
    st->rx_msgs = calloc(b, sizeof *st->rx_msgs);
    st->rx_scratch = calloc(b, sizeof *st->rx_scratch);
    st->rx_control_dirty = calloc(b, sizeof *st->rx_control_dirty);
    st->tx_msgs = calloc(b, sizeof *st->tx_msgs);
    st->tx_iov = calloc(b, sizeof *st->tx_iov);
    if (!st->rx_msgs || !st->rx_scratch || !st->rx_control_dirty || !st->tx_msgs ||
        !st->tx_iov) {
        msgx_close(st);
        return -ENOMEM;
    }
    /* Options last: nothing can fail after them. */
    rc = budp_posix_base_open(&st->base, cfg, BUDP_BASE_APPLE_SEND, facts);
    if (rc < 0) {
        msgx_close(st);
        return rc;
    }
    *state = st;
    return 0;
}

static int msgx_recv(void *state, budp_rx_slot *slots, unsigned n,
                     const struct budp_rx_params *p, struct budp_rx_summary *sum)
{
    struct msgx_state *st = state;
    int fd = st->base.fd;
    socklen_t room = (socklen_t)budp_msg_control_room(st->with_control);
    ssize_t rc;
    int over;

    if (n > st->batch)
        n = st->batch;
    for (unsigned i = 0; i < n; i++) {
        struct msghdr mh;
        struct msghdr_x *x = &st->rx_msgs[i];

        budp_msg_prep_recv(&mh, &st->rx_scratch[i], &slots[i], p->capacity,
                           st->with_control);
        /* Zeroed, so that what the kernel did not write this time reads as
         * no control message, not as one of an earlier datagram. */
        if (st->rx_control_dirty[i] != 0) {
            memset(mh.msg_control, 0, st->rx_control_dirty[i]);
            st->rx_control_dirty[i] = 0;
        }
        x->msg_name = mh.msg_name;
        x->msg_namelen = mh.msg_namelen;
        x->msg_iov = mh.msg_iov;
        x->msg_iovlen = (int)mh.msg_iovlen;
        x->msg_control = mh.msg_control;
        x->msg_controllen = (socklen_t)mh.msg_controllen;
        x->msg_flags = 0;
        x->msg_datalen = 0;
    }
    do
        rc = recvmsg_x_fn(fd, st->rx_msgs, n, MSG_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    /* As mmsg_recv: past n nothing exists, below it only what was
     * written. */
    over = (size_t)rc > n;
    if (over)
        for (rc = 0; (size_t)rc < n && st->rx_msgs[rc].msg_namelen != BUDP_RX_NAME_UNFILLED;)
            rc++;
    for (ssize_t i = 0; i < rc; i++) {
        const struct msghdr_x *x = &st->rx_msgs[i];
        struct msghdr mh;

        memset(&mh, 0, sizeof mh);
        mh.msg_name = x->msg_name;
        mh.msg_namelen = x->msg_namelen;
        mh.msg_control = x->msg_control;
        /* Never past what was offered, whatever the kernel says. */
        mh.msg_controllen = x->msg_controllen < room ? x->msg_controllen : room;
        mh.msg_flags = x->msg_flags;
        st->rx_control_dirty[i] = (socklen_t)mh.msg_controllen;
        budp_msg_finish_recv(&slots[i], &mh, x->msg_datalen, p, sum);
    }
    if (over)
        budp_rx_anomaly(p);
    return (int)rc;
}

/* Whether d can go through sendmsg_x: well formed, bound for the
 * connected peer (no destination, or the peer itself, as a received
 * datagram's is: sent naming none, see budp_msg_names_connected_peer),
 * with no source address or ECN mark of its own. */
static int plain(const budp_datagram *d, const struct budp_tx_params *p)
{
    if (!budp_datagram_sendable(d) || d->local.family != BUDP_AF_UNSPEC ||
        (p->ecn && d->ecn))
        return 0;
    return d->peer.family == BUDP_AF_UNSPEC ||
           budp_msg_names_connected_peer(d, budp_msg_connected_peer(p));
}

/* How many of d[0..n) can go through sendmsg_x as they are. */
static unsigned plain_prefix(const struct msgx_state *st, const budp_datagram *d,
                             unsigned n, const struct budp_tx_params *p)
{
    unsigned k = 0;

    if (!p->connected)
        return 0;
    while (k < n && k < st->batch && plain(&d[k], p))
        k++;
    return k;
}

static int send_one(struct msgx_state *st, int fd, const budp_datagram *d,
                    const struct budp_tx_params *p)
{
    struct msghdr mh;
    struct iovec iov = { (void *)d->data, d->len };
    ssize_t rc;

    if (budp_msg_prep_send(&mh, &st->tx_one, &iov, 1, d, p, 0) < 0)
        return -EINVAL;
    do
        rc = sendmsg(fd, &mh, MSG_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 1;
}

/* Whether sendmsg_x failing with err may have sent some of its batch
 * first.  XNU returns the count of a batch cut short by EWOULDBLOCK,
 * ENOBUFS, EMSGSIZE or EINTR, and -1 only when none went; it refuses bad
 * arguments, descriptors and an unconnected socket before the first
 * datagram, and reports a pending ICMP error (so_error) before it too.
 * Any other error (ENOSPC, a route lost midway) may come after some were
 * sent, and the count is lost. */
static int may_hide_count(int err)
{
    switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS:
    case EMSGSIZE:
    case EINTR:
    case EBADF:
    case ENOTSOCK:
    case EINVAL:
    case EFAULT:
    case ENOTCONN:
    case EDESTADDRREQ:
    case ECONNREFUSED:
        return 0;
    default:
        return 1;
    }
}

/* One sendmsg_x of d[0..k), 2 <= k <= batch.  Returns how many count as
 * sent, or -errno when none went. */
static ssize_t send_batch_x(struct msgx_state *st, int fd, const budp_datagram *d,
                            unsigned k, struct budp_tx_report *rep)
{
    ssize_t rc;

    for (unsigned i = 0; i < k; i++) {
        struct msghdr_x *x = &st->tx_msgs[i];
        memset(x, 0, sizeof *x);
        st->tx_iov[i].iov_base = (void *)d[i].data;
        st->tx_iov[i].iov_len = d[i].len;
        x->msg_iov = &st->tx_iov[i];
        x->msg_iovlen = 1;
    }
    /* EINTR with -1: nothing went (with some sent, XNU returns the
     * count), so the batch may go again. */
    do
        rc = sendmsg_x_fn(fd, st->tx_msgs, k, MSG_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        int err = errno;
        if (!may_hide_count(err))
            return -err;
        /* Counted as sent, so that a caller's resend duplicates none; said
         * in the stats; and the next send starts with one datagram alone,
         * which returns a lasting error exactly. */
        rep->hidden_errors++;
        rep->unconfirmed += k;
        st->tx_confirm_next = 1;
        rc = (ssize_t)k;
    } else if ((size_t)rc > k) {
        rep->anomalies++;
        rc = (ssize_t)k;
    }
    rep->syscalls++;
    return rc;
}

static int msgx_send(void *state, const budp_datagram *d, unsigned n,
                     const struct budp_tx_params *p, struct budp_tx_report *rep)
{
    struct msgx_state *st = state;
    int fd = st->base.fd;
    unsigned sent = 0;

    while (sent < n) {
        unsigned k = plain_prefix(st, &d[sent], n - sent, p);
        ssize_t rc;

        if (k < 2 || st->tx_confirm_next) {
            /* Addressed or marked datagrams, a lone one, or the one that
             * confirms the socket after a hidden error: sendmsg, exact. */
            int one = send_one(st, fd, &d[sent], p);
            if (one < 0)
                return sent > 0 ? (int)sent : one;
            st->tx_confirm_next = 0;
            rep->syscalls++;
            rep->bytes += d[sent].len;
            sent++;
            continue;
        }
        rc = send_batch_x(st, fd, &d[sent], k, rep);
        if (rc < 0)
            return sent > 0 ? (int)sent : (int)rc;
        for (ssize_t i = 0; i < rc; i++)
            rep->bytes += d[sent + (unsigned)i].len;
        sent += (unsigned)rc;
        if ((unsigned)rc < k || st->tx_confirm_next)
            break;
    }
    return (int)sent;
}

const struct budp_backend budp_backend_msgx = {
    .name = "msgx",
    .id = BUDP_BACKEND_MSGX,
    .caps = BUDP_CAN_PKTINFO | BUDP_CAN_ECN | BUDP_CAN_TIMESTAMPS,
    .probe = msgx_probe,
    .open = msgx_open,
    .recv = msgx_recv,
    .send = msgx_send,
    .recv_errors = NULL,
    .poll_fd = budp_posix_poll_fd,
    .wait = budp_posix_wait,
    .wake = budp_posix_wake,
    .release = budp_posix_release,
    .close = msgx_close,
};

#endif /* BUDP_WITH_MSGX */
