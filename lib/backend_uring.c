/* backend_uring.c - io_uring (Linux 6.0 or later, through liburing): one
 * multishot recvmsg fills buffers from a provided-buffer ring while the
 * application works, so a receive that finds completions queued makes no
 * system call; sends go as linked sendmsg requests, one io_uring_enter a
 * batch, GSO trains optionally without a copy (IORING_OP_SENDMSG_ZC).
 *
 * Buffers are swapped, never copied: the kernel fills a buffer of the
 * backend's; recv gives that buffer to the slot and the slot's old one
 * (free again, since the slot is being refilled) to the kernel.  Every
 * buffer has the same size and the same headroom before its data, where
 * the kernel writes the io_uring_recvmsg_out header, the source address
 * and the control messages.
 *
 * Two rings: the receive ring is touched by the receiving thread only (and
 * by release, once nothing receives), the send ring under the socket's
 * send lock; liburing's rings are not for two threads at once. */
#include "build_config.h"

#include "backend.h"

/* Builds without configure compile every file: this one holds code only
 * where liburing was found. */
#if defined(BUDP_WITH_URING) && defined(__linux__)

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <liburing.h>

#include "options.h"
#include "posix_base.h"
#include "posix_msg.h"
#include "posix_txbatch.h"
#include "sys.h"

/* Room for a source address in each buffer: any sockaddr_in6 (28 bytes),
 * rounded to 8 so that the control messages after it stay aligned. */
#define NAME_BYTES 32u
/* The buffer group of the receive buffers (one per ring). */
#define BUFFER_GROUP 0
/* user_data of the multishot receive and of its cancellation. */
#define TAG_RECV   1u
#define TAG_CANCEL 2u
/* A zero-copy send pins each page of its payload as one fragment of a
 * socket buffer, which holds MAX_SKB_FRAGS (17): on Linux 6.18 a train over
 * 16 pages is refused with EMSGSIZE (measured), which the GSO fallback
 * would take for the path MTU.  Larger trains are copied, and a kernel
 * that refuses fewer pages teaches the socket its limit. */
#define ZEROCOPY_FRAGS_MAX 16u
/* The most memory the backend's own receive buffers take: past it, fewer
 * buffers than a batch (the socket's queue holds the rest meanwhile). */
#define POOL_BYTES_MAX (4u * 1024u * 1024u)

struct uring_state {
    struct budp_posix_base base;   /* first: the shared entries take it */
    int efd;                       /* eventfd: a completion was posted */

    /* Receiving: the receiving thread's, and release's. */
    struct io_uring rx;
    int rx_ready;                  /* rx was set up (io_uring_queue_exit) */
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    int br_registered;
    unsigned entries;              /* buffers, a power of two */
    uint8_t **data_of;             /* buffer id -> its data (header before) */
    budp_rx_slot *pool_slots;      /* the backend's own buffers */
    uint8_t *pool_memory;
    uint32_t header;               /* bytes the kernel writes before data */
    uint32_t buf_len;              /* header + capacity */
    struct msghdr layout;          /* the name and control room asked for */
    struct budp_rx_params params;  /* for held: no socket's at release */
    int armed;                     /* the multishot receive is running */
    int moved;                     /* recv has run once: the receive was
                                      moved to the receiving thread */
    pthread_t armed_by;            /* the thread that started it */
    atomic_int stopped;            /* shut down: never started again */
    int stashed_error;             /* met after slots were filled: next */
    uint64_t held;                 /* counted at release */

    /* Sending: under the socket's send lock. */
    struct io_uring tx;
    int tx_ready;
    struct budp_tx_batch batch;
    int zerocopy;
    uintptr_t page;                /* the page size, for zerocopy_fits */
    unsigned zc_frags_max;         /* pages a zero-copy train may touch */
};

static unsigned round_pow2(unsigned v)
{
    unsigned p = 1;

    while (p < v)
        p <<= 1;
    return p;
}

/* --- probe ------------------------------------------------------------ */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int probe_verdict;
static char probe_why[BUDP_REASON_BYTES];

