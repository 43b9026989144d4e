/* backend_uring_rx.c - the io_uring backend's receiving half: one
 * multishot recvmsg fills buffers from a provided-buffer ring while the
 * application works, so a receive that finds completions queued makes no
 * system call.
 *
 * Buffers are swapped, never copied: the kernel fills a buffer of the
 * backend's; recv gives that buffer to the slot and the slot's old one
 * (free again, since the slot is being refilled) to the kernel.  Every
 * buffer has the same size and the same headroom before its data, where
 * the kernel writes the io_uring_recvmsg_out header, the source address
 * and the control messages.  The receive ring is touched by the receiving
 * thread only (and by release, once nothing receives). */
#include "build_config.h"

#include "backend.h"

/* Builds without configure compile every file: this one holds code only
 * where liburing was found. */
#if defined(BUDP_WITH_URING) && defined(__linux__)

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend_uring.h"
#include "options.h"
#include "posix_msg.h"
#include "sys.h"
#include "views.h"

/* Start (again) the multishot receive: once at open, and whenever the
 * kernel ended it (buffers ran out, an error, a cancellation when the
 * thread that started it exited). */
static int arm(struct budp_uring *st)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&st->rx);
    int rc;

    if (sqe == NULL)
        return -EBUSY;   /* not seen: the ring has no other requests */
    /* MSG_TRUNC: the length of a datagram longer than the buffer is its
     * whole length, which flags it truncated. */
    io_uring_prep_recvmsg_multishot(sqe, st->base.fd, &st->layout, MSG_TRUNC);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = URING_BUFFER_GROUP;
    io_uring_sqe_set_data64(sqe, URING_TAG_RECV);
    do
        rc = io_uring_submit(&st->rx);
    while (rc == -EINTR);
    if (rc < 0)
        return rc;
    st->armed = 1;
    st->armed_by = pthread_self();
    return 0;
}

/* Cancel the multishot receive and wait until the kernel has let go of it:
 * from any thread (a registration call, not the rings the receiving thread
 * reads).  Nothing to cancel is fine. */
static void cancel_now(struct budp_uring *st)
{
    struct io_uring_sync_cancel_reg reg;

    memset(&reg, 0, sizeof reg);
    reg.addr = URING_TAG_RECV;
    reg.timeout.tv_sec = -1;
    reg.timeout.tv_nsec = -1;
    (void)io_uring_register_sync_cancel(&st->rx, &reg);
}

/* The receive ring, its buffers, and the eventfd its completions signal. */
int budp_uring_rx_open(struct budp_uring *st, const struct budp_backend_config *cfg,
                       const struct budp_backend_facts *facts)
{
    uint32_t capacity = budp_slot_capacity(facts->gro, cfg->max_datagram);
    struct io_uring_params params;
    struct io_uring_buf_reg reg;
    unsigned want = budp_uring_pow2(cfg->batch_size < 8 ? 8 : cfg->batch_size);
    uint64_t stride;
    int rc;

    st->header = budp_uring_header_bytes(cfg, facts);
    st->buf_len = st->header + capacity;
    stride = budp_slot_stride((uint64_t)facts->rx_headroom + capacity);
    while (want > 8 && want * stride > URING_POOL_BYTES_MAX)
        want /= 2;
    st->entries = want;
    st->layout.msg_namelen = URING_NAME_BYTES;
    st->layout.msg_controllen = st->header - sizeof(struct io_uring_recvmsg_out) -
                                URING_NAME_BYTES;
    st->params.capacity = capacity;
    st->params.max_datagram = cfg->max_datagram;
    st->params.gro = facts->gro;

    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = 2 * st->entries;   /* every buffer's, and errors */
    if ((rc = io_uring_queue_init_params(4, &st->rx, &params)) < 0)
        return rc;
    st->rx_ready = 1;

    rc = budp_slots_alloc(&st->pool_slots, &st->pool_memory, st->entries, capacity,
                          facts->rx_headroom);
    st->data_of = calloc(st->entries, sizeof *st->data_of);
    if (rc < 0 || st->data_of == NULL)
        return -ENOMEM;
    st->br_bytes = st->entries * sizeof(struct io_uring_buf);
    st->br = mmap(NULL, st->br_bytes, PROT_READ | PROT_WRITE,
                  MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (st->br == MAP_FAILED) {
        st->br = NULL;
        return -ENOMEM;
    }
    io_uring_buf_ring_init(st->br);
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)st->br;
    reg.ring_entries = st->entries;
    reg.bgid = URING_BUFFER_GROUP;
    if ((rc = io_uring_register_buf_ring(&st->rx, &reg, 0)) < 0)
        return rc;
    st->br_registered = 1;
    for (unsigned i = 0; i < st->entries; i++) {
        st->data_of[i] = budp_slot_buffer(&st->pool_slots[i]);
        io_uring_buf_ring_add(st->br, st->data_of[i] - st->header, st->buf_len,
                              (unsigned short)i, (int)(st->entries - 1), (int)i);
    }
    io_uring_buf_ring_advance(st->br, (int)st->entries);

    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->efd < 0)
        return errno == ENOSYS ? -ENOTSUP : -errno;   /* nothing else will do */
    if ((rc = io_uring_register_eventfd(&st->rx, st->efd)) < 0)
        return rc;
    /* The kernel runs the receive as work of the thread that starts it,
     * interrupting that thread's blocking calls (EINTR from epoll_wait, as
     * with any io_uring).  A receiver thread starts it at its first recv,
     * so the application's threads never see that; inline, it starts now,
     * so that the poll fd works before the first budp_recv, and moves to
     * the thread of the first budp_recv. */
    if (cfg->threaded) {
        st->moved = 1;
        return 0;
    }
    return arm(st);
}

