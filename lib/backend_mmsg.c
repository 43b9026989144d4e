/* backend_mmsg.c - recvmmsg/sendmmsg (Linux, FreeBSD), with UDP GRO on
 * receive and UDP_SEGMENT (GSO) on send where Linux offers them. */
#include "build_config.h"

#include "backend.h"

/* Builds without configure compile every file: this one holds code only
 * where the calls exist. */
#ifdef HAVE_RECVMMSG

#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "gso.h"
#include "posix_base.h"
#include "posix_msg.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

struct mmsg_state {
    struct budp_posix_base base;   /* first: the shared entries take it */
    unsigned batch;
    int with_control;              /* GRO, PKTINFO or ECN on */
    uint32_t bound_capacity;       /* slot size the receive messages are
                                      bound for (0: not yet bound) */
    budp_rx_slot *armed_slots;     /* rx_msgs[0..armed_count) are ready to
                                      receive into these slots (NULL: none) */
    unsigned armed_count;
    int gso_on;                    /* read and cleared under the send lock */
    unsigned tx_iov_capacity;      /* datagrams one sendmmsg can carry */
    uint32_t gso_segment_limit;    /* larger segments are sent one by one:
                                      the path MTU refused them */
    struct mmsghdr *rx_msgs;
    struct budp_rx_scratch *rx_scratch;
    struct mmsghdr *tx_msgs;
    struct budp_tx_scratch *tx_scratch;
    struct iovec *tx_iov;
    unsigned *tx_count;            /* datagrams carried by each entry */
    int tx_single_bound;           /* tx_msgs[k] carries tx_iov[k] alone */
};

static int mmsg_probe(char *why, size_t size)
{
    snprintf(why, size, "recvmmsg/sendmmsg");
    return BUDP_PROBE_READY;
}

static void mmsg_close(void *state)
{
    struct mmsg_state *st = state;

    if (st == NULL)
        return;
    free(st->rx_msgs);
    free(st->rx_scratch);
    free(st->tx_msgs);
    free(st->tx_scratch);
    free(st->tx_iov);
    free(st->tx_count);
    free(st);
}

/* 1 when the kernel knows UDP_SEGMENT. */
static int probe_gso(int fd)
{
#ifdef UDP_SEGMENT
    int size = 0;
    socklen_t len = sizeof size;
    return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &len) == 0;
#else
    (void)fd;
    return 0;
#endif
}

static int mmsg_open(const struct budp_backend_config *cfg, void **state,
                     struct budp_backend_facts *facts)
{
    struct mmsg_state *st = calloc(1, sizeof *st);
    unsigned b = cfg->batch_size;
    int rc;

    if (st == NULL)
        return -ENOMEM;
    st->batch = b;
    st->rx_msgs = calloc(b, sizeof *st->rx_msgs);
    st->rx_scratch = calloc(b, sizeof *st->rx_scratch);
    st->tx_msgs = calloc(b, sizeof *st->tx_msgs);
    st->tx_scratch = calloc(b, sizeof *st->tx_scratch);
    st->gso_on = cfg->gso && probe_gso(cfg->fd);
    st->gso_segment_limit = UINT32_MAX;
    /* The batch size counts messages; with GSO each carries up to 64
     * datagrams, one iovec each. */
    st->tx_iov_capacity = st->gso_on ? b * BUDP_GSO_MAX_SEGMENTS : b;
    st->tx_iov = calloc(st->tx_iov_capacity, sizeof *st->tx_iov);
    st->tx_count = calloc(b, sizeof *st->tx_count);
    if (!st->rx_msgs || !st->rx_scratch || !st->tx_msgs || !st->tx_scratch ||
        !st->tx_iov || !st->tx_count) {
        mmsg_close(st);
        return -ENOMEM;
    }
    /* Options last: nothing can fail after them. */
    rc = budp_posix_base_open(&st->base, cfg, BUDP_BASE_GRO_CAPABLE, facts);
    if (rc < 0) {
        mmsg_close(st);
        return rc;
    }
    st->with_control = budp_config_wants_control(cfg) || facts->gro;
    *state = st;
    return 0;
}

/* Make rx_msgs[0..n) ready to receive into slots[0..n).  Entries whose
 * last receive went into the same slots, and were rearmed as they were
 * read back, are ready already: the inline socket's slots never change. */