/* Multishot recvmsg came with Linux 6.0. */
static int kernel_at_least_6(void)
{
    struct utsname u;
    int major = 0;

    return uname(&u) == 0 && sscanf(u.release, "%d", &major) == 1 && major >= 6;
}

static void probe_run(void)
{
    struct io_uring ring;
    struct io_uring_probe *p;
    int rc;

    probe_verdict = BUDP_PROBE_ABSENT;
    if (!kernel_at_least_6()) {
        snprintf(probe_why, sizeof probe_why,
                 "io_uring multishot recvmsg needs Linux 6.0");
        return;
    }
    /* Refused by the io_uring_disabled sysctl (EPERM), a seccomp filter or
     * a container's profile (EPERM, ENOSYS). */
    rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0) {
        snprintf(probe_why, sizeof probe_why, "io_uring refused by the kernel (%s)",
                 strerror(-rc));
        if (rc == -EPERM)
            probe_verdict = -EPERM;
        return;
    }
    p = io_uring_get_probe_ring(&ring);
    if (p == NULL || !io_uring_opcode_supported(p, IORING_OP_RECVMSG) ||
        !io_uring_opcode_supported(p, IORING_OP_SENDMSG)) {
        snprintf(probe_why, sizeof probe_why, "io_uring without recvmsg/sendmsg");
    } else {
        snprintf(probe_why, sizeof probe_why,
                 "io_uring, no faster than recvmmsg where measured "
                 "(docs/PERFORMANCE.md)");
        probe_verdict = BUDP_PROBE_ASKED_ONLY;
    }
    if (p != NULL)
        io_uring_free_probe(p);
    io_uring_queue_exit(&ring);
}

static int uring_probe(char *why, size_t size)
{
    (void)pthread_once(&probe_once, probe_run);
    snprintf(why, size, "%s", probe_why);
    return probe_verdict;
}

/* --- open and close ---------------------------------------------------- */

/* The rings and the buffer ring go back to the kernel: at release, since
 * their fds are the system's, or at a failed open. */
static void exit_rings(struct uring_state *st)
{
    if (st->rx_ready)
        io_uring_queue_exit(&st->rx);
    if (st->tx_ready)
        io_uring_queue_exit(&st->tx);
    st->rx_ready = st->tx_ready = 0;
    if (st->br != NULL)
        munmap(st->br, st->br_bytes);
    st->br = NULL;
}

static void uring_close(void *state)
{
    struct uring_state *st = state;

    if (st == NULL)
        return;
    exit_rings(st);
    budp_slots_free(st->pool_slots, st->pool_memory);
    free(st->data_of);
    budp_tx_batch_close(&st->batch);
    free(st);
}

/* Start (again) the multishot receive: once at open, and whenever the
 * kernel ended it (buffers ran out, an error, a cancellation when the
 * thread that started it exited). */
static int arm(struct uring_state *st)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&st->rx);
    int rc;

    if (sqe == NULL)
        return -EBUSY;   /* not seen: the ring has no other requests */
    /* MSG_TRUNC: the length of a datagram longer than the buffer is its
     * whole length, which flags it truncated. */
    io_uring_prep_recvmsg_multishot(sqe, st->base.fd, &st->layout, MSG_TRUNC);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUFFER_GROUP;
    io_uring_sqe_set_data64(sqe, TAG_RECV);
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
static void cancel_now(struct uring_state *st)
{
    struct io_uring_sync_cancel_reg reg;

    memset(&reg, 0, sizeof reg);
    reg.addr = TAG_RECV;
    reg.timeout.tv_sec = -1;
    reg.timeout.tv_nsec = -1;
    (void)io_uring_register_sync_cancel(&st->rx, &reg);
}

