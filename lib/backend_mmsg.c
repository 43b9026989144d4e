/* backend_mmsg.c - recvmmsg/sendmmsg (Linux, FreeBSD), with UDP GRO on
 * receive and UDP_SEGMENT (GSO) on send where Linux offers them. */
#include "build_config.h"

#include "backend.h"

/* Builds without configure compile every file: this one holds code only
 * where the calls exist. */
#ifdef HAVE_RECVMMSG

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "posix_base.h"
#include "posix_msg.h"
#include "posix_txbatch.h"

struct mmsg_state {
    struct budp_posix_base base;   /* first: the shared entries take it */
    unsigned batch;
    int with_control;              /* GRO, PKTINFO or ECN on */
    uint32_t bound_capacity;       /* slot size the receive messages are
                                      bound for (0: not yet bound) */
    budp_rx_slot *armed_slots;     /* rx_msgs[0..armed_count) are ready to
                                      receive into these slots (NULL: none) */
    unsigned armed_count;
    struct mmsghdr *rx_msgs;
    struct budp_rx_scratch *rx_scratch;
    struct budp_tx_batch tx;
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
    budp_tx_batch_close(&st->tx);
    free(st);
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
    if (!st->rx_msgs || !st->rx_scratch ||
        budp_tx_batch_open(&st->tx, cfg->fd, b, cfg->gso) < 0) {
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

/* The batch call: sendmmsg. */
static int submit_sendmmsg(void *ctx, struct mmsghdr *msgs, unsigned n)
{
    int rc = sendmmsg(*(const int *)ctx, msgs, n, MSG_DONTWAIT);

    return rc < 0 ? -errno : rc;
}

static int mmsg_send(void *state, const budp_datagram *d, unsigned n,
                     const struct budp_tx_params *p, struct budp_tx_report *rep)
{
    struct mmsg_state *st = state;

    return budp_tx_batch_send(&st->tx, submit_sendmmsg, &st->base.fd, d, n, p, rep);
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