static void arm_entries(struct mmsg_state *st, budp_rx_slot *slots, unsigned n,
                        const struct budp_rx_params *p)
{
    if (st->bound_capacity != p->capacity) {
        for (unsigned i = 0; i < st->batch; i++)
            budp_msg_bind_recv(&st->rx_msgs[i].msg_hdr, &st->rx_scratch[i],
                               p->capacity, st->with_control);
        st->bound_capacity = p->capacity;
        st->armed_slots = NULL;
    }
    if (slots == st->armed_slots && n <= st->armed_count)
        return;
    for (unsigned i = 0; i < n; i++)
        budp_msg_rearm_recv(&st->rx_msgs[i].msg_hdr, &st->rx_scratch[i],
                            budp_slot_buffer(&slots[i]), st->with_control);
    st->armed_slots = slots;
    st->armed_count = n;
}

static int mmsg_recv(void *state, budp_rx_slot *slots, unsigned n,
                     const struct budp_rx_params *p, struct budp_rx_summary *sum)
{
    struct mmsg_state *st = state;
    size_t control_room = budp_msg_control_room(st->with_control);
    int fd = st->base.fd, rc, over;

    if (n > st->batch)
        n = st->batch;
    arm_entries(st, slots, n, p);
    do
        rc = recvmmsg(fd, st->rx_msgs, n, MSG_DONTWAIT, NULL);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        st->armed_slots = NULL;   /* a failed call may have written any entry */
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    }
    /* Never trust a count above what was asked: the entries past n do
     * not exist, and of the rest only those the kernel wrote do. */
    over = (unsigned)rc > n;
    if (over)
        for (rc = 0; (unsigned)rc < n &&
                     st->rx_msgs[rc].msg_hdr.msg_namelen != BUDP_RX_NAME_UNFILLED;)
            rc++;
    /* Each entry is reset for the same slot as soon as it is read. */
    for (int i = 0; i < rc; i++) {
        struct msghdr *mh = &st->rx_msgs[i].msg_hdr;

        budp_msg_finish_recv(&slots[i], mh, st->rx_msgs[i].msg_len, p, sum);
        budp_msg_reset_recv(mh, control_room);
    }
    /* Entries the kernel did not report may still have been written. */
    if (over || (unsigned)rc < n)
        st->armed_slots = NULL;
    if (over)
        budp_rx_anomaly(p);
    return rc;
}

/* build_entries without GSO: one entry per datagram.  Each entry's iovec
 * is tx_iov[k], set once while entries stay one to one.  *bytes receives
 * the payload bytes of the entries. */
static unsigned build_single_entries(struct mmsg_state *st, const budp_datagram *d,
                                     unsigned n, const struct budp_tx_params *p,
                                     uint64_t *bytes)
{
    unsigned k, count = n < st->batch ? n : st->batch;
    uint64_t sum = 0;

    if (!st->tx_single_bound) {
        for (k = 0; k < st->batch; k++) {
            st->tx_msgs[k].msg_hdr.msg_iov = &st->tx_iov[k];
            st->tx_msgs[k].msg_hdr.msg_iovlen = 1;
            st->tx_msgs[k].msg_hdr.msg_flags = 0;
        }
        st->tx_single_bound = 1;
    }
    {
        /* Locals: the stores into the messages would otherwise make the
         * compiler load the arrays' addresses again for every datagram. */
        struct mmsghdr *msgs = st->tx_msgs;
        struct budp_tx_scratch *scratch = st->tx_scratch;
        struct iovec *iov = st->tx_iov;
        int family = p->family, ecn_on = p->ecn;
        const budp_addr *connected = budp_msg_connected_peer(p);
        struct budp_msg_last_name last = { NULL, NULL, 0 };

        for (k = 0; k < count; k++) {
            struct msghdr *mh = &msgs[k].msg_hdr;
            int rc;

            iov[k].iov_base = (void *)d[k].data;
            iov[k].iov_len = d[k].len;
            rc = budp_msg_prep_send_plain(mh, &scratch[k], &d[k], family, ecn_on,
                                          connected, &last);
            if (rc > 0)
                rc = budp_msg_prep_send_full(mh, &scratch[k], &iov[k], 1, &d[k], p, 0);
            if (rc < 0)
                break;
            sum += d[k].len;
        }
    }
    st->tx_count[0] = 1;
    *bytes = sum;
    return k;
}

/* Fill the send entries for d[0..n): returns the number of entries (at most
 * the batch size), in *used the datagrams they carry and in *bytes their
 * payload bytes. */