/* The receive ring, its buffers, and the eventfd its completions signal. */
static int open_receive(struct uring_state *st, const struct budp_backend_config *cfg,
                        const struct budp_backend_facts *facts)
{
    uint32_t capacity = budp_slot_capacity(facts->gro, cfg->max_datagram);
    size_t control = budp_msg_control_room(budp_config_wants_control(cfg) || facts->gro);
    struct io_uring_params params;
    struct io_uring_buf_reg reg;
    unsigned want = round_pow2(cfg->batch_size < 8 ? 8 : cfg->batch_size);
    uint64_t stride;
    int rc;

    st->header = (uint32_t)(sizeof(struct io_uring_recvmsg_out) + NAME_BYTES + control);
    st->buf_len = st->header + capacity;
    stride = budp_slot_stride((uint64_t)facts->rx_headroom + capacity);
    while (want > 8 && want * stride > POOL_BYTES_MAX)
        want /= 2;
    st->entries = want;
    st->layout.msg_namelen = NAME_BYTES;
    st->layout.msg_controllen = control;
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
    reg.bgid = BUFFER_GROUP;
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
    return arm(st);
}

/* With BUDP_OPT_ERRORS the inline poll fd is posix_base's epoll: it should
 * wake for completions, and for the socket's error queue only (its data
 * goes to the ring, and a readable socket would wake a poller for nothing). */
static int watch_completions_and_errors(struct uring_state *st)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof ev);
    ev.events = 0;   /* EPOLLERR is always reported */
    if (epoll_ctl(st->base.readable_fd, EPOLL_CTL_MOD, st->base.fd, &ev) < 0)
        return -errno;
    ev.events = EPOLLIN;
    if (epoll_ctl(st->base.readable_fd, EPOLL_CTL_ADD, st->efd, &ev) < 0)
        return -errno;
    return 0;
}

static int open_send(struct uring_state *st, const struct budp_backend_config *cfg)
{
    /* SUBMIT_ALL: a request refused as it is read does not stop the
     * ones after it from going in (they fail through the link, with a
     * completion each, so every request is accounted for). */
    int rc = io_uring_queue_init(round_pow2(cfg->batch_size), &st->tx,
                                 IORING_SETUP_SUBMIT_ALL);

    if (rc < 0)
        return rc;
    st->tx_ready = 1;
    if (cfg->zerocopy) {
        struct io_uring_probe *p = io_uring_get_probe_ring(&st->tx);
        int have = p != NULL && io_uring_opcode_supported(p, IORING_OP_SENDMSG_ZC);

        if (p != NULL)
            io_uring_free_probe(p);
        if (!have)
            return -ENOTSUP;
        st->zerocopy = 1;
        st->page = (uintptr_t)sysconf(_SC_PAGESIZE);
        st->zc_frags_max = ZEROCOPY_FRAGS_MAX;
    }
    return budp_tx_batch_open(&st->batch, cfg->fd, cfg->batch_size, cfg->gso);
}

/* Undo what open_receive started with the kernel, so that nothing is
 * written into the buffers afterwards. */
static void stop_receive(struct uring_state *st);

static int uring_open(const struct budp_backend_config *cfg, void **state,
                      struct budp_backend_facts *facts)
{
    struct uring_state *st = calloc(1, sizeof *st);
    size_t control;
    int rc;

    if (st == NULL)
        return -ENOMEM;
    st->efd = -1;
    rc = budp_posix_base_open(&st->base, cfg, BUDP_BASE_GRO_CAPABLE, facts);
    if (rc < 0) {
        free(st);
        return rc;
    }
    control = budp_msg_control_room(budp_config_wants_control(cfg) || facts->gro);
    facts->rx_headroom = (uint32_t)budp_slot_stride(sizeof(struct io_uring_recvmsg_out) +
                                                    NAME_BYTES + control);
    rc = open_send(st, cfg);
    if (rc == 0)
        rc = open_receive(st, cfg, facts);
    if (rc == 0 && st->base.readable_fd >= 0)
        rc = watch_completions_and_errors(st);
    if (rc < 0) {
        stop_receive(st);
        budp_posix_release(&st->base);
        uring_close(st);
        return rc;
    }
    *state = st;
    return 0;
}

/* --- receive ----------------------------------------------------------- */

/* The message header the kernel wrote at the start of a buffer, as
 * posix_msg.c reads a recvmsg's: name, control messages, flags (the only
 * fields it reads). */
