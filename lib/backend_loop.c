/* backend_loop.c - the portable backend: recvmsg/sendmsg, one per datagram,
 * until the kernel has no more or the batch is full.  Also the baseline the
 * batch backends are measured against. */
#include "build_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "backend.h"
#include "posix_base.h"
#include "posix_msg.h"

struct loop_state {
    struct budp_posix_base base;   /* first: the shared entries take it */
    int with_control;
    /* An error met after some datagrams were received is reported by the
     * next call, so the batch already read is not lost. */
    int deferred_error;
    struct budp_rx_scratch rx;
    struct budp_tx_scratch tx;
};

/* On Apple platforms loop sends through the same socket layer as msgx. */
#ifdef __APPLE__
#define LOOP_NEEDS BUDP_BASE_APPLE_SEND
#else
#define LOOP_NEEDS 0u
#endif

static int loop_probe(char *why, size_t size)
{
    snprintf(why, size, "recvmsg/sendmsg, one datagram per call");
    return BUDP_PROBE_READY;
}

static int loop_open(const struct budp_backend_config *cfg, void **state,
                     struct budp_backend_facts *facts)
{
    struct loop_state *st = calloc(1, sizeof *st);
    int rc;

    if (st == NULL)
        return -ENOMEM;
    rc = budp_posix_base_open(&st->base, cfg, LOOP_NEEDS, facts);
    if (rc < 0) {
        free(st);
        return rc;
    }
    st->with_control = budp_config_wants_control(cfg);
    *state = st;
    return 0;
}

static int loop_recv(void *state, budp_rx_slot *slots, unsigned n,
                     const struct budp_rx_params *p, struct budp_rx_summary *sum)
{
    struct loop_state *st = state;
    int fd = st->base.fd;
    unsigned got = 0;

    if (st->deferred_error != 0) {
        int err = st->deferred_error;
        st->deferred_error = 0;
        return err;
    }
    while (got < n) {
        struct msghdr mh;
        ssize_t len;

        budp_msg_prep_recv(&mh, &st->rx, &slots[got], p->capacity, st->with_control);
        len = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (len < 0) {
            int err = errno;
            if (err == EINTR)
                continue;
            if (err == EAGAIN || err == EWOULDBLOCK)
                break;
            if (got == 0)
                return -err;
            st->deferred_error = -err;
            break;
        }
        budp_msg_finish_recv(&slots[got], &mh, (size_t)len, p, sum);
        got++;
    }
    return (int)got;
}

static int loop_send(void *state, const budp_datagram *d, unsigned n,
                     const struct budp_tx_params *p, struct budp_tx_report *rep)
{
    struct loop_state *st = state;
    int fd = st->base.fd;
    unsigned sent = 0;

    while (sent < n) {
        struct msghdr mh;
        struct iovec iov = { (void *)d[sent].data, d[sent].len };
        ssize_t rc;

        if (budp_msg_prep_send(&mh, &st->tx, &iov, 1, &d[sent], p, 0) < 0)
            return sent > 0 ? (int)sent : -EINVAL;
        rc = sendmsg(fd, &mh, MSG_DONTWAIT);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return sent > 0 ? (int)sent : -errno;
        }
        rep->syscalls++;
        rep->bytes += d[sent].len;
        sent++;
    }
    return (int)sent;
}

static void loop_close(void *state)
{
    free(state);
}

const struct budp_backend budp_backend_loop = {
    .name = "loop",
    .id = BUDP_BACKEND_LOOP,
    .caps = BUDP_CAN_PKTINFO | BUDP_CAN_ECN | BUDP_CAN_TIMESTAMPS | BUDP_CAN_PACING |
            BUDP_CAN_ERRORS | BUDP_CALL_PER_DATAGRAM,
    .probe = loop_probe,
    .open = loop_open,
    .recv = loop_recv,
    .send = loop_send,
    .recv_errors = budp_posix_recv_errors,
    .poll_fd = budp_posix_poll_fd,
    .wait = budp_posix_wait,
    .wake = budp_posix_wake,
    .release = budp_posix_release,
    .close = loop_close,
};
