/* backend_uring.c - io_uring (Linux 6.0 or later, through liburing): the
 * table, the probe, opening and closing, waiting.  The receiving half is
 * backend_uring_rx.c, the sending half backend_uring_tx.c; two rings, one
 * each, since liburing's rings are not for two threads at once. */
#include "build_config.h"

#include "backend.h"

/* Builds without configure compile every file: this one holds code only
 * where liburing was found. */
#if defined(BUDP_WITH_URING) && defined(__linux__)

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "backend_uring.h"
#include "posix_msg.h"
#include "sys.h"

unsigned budp_uring_pow2(unsigned v)
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
static void exit_rings(struct budp_uring *st)
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
    struct budp_uring *st = state;

    if (st == NULL)
        return;
    exit_rings(st);
    budp_slots_free(st->pool_slots, st->pool_memory);
    free(st->data_of);
    budp_tx_batch_close(&st->batch);
    free(st);
}

/* With BUDP_OPT_ERRORS the inline poll fd is posix_base's epoll: it should
 * wake for completions, and for the socket's error queue only (its data
 * goes to the ring, and a readable socket would wake a poller for nothing). */
static int watch_completions_and_errors(struct budp_uring *st)
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

static int uring_open(const struct budp_backend_config *cfg, void **state,
                      struct budp_backend_facts *facts)
{
    struct budp_uring *st = calloc(1, sizeof *st);
    int rc;

    if (st == NULL)
        return -ENOMEM;
    st->efd = -1;
    rc = budp_posix_base_open(&st->base, cfg, BUDP_BASE_GRO_CAPABLE, facts);
    if (rc < 0) {
        free(st);
        return rc;
    }
    facts->rx_headroom = (uint32_t)budp_slot_stride(budp_uring_header_bytes(cfg, facts));
    rc = budp_uring_tx_open(st, cfg);
    if (rc == 0)
        rc = budp_uring_rx_open(st, cfg, facts);
    if (rc == 0 && st->base.readable_fd >= 0)
        rc = watch_completions_and_errors(st);
    if (rc < 0) {
        budp_uring_rx_stop(st);
        budp_posix_release(&st->base);
        uring_close(st);
        return rc;
    }
    *state = st;
    return 0;
}

/* --- waiting and release ------------------------------------------------ */

static int uring_poll_fd(void *state)
{
    struct budp_uring *st = state;

    return st->base.readable_fd >= 0 ? st->base.readable_fd : st->efd;
}

static int uring_wait(void *state, unsigned what, int timeout_ms)
{
    struct budp_uring *st = state;
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

static void uring_release(void *state)
{
    struct budp_uring *st = state;

    budp_uring_rx_stop(st);
    exit_rings(st);
    budp_posix_release(&st->base);
}

static uint64_t uring_held(void *state)
{
    return ((struct budp_uring *)state)->held;
}

const struct budp_backend budp_backend_uring = {
    .name = "uring",
    .id = BUDP_BACKEND_URING,
    .caps = BUDP_CAN_GRO | BUDP_CAN_GSO | BUDP_CAN_PKTINFO | BUDP_CAN_ECN |
            BUDP_CAN_TIMESTAMPS | BUDP_CAN_PACING | BUDP_CAN_ERRORS |
            BUDP_CAN_ZEROCOPY,
    .probe = uring_probe,
    .open = uring_open,
    .recv = budp_uring_recv,
    .send = budp_uring_send,
    .recv_errors = budp_posix_recv_errors,
    .poll_fd = uring_poll_fd,
    .wait = uring_wait,
    .wake = budp_posix_wake,
    .stop_receiving = budp_uring_stop_receiving,
    .release = uring_release,
    .held = uring_held,
    .close = uring_close,
};

#endif /* BUDP_WITH_URING && __linux__ */