static void read_header(const struct uring_state *st, struct io_uring_recvmsg_out *o,
                        struct msghdr *mh)
{
    mh->msg_name = io_uring_recvmsg_name(o);
    mh->msg_namelen = o->namelen < NAME_BYTES ? o->namelen : NAME_BYTES;
    mh->msg_controllen = o->controllen < st->layout.msg_controllen
                             ? o->controllen : st->layout.msg_controllen;
    mh->msg_control = mh->msg_controllen > 0
                          ? (void *)io_uring_recvmsg_cmsg_firsthdr(o, (struct msghdr *)&st->layout)
                          : NULL;
    mh->msg_flags = (int)o->flags;
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
 * hold together (counted; the buffer goes straight back). */
static inline int take(const struct uring_state *st, struct reaper *r,
                       const struct io_uring_cqe *cqe, budp_rx_slot *slot,
                       const struct budp_rx_params *p, struct budp_rx_summary *sum)
{
    unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    uint8_t *filled;
    struct io_uring_recvmsg_out *o;
    struct msghdr mh;

    if (!(cqe->flags & IORING_CQE_F_BUFFER) || id >= r->entries) {
        budp_rx_anomaly(p);
        return -1;
    }
    filled = r->data_of[id];
    o = io_uring_recvmsg_validate(filled - r->header, cqe->res,
                                  (struct msghdr *)&st->layout);
    if (o == NULL) {
        give_back(r, id, filled);
        budp_rx_anomaly(p);
        return -1;
    }
    give_back(r, id, budp_slot_buffer(slot));
    slot->data = filled;
    read_header(st, o, &mh);
    budp_msg_finish_recv(slot, &mh, o->payloadlen, p, sum);
    return 0;
}

/* Read up to n completions into slots.  *error receives the first error
 * met (reading stops there). */
static unsigned reap(struct uring_state *st, budp_rx_slot *slots, unsigned n,
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

        if (cqe->user_data != TAG_RECV)
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

static int uring_recv(void *state, budp_rx_slot *slots, unsigned n,
                      const struct budp_rx_params *p, struct budp_rx_summary *sum)
{
    struct uring_state *st = state;
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

/* --- send --------------------------------------------------------------- */

/* The pages a zero-copy send of mh's payload pins, each one fragment (a
 * buffer that goes on where the one before it ended, inside a page, shares
 * that page's), counted up to limit + 1; *bytes receives the payload's
 * length. */
static unsigned train_pages(const struct msghdr *mh, uintptr_t page, unsigned limit,
                            uint64_t *bytes)
{
    uintptr_t end = 0;
    unsigned frags = 0;

    *bytes = 0;
    for (size_t i = 0; i < (size_t)mh->msg_iovlen && frags <= limit; i++) {
        uintptr_t start = (uintptr_t)mh->msg_iov[i].iov_base;
        size_t len = mh->msg_iov[i].iov_len;

        if (len == 0)
            continue;
        frags += (unsigned)((start + len - 1) / page - start / page + 1);
        if (start == end && start % page != 0)
            frags--;
        end = start + len;
        *bytes += len;
    }
    return frags;
}

/* 1 when mh is a GSO train worth sending without a copy: at least
 * BUDP_ZEROCOPY_MIN_BYTES, in few enough pages. */
static int zerocopy_fits(const struct uring_state *st, const struct msghdr *mh)
{
    uint64_t bytes;

    return mh->msg_iovlen > 1 &&
           train_pages(mh, st->page, st->zc_frags_max, &bytes) <= st->zc_frags_max &&
           bytes >= BUDP_ZEROCOPY_MIN_BYTES;
}

/* One linked sendmsg request per message, so that they go in order and
 * the first failure stops the rest; one io_uring_enter.  It returns once
 * every request has completed and every zero-copy buffer has been let go,
 * so the caller's memory is free again: how many went (the first ones:
 * the failure, if any, is msgs[went]), the first failure's error in
 * *error (0: none). */
static unsigned submit_chain(struct uring_state *st, struct mmsghdr *msgs, unsigned n,
                             int *error)
{
    unsigned results = 0, notices = 0, went = 0;
    int rc;

    *error = 0;
    for (unsigned k = 0; k < n; k++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&st->tx);
        struct msghdr *mh = &msgs[k].msg_hdr;

        if (sqe == NULL) {
            *error = -EBUSY;   /* not seen: the ring holds a batch */
            return 0;
        }
        if (st->zerocopy && zerocopy_fits(st, mh))
            io_uring_prep_sendmsg_zc(sqe, st->base.fd, mh, MSG_DONTWAIT);
        else
            io_uring_prep_sendmsg(sqe, st->base.fd, mh, MSG_DONTWAIT);
        io_uring_sqe_set_data64(sqe, k);
        if (k + 1 < n)
            sqe->flags |= IOSQE_IO_LINK;
    }
    /* Every request goes in before any result is read: one left in the
     * queue would go out with the next batch, pointing at this one's
     * buffers.  The kernel short of memory (EAGAIN), or of room for
     * completions (EBUSY), is waited out. */
    for (unsigned submitted = 0; submitted < n;) {
        rc = io_uring_submit_and_wait(&st->tx, n - submitted);
        if (rc > 0)
            submitted += (unsigned)rc;
        else if (rc == -EAGAIN || rc == -EBUSY)
            budp_sys_sleep_us(50);
        else if (rc != -EINTR && rc != 0) {
            *error = rc;   /* not seen: the ring and its requests are sound */
            return 0;
        }
    }
    while (results < n || notices > 0) {
        struct io_uring_cqe *cqe;

        rc = io_uring_wait_cqe(&st->tx, &cqe);
        if (rc == -EINTR)
            continue;
        if (rc < 0) {
            *error = rc;   /* not seen: waiting on a live ring */
            return went;
        }
        if (cqe->flags & IORING_CQE_F_NOTIF) {
            notices--;
        } else {
            results++;
            if (cqe->flags & IORING_CQE_F_MORE)
                notices++;
            if (cqe->res < 0 && *error == 0)
                *error = cqe->res;
            else if (*error == 0)
                went++;
        }
        io_uring_cqe_seen(&st->tx, cqe);
    }
    return went;
}

/* The batch call.  A zero-copy train the kernel refuses for its size
 * (EMSGSIZE: more pages than this kernel takes) teaches the socket the
 * limit, and goes again, with the rest, copied. */
static int submit_linked(void *ctx, struct mmsghdr *msgs, unsigned n)
{
    struct uring_state *st = ctx;
    unsigned done = 0;

    for (;;) {
        unsigned went;
        int error;

        went = submit_chain(st, msgs + done, n - done, &error);
        done += went;
        if (error == -EMSGSIZE && st->zerocopy &&
            zerocopy_fits(st, &msgs[done].msg_hdr)) {
            uint64_t bytes;
            unsigned pages = train_pages(&msgs[done].msg_hdr, st->page,
                                         st->zc_frags_max, &bytes);

            st->zc_frags_max = pages > 1 ? pages - 1 : 1;
            continue;
        }
        if (error == 0 || done > 0)
            return (int)done;
        return error;
    }
}

static int uring_send(void *state, const budp_datagram *d, unsigned n,
                      const struct budp_tx_params *p, struct budp_tx_report *rep)
{
    struct uring_state *st = state;

    return budp_tx_batch_send(&st->batch, submit_linked, st, d, n, p, rep);
}

/* --- waiting and release ------------------------------------------------ */

static int uring_poll_fd(void *state)
{
    struct uring_state *st = state;

    return st->base.readable_fd >= 0 ? st->base.readable_fd : st->efd;
}

static int uring_wait(void *state, unsigned what, int timeout_ms)
{
    struct uring_state *st = state;
    /* The socket only for its error queue: its data arrives as
     * completions. */
    struct budp_sys_pollfd p[3] = { { st->base.wake.read_fd, 0, 0 },
                                    { st->efd, 0, 0 },
                                    { st->base.fd, 0, 1 } };
    unsigned count = !(what & BUDP_WAIT_SOCKET) ? 1 : st->base.readable_fd >= 0 ? 3 : 2;
    int rc;

    if ((what & BUDP_WAIT_SOCKET) && io_uring_cq_ready(&st->rx) > 0)
        return 1;
    rc = budp_sys_poll(p, count, timeout_ms);
    if (rc > 0 && p[0].ready && (what & BUDP_WAIT_TAKE))
        budp_notify_drain(&st->base.wake);
    return rc;
}

/* How many datagrams a completion holds (GRO segments one by one). */
static uint64_t datagrams_in(struct uring_state *st, const struct io_uring_cqe *cqe)
{
    unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    struct io_uring_recvmsg_out *o;
    struct msghdr mh;
    budp_rx_slot scratch;
    struct budp_rx_summary sum = { 0, 0, 0 };

    if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER) || id >= st->entries)
        return 0;
    o = io_uring_recvmsg_validate(st->data_of[id] - st->header, cqe->res, &st->layout);
    if (o == NULL)
        return 0;
    memset(&scratch, 0, sizeof scratch);
    scratch.data = st->data_of[id];
    read_header(st, o, &mh);
    budp_msg_finish_recv(&scratch, &mh, o->payloadlen, &st->params, &sum);
    if (scratch.segment_size == 0)
        return 1;
    return (scratch.len + scratch.segment_size - 1) / scratch.segment_size;
}