/* The message header the kernel wrote at the start of a buffer, as
 * posix_msg.c reads a recvmsg's: name, control messages, flags (the only
 * fields it reads). */
static void read_header(const struct budp_uring *st, struct io_uring_recvmsg_out *o,
                        struct msghdr *mh)
{
    mh->msg_name = io_uring_recvmsg_name(o);
    mh->msg_namelen = o->namelen < URING_NAME_BYTES ? o->namelen : URING_NAME_BYTES;
    mh->msg_controllen = o->controllen < st->layout.msg_controllen
                             ? o->controllen : st->layout.msg_controllen;
    mh->msg_control = mh->msg_controllen > 0
                          ? (void *)io_uring_recvmsg_cmsg_firsthdr(o, (struct msghdr *)&st->layout)
                          : NULL;
    mh->msg_flags = (int)o->flags;
}

/* The message header at the start of the buffer a datagram's completion
 * names, with the buffer's id in *id; NULL when the completion names no
 * buffer of ours or the kernel's header does not hold together. */
static struct io_uring_recvmsg_out *header_of(const struct budp_uring *st,
                                              const struct io_uring_cqe *cqe,
                                              unsigned *id)
{
    *id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    if (!(cqe->flags & IORING_CQE_F_BUFFER) || *id >= st->entries)
        return NULL;
    return io_uring_recvmsg_validate(st->data_of[*id] - st->header, cqe->res,
                                     (struct msghdr *)&st->layout);
}

/* What reading completions needs of the state, in locals: the stores into
 * slots and buffers would otherwise make the compiler load it again for
 * every datagram. */
struct reaper {
    struct io_uring_buf_ring *br;
    uint8_t **data_of;
    uint32_t header, buf_len, entries;
    int added;              /* buffers given back, not yet published */
};

/* Give buffer id back to the kernel, now holding data (the buffer of a
 * slot being refilled, or the same one when no slot takes it). */
static inline void give_back(struct reaper *r, unsigned id, uint8_t *data)
{
    r->data_of[id] = data;
    io_uring_buf_ring_add(r->br, data - r->header, r->buf_len, (unsigned short)id,
                          (int)(r->entries - 1), r->added++);
}

/* A datagram's completion: its buffer goes to slot (whose own goes to the
 * kernel), read as a recvmsg.  0, or -1 when the kernel's header does not
 * hold together (counted; a buffer of ours goes straight back). */
static inline int take(const struct budp_uring *st, struct reaper *r,
                       const struct io_uring_cqe *cqe, budp_rx_slot *slot,
                       const struct budp_rx_params *p, struct budp_rx_summary *sum)
{
    unsigned id;
    struct io_uring_recvmsg_out *o = header_of(st, cqe, &id);
    uint8_t *filled;
    struct msghdr mh;

    if (o == NULL) {
        if ((cqe->flags & IORING_CQE_F_BUFFER) && id < r->entries)
            give_back(r, id, r->data_of[id]);
        budp_rx_anomaly(p);
        return -1;
    }
    filled = r->data_of[id];
    give_back(r, id, budp_slot_buffer(slot));
    slot->data = filled;
    read_header(st, o, &mh);
    budp_msg_finish_recv(slot, &mh, o->payloadlen, p, sum);
    return 0;
}

/* Read up to n completions into slots.  *error receives the first error
 * met (reading stops there). */
static unsigned reap(struct budp_uring *st, budp_rx_slot *slots, unsigned n,
                     const struct budp_rx_params *p, struct budp_rx_summary *sum,
                     int *error)
{
    struct reaper r = { st->br, st->data_of, st->header, st->buf_len, st->entries, 0 };
    /* The completions posted so far, read once: only this thread moves the
     * head.  (io_uring_for_each_cqe reads the tail again at each one.) */
    struct io_uring_cqe *cqes = st->rx.cq.cqes;
    unsigned mask = st->rx.cq.ring_mask, head = *st->rx.cq.khead;
    unsigned ready = io_uring_smp_load_acquire(st->rx.cq.ktail) - head;
    unsigned seen = 0, got = 0;

    for (; seen < ready && got < n && *error == 0; seen++) {
        const struct io_uring_cqe *cqe = &cqes[(head + seen) & mask];

        if (cqe->user_data != URING_TAG_RECV)
            continue;
        if (!(cqe->flags & IORING_CQE_F_MORE))
            st->armed = 0;
        if (cqe->res >= 0) {
            if (take(st, &r, cqe, &slots[got], p, sum) == 0)
                got++;
        } else if (cqe->res != -ENOBUFS && cqe->res != -ECANCELED) {
            /* Out of buffers: the datagrams wait in the socket's queue
             * until the receive is started again, below.  Cancelled:
             * the thread that started it exited. */
            *error = cqe->res;
        }
    }
    if (r.added > 0)
        io_uring_buf_ring_advance(st->br, r.added);
    io_uring_cq_advance(&st->rx, seen);
    return got;
}