static unsigned build_entries(struct mmsg_state *st, const budp_datagram *d,
                              unsigned n, const struct budp_tx_params *p,
                              unsigned *used, uint64_t *bytes)
{
    unsigned entries = 0, dgrams = 0;
    uint64_t sum = 0;

    if (!st->gso_on) {
        *used = build_single_entries(st, d, n, p, bytes);
        return *used;
    }
    st->tx_single_bound = 0;   /* runs point entries anywhere in tx_iov */
    while (dgrams < n && entries < st->batch && dgrams < st->tx_iov_capacity) {
        unsigned room = st->tx_iov_capacity - dgrams;
        unsigned limit = room < BUDP_GSO_MAX_SEGMENTS ? room : BUDP_GSO_MAX_SEGMENTS;
        unsigned run = st->gso_on && d[dgrams].len <= st->gso_segment_limit
                           ? budp_gso_run(&d[dgrams], n - dgrams, limit, p->pacing) : 1;

        for (unsigned k = 0; k < run; k++) {
            st->tx_iov[dgrams + k].iov_base = (void *)d[dgrams + k].data;
            st->tx_iov[dgrams + k].iov_len = d[dgrams + k].len;
        }
        if (budp_msg_prep_send(&st->tx_msgs[entries].msg_hdr,
                               &st->tx_scratch[entries], &st->tx_iov[dgrams],
                               run, &d[dgrams], p,
                               run > 1 ? (uint16_t)d[dgrams].len : 0) < 0)
            break;
        st->tx_count[entries++] = run;
        for (unsigned k = 0; k < run; k++)
            sum += d[dgrams + k].len;
        dgrams += run;
    }
    *used = dgrams;
    *bytes = sum;
    return entries;
}

static int mmsg_send(void *state, const budp_datagram *d, unsigned n,
                     const struct budp_tx_params *p, struct budp_tx_report *rep)
{
    struct mmsg_state *st = state;
    int fd = st->base.fd;
    unsigned sent = 0;

    /* Set while the datagrams a GSO send was refused for go again without
     * GSO: only if they then go is GSO the cause, and turned off. */
    int testing_gso = 0;

    while (sent < n) {
        unsigned used, before = sent;
        uint64_t bytes;
        unsigned entries = build_entries(st, &d[sent], n - sent, p, &used, &bytes);
        int rc;

        if (entries == 0)
            return sent > 0 ? (int)sent : -EINVAL;
        rc = sendmmsg(fd, st->tx_msgs, entries, MSG_DONTWAIT);
        if (rc < 0) {
            int err = errno;
            if (err == EINTR)
                continue;
            if (testing_gso) {
                /* Refused without GSO too: the datagram, not GSO. */
                st->gso_on = 1;
                return sent > 0 ? (int)sent : -err;
            }
            /* A kernel or device that may refuse segmentation: try the same
             * datagrams without it. */
            if (st->tx_count[0] > 1 && (err == EIO || err == EINVAL)) {
                st->gso_on = 0;
                testing_gso = 1;
                continue;
            }
            /* Segments larger than the path MTU: only datagrams that large
             * go one by one (and get fragmented), smaller runs keep GSO. */
            if (st->tx_count[0] > 1 && err == EMSGSIZE) {
                st->gso_segment_limit = d[sent].len - 1;
                rep->gso_fallbacks++;
                continue;
            }
            return sent > 0 ? (int)sent : -err;
        }
        if (testing_gso) {
            rep->gso_fallbacks++;
            testing_gso = 0;
        }
        if ((unsigned)rc > entries) {
            rep->anomalies++;
            rc = (int)entries;
        }
        rep->syscalls++;
        if (used == entries) {
            sent += (unsigned)rc;   /* one datagram per entry */
        } else {
            for (int i = 0; i < rc; i++) {
                sent += st->tx_count[i];
                if (st->tx_count[i] > 1)
                    rep->coalesced++;
            }
        }
        if ((unsigned)rc == entries) {
            rep->bytes += bytes;
        } else {
            for (unsigned i = before; i < sent; i++)
                rep->bytes += d[i].len;
        }
        if ((unsigned)rc < entries)
            break;
    }
    return (int)sent;
}

const struct budp_backend budp_backend_mmsg = {
    .name = "mmsg",
    .id = BUDP_BACKEND_MMSG,
    .caps = BUDP_CAN_GRO | BUDP_CAN_GSO | BUDP_CAN_PKTINFO | BUDP_CAN_ECN |
            BUDP_CAN_TIMESTAMPS | BUDP_CAN_PACING | BUDP_CAN_ERRORS,
    .probe = mmsg_probe,
    .open = mmsg_open,
    .recv = mmsg_recv,
    .send = mmsg_send,
    .recv_errors = budp_posix_recv_errors,
    .poll_fd = budp_posix_poll_fd,
    .wait = budp_posix_wait,
    .wake = budp_posix_wake,
    .release = budp_posix_release,
    .close = mmsg_close,
};

#endif /* HAVE_RECVMMSG */