static void stop_receive(struct uring_state *st)
{
    struct io_uring_cqe *cqe;

    if (!st->rx_ready)
        return;
    if (st->armed) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&st->rx);

        if (sqe != NULL) {
            io_uring_prep_cancel64(sqe, TAG_RECV, 0);
            io_uring_sqe_set_data64(sqe, TAG_CANCEL);
            (void)io_uring_submit(&st->rx);
        }
    }
    /* What completed before the cancellation took effect is counted. */
    while (st->armed) {
        int rc = io_uring_wait_cqe(&st->rx, &cqe);

        if (rc == -EINTR)
            continue;
        if (rc < 0)
            break;
        if (cqe->user_data == TAG_RECV) {
            st->held += datagrams_in(st, cqe);
            if (!(cqe->flags & IORING_CQE_F_MORE))
                st->armed = 0;
        }
        io_uring_cqe_seen(&st->rx, cqe);
    }
    while (io_uring_peek_cqe(&st->rx, &cqe) == 0) {
        if (cqe->user_data == TAG_RECV)
            st->held += datagrams_in(st, cqe);
        io_uring_cqe_seen(&st->rx, cqe);
    }
    if (st->br_registered)
        (void)io_uring_unregister_buf_ring(&st->rx, BUFFER_GROUP);
    st->br_registered = 0;
    if (st->efd >= 0) {
        (void)io_uring_unregister_eventfd(&st->rx);
        budp_sys_close(st->efd);
        st->efd = -1;
    }
}