int budp_uring_recv(void *state, budp_rx_slot *slots, unsigned n,
                    const struct budp_rx_params *p, struct budp_rx_summary *sum)
{
    struct budp_uring *st = state;
    int error = 0, rc;
    unsigned got;

    if (st->stashed_error != 0) {
        error = st->stashed_error;
        st->stashed_error = 0;
        return error;
    }
    /* The kernel receives for the thread that started the request, as
     * work that thread runs (waking it when it sleeps).  Started at open,
     * it belongs to the opening thread; the first receive on another
     * thread (the receiver thread, an application's worker) starts it
     * again there: the cancellation's last completion comes after every
     * datagram taken, so nothing is lost or reordered. */
    if (!st->moved) {
        st->moved = 1;
        if (st->armed && !pthread_equal(st->armed_by, pthread_self()))
            cancel_now(st);
    }
    got = reap(st, slots, n, p, sum, &error);
    if (got == 0 && error == 0) {
        /* Nothing queued: reset the eventfd so that it polls readable only
         * for what comes next, then look once more for a completion posted
         * meanwhile (the read also runs the kernel's pending work). */
        uint64_t count;
        if (read(st->efd, &count, sizeof count) < 0 && errno != EAGAIN)
            return -errno;
        got = reap(st, slots, n, p, sum, &error);
    }
    if (!st->armed && !atomic_load(&st->stopped)) {
        if ((rc = arm(st)) < 0 && error == 0)
            error = rc;
        /* A shutdown that cancelled just before: cancel this one too. */
        if (rc == 0 && atomic_load(&st->stopped))
            cancel_now(st);
    }
    if (error != 0 && got > 0) {
        st->stashed_error = error;
        return (int)got;
    }
    return error != 0 ? error : (int)got;
}

/* How many datagrams a completion holds (GRO segments one by one). */
static uint64_t datagrams_in(struct budp_uring *st, const struct io_uring_cqe *cqe)
{
    unsigned id;
    struct io_uring_recvmsg_out *o = cqe->res >= 0 ? header_of(st, cqe, &id) : NULL;
    struct msghdr mh;
    budp_rx_slot scratch;
    struct budp_rx_summary sum = { 0, 0, 0 };

    if (o == NULL)
        return 0;
    memset(&scratch, 0, sizeof scratch);
    scratch.data = st->data_of[id];
    read_header(st, o, &mh);
    budp_msg_finish_recv(&scratch, &mh, o->payloadlen, &st->params, &sum);
    return budp_slot_datagrams(&scratch);
}

void budp_uring_rx_stop(struct budp_uring *st)
{
    struct io_uring_cqe *cqe;

    if (!st->rx_ready)
        return;
    if (st->armed) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&st->rx);

        if (sqe != NULL) {
            io_uring_prep_cancel64(sqe, URING_TAG_RECV, 0);
            io_uring_sqe_set_data64(sqe, URING_TAG_CANCEL);
            (void)io_uring_submit(&st->rx);
        }
    }
    /* What completed before the cancellation took effect is counted: every
     * completion until the receive's last, then those still queued. */
    for (;;) {
        int rc = st->armed ? io_uring_wait_cqe(&st->rx, &cqe)
                           : io_uring_peek_cqe(&st->rx, &cqe);

        if (rc == -EINTR)
            continue;
        if (rc < 0)
            break;
        if (cqe->user_data == URING_TAG_RECV) {
            st->held += datagrams_in(st, cqe);
            if (!(cqe->flags & IORING_CQE_F_MORE))
                st->armed = 0;
        }
        io_uring_cqe_seen(&st->rx, cqe);
    }
    if (st->br_registered)
        (void)io_uring_unregister_buf_ring(&st->rx, URING_BUFFER_GROUP);
    st->br_registered = 0;
    if (st->efd >= 0) {
        (void)io_uring_unregister_eventfd(&st->rx);
        budp_sys_close(st->efd);
        st->efd = -1;
    }
}

void budp_uring_stop_receiving(void *state)
{
    struct budp_uring *st = state;

    atomic_store(&st->stopped, 1);
    cancel_now(st);
}

#endif /* BUDP_WITH_URING && __linux__ */