static void uring_stop_receiving(void *state)
{
    struct uring_state *st = state;

    atomic_store(&st->stopped, 1);
    cancel_now(st);
}

static void uring_release(void *state)
{
    struct uring_state *st = state;

    stop_receive(st);
    exit_rings(st);
    budp_posix_release(&st->base);
}

static uint64_t uring_held(void *state)
{
    return ((struct uring_state *)state)->held;
}

const struct budp_backend budp_backend_uring = {
    .name = "uring",
    .id = BUDP_BACKEND_URING,
    .caps = BUDP_CAN_GRO | BUDP_CAN_GSO | BUDP_CAN_PKTINFO | BUDP_CAN_ECN |
            BUDP_CAN_TIMESTAMPS | BUDP_CAN_PACING | BUDP_CAN_ERRORS |
            BUDP_CAN_ZEROCOPY,
    .probe = uring_probe,
    .open = uring_open,
    .recv = uring_recv,
    .send = uring_send,
    .recv_errors = budp_posix_recv_errors,
    .poll_fd = uring_poll_fd,
    .wait = uring_wait,
    .wake = budp_posix_wake,
    .stop_receiving = uring_stop_receiving,
    .release = uring_release,
    .held = uring_held,
    .close = uring_close,
};

#endif /* BUDP_WITH_URING && __linux__ */
