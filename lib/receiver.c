/* receiver.c - the receiver thread and the consumer's side of the ring.
 *
 * Wake-ups, both ways, follow one pattern: the side that may sleep first
 * announces it (a flag, stored sequentially consistent), then looks once
 * more at the other side's index; the other side publishes its index
 * (sequentially consistent) and then looks at the flag.  One of the two
 * always sees the other, so no wake-up is lost. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "receiver.h"
#include "ring.h"

enum consumer_state {
    CONSUMER_WAITING = 0,   /* notify fd quiet; the producer must signal */
    CONSUMER_SIGNALLED = 1  /* notify fd readable */
};

struct budp_receiver {
    struct budp_ring ring;
    struct budp_notify consumer_fd;  /* the poll fd: data or error queued */
    struct budp_notify receiver_fd;  /* wakes the thread: stop, slots freed,
                                        callback set */
    pthread_t thread;
    atomic_int stop;
    atomic_int consumer_state;
    atomic_int producer_waiting;     /* receiver asleep on a full ring */
    atomic_int pending_error;        /* transient, reported once */
    atomic_int fatal_error;          /* the thread has stopped for it */
    int exiting_self;                /* the thread closes the socket itself */

    int overflow;                    /* BUDP_OVERFLOW_* */
    int callback_mode;               /* BUDP_OPT_CALLBACK_THREAD */
    pthread_mutex_t callback_lock;   /* callback-thread mode: fn/user */
    atomic_int callback_set;         /* callback-thread mode: start reading */

    /* Consumer side. */
    uint32_t read;                   /* first slot with unviewed data */
    uint32_t read_offset;            /* bytes of that slot viewed (GRO) */

    /* OVERFLOW_DROP: where datagrams that do not fit are received. */
    struct budp_rx_slot *drop_slots;
    uint8_t *drop_memory;
};

int budp_receiver_poll_fd(const struct budp_receiver *r)
{
    return r->callback_mode ? -ENOTSUP : r->consumer_fd.read_fd;
}

static void signal_consumer(struct budp_receiver *r)
{
    int expected = CONSUMER_WAITING;

    if (atomic_compare_exchange_strong(&r->consumer_state, &expected,
                                       CONSUMER_SIGNALLED))
        budp_notify_signal(&r->consumer_fd);
}

/* Record an error met by the thread for the consumer's next call. */
static void report_error(struct budp_socket *s, int err)
{
    struct budp_receiver *r = s->receiver;

    BUDP_STAT_ADD(&s->stats, rx_errors, 1);
    if (budp_error_is_fatal(err))
        atomic_store(&r->fatal_error, err);
    else
        atomic_store(&r->pending_error, err);
    signal_consumer(r);
}

/* Sleep until fd is readable or the thread is woken.  Returns 0, or -1 when
 * the thread must stop. */
static int sleep_on(struct budp_receiver *r, int fd)
{
    struct pollfd p[2];
    int n = 0;

    p[n].fd = r->receiver_fd.read_fd;
    p[n].events = POLLIN;
    p[n++].revents = 0;
    if (fd >= 0) {
        p[n].fd = fd;
        p[n].events = POLLIN;
        p[n++].revents = 0;
    }
    if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
        return -1;
    if (p[0].revents)
        budp_notify_drain(&r->receiver_fd);
    return atomic_load(&r->stop) ? -1 : 0;
}

/* The ring is full and the policy is DROP: read a batch anyway and count it. */
static int drop_batch(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;
    int n = s->backend->recv(s->backend_rx, s->fd, r->drop_slots, s->batch_size,
                             &s->rx_params);
    uint64_t dropped = 0;

    if (n <= 0)
        return n;
    BUDP_STAT_ADD(&s->stats, rx_syscalls, budp_backend_rx_calls(s->backend, n));
    for (int i = 0; i < n; i++)
        dropped += budp_slot_datagrams(&r->drop_slots[i]);
    BUDP_STAT_ADD(&s->stats, rx_dropped, dropped);
    return n;
}

/* Callback-thread mode: hand n filled slots to the callback at once.
 * Returns 1 when the callback closed the socket. */
static int deliver_to_callback(struct budp_socket *s, struct budp_rx_slot *slots,
                               unsigned n)
{
    struct budp_receiver *r = s->receiver;
    struct budp_view_cursor cur = { 0, 0 };
    int closing = 0;

    pthread_mutex_lock(&r->callback_lock);
    while (cur.slot < n && !closing) {
        struct budp_view_tally tally;
        unsigned k;

        memset(&tally, 0, sizeof tally);
        k = budp_views_fill(slots, n, &cur, s->views, s->view_capacity,
                            s->rx_params.max_datagram, &tally);
        budp_stats_add_tally(s, &tally);
        if (s->callback != NULL)
            closing = budp_run_callback(s, s->views, k);
    }
    pthread_mutex_unlock(&r->callback_lock);
    return closing;
}

/* Committed slots the consumer has not released yet. */
static uint32_t ring_filled(struct budp_receiver *r)
{
    return atomic_load_explicit(&r->ring.tail, memory_order_relaxed) -
           atomic_load_explicit(&r->ring.head, memory_order_acquire);
}

static void *receiver_main(void *arg)
{
    struct budp_socket *s = arg;
    struct budp_receiver *r = s->receiver;
    /* While datagrams keep coming, a sleeping consumer is woken once the
     * ring is half full rather than after every batch: each wake-up costs a
     * context switch on both sides.  It is woken at once when the socket
     * runs dry or the ring fills, so a quiet flow waits for nothing. */
    uint32_t wake_threshold = r->ring.capacity / 2;
    int wake_pending = 0;

    while (!atomic_load(&r->stop)) {
        struct budp_rx_slot *first;
        uint32_t room;
        int n;

        if (r->callback_mode && !atomic_load(&r->callback_set)) {
            if (sleep_on(r, -1) < 0)
                break;
            continue;
        }
        room = budp_ring_free_run(&r->ring, &first);
        if (room == 0) {
            /* Full: the consumer must run now, whatever the threshold. */
            signal_consumer(r);
            wake_pending = 0;
            if (r->overflow == BUDP_OVERFLOW_DROP) {
                n = drop_batch(s);
                if (n < 0)
                    report_error(s, n);
                if (n == 0 && sleep_on(r, s->fd) < 0)
                    break;
                if (n < 0 && budp_error_is_fatal(n))
                    break;
                continue;
            }
            BUDP_STAT_ADD(&s->stats, rx_ring_full, 1);
            atomic_store(&r->producer_waiting, 1);
            if (budp_ring_free_run(&r->ring, &first) == 0 && sleep_on(r, -1) < 0)
                break;
            atomic_store(&r->producer_waiting, 0);
            continue;
        }
        if (room > s->batch_size)
            room = s->batch_size;
        n = s->backend->recv(s->backend_rx, s->fd, first, room, &s->rx_params);
        if (n < 0) {
            report_error(s, n);
            if (budp_error_is_fatal(n))
                break;
            continue;
        }
        if (n == 0) {
            if (wake_pending) {
                signal_consumer(r);
                wake_pending = 0;
            }
            if (sleep_on(r, s->fd) < 0)
                break;
            continue;
        }
        BUDP_STAT_ADD(&s->stats, rx_syscalls, budp_backend_rx_calls(s->backend, n));
        if (r->callback_mode) {
            if (deliver_to_callback(s, first, (unsigned)n)) {
                /* budp_close ran inside the callback on this thread: nobody
                 * can join it, so it tears the socket down and leaves. */
                r->exiting_self = 1;
                pthread_detach(pthread_self());
                budp_socket_destroy(s);
                return NULL;
            }
            continue;
        }
        budp_ring_commit(&r->ring, (uint32_t)n);
        wake_pending = 1;
        if (ring_filled(r) >= wake_threshold) {
            signal_consumer(r);
            wake_pending = 0;
        }
    }
    return NULL;
}

static void receiver_free(struct budp_receiver *r)
{
    budp_ring_destroy(&r->ring);
    budp_notify_close(&r->consumer_fd);
    budp_notify_close(&r->receiver_fd);
    budp_slots_free(r->drop_slots, r->drop_memory);
    pthread_mutex_destroy(&r->callback_lock);
    free(r);
}

int budp_receiver_start(struct budp_socket *s)
{
    struct budp_receiver *r = calloc(1, sizeof *r);
    int rc;

    if (r == NULL)
        return -ENOMEM;
    r->consumer_fd.read_fd = r->consumer_fd.write_fd = -1;
    r->receiver_fd.read_fd = r->receiver_fd.write_fd = -1;
    pthread_mutex_init(&r->callback_lock, NULL);
    r->overflow = (int)budp_opt(&s->opts, BUDP_OPT_OVERFLOW);
    r->callback_mode = (int)budp_opt(&s->opts, BUDP_OPT_CALLBACK_THREAD);
    atomic_init(&r->stop, 0);
    atomic_init(&r->callback_set, 0);
    atomic_init(&r->consumer_state, CONSUMER_WAITING);
    atomic_init(&r->producer_waiting, 0);
    atomic_init(&r->pending_error, 0);
    atomic_init(&r->fatal_error, 0);

    rc = budp_ring_init(&r->ring, (uint32_t)budp_opt(&s->opts, BUDP_OPT_RING_CAPACITY),
                        s->rx_params.capacity);
    if (rc == 0)
        rc = budp_notify_open(&r->consumer_fd);
    if (rc == 0)
        rc = budp_notify_open(&r->receiver_fd);
    if (rc == 0 && r->overflow == BUDP_OVERFLOW_DROP && !r->callback_mode)
        rc = budp_slots_alloc(&r->drop_slots, &r->drop_memory, s->batch_size,
                              s->rx_params.capacity);
    if (rc < 0) {
        receiver_free(r);
        return rc;
    }
    s->receiver = r;
    rc = pthread_create(&r->thread, NULL, receiver_main, s);
    if (rc != 0) {
        s->receiver = NULL;
        receiver_free(r);
        return -rc;
    }
    return 0;
}

void budp_receiver_stop(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;

    if (!r->exiting_self) {
        atomic_store(&r->stop, 1);
        budp_notify_signal(&r->receiver_fd);
        pthread_join(r->thread, NULL);
    }
    s->receiver = NULL;
    receiver_free(r);
}

/* Consumer: give back the slots whose views the previous call handed out. */
static void release_previous(struct budp_receiver *r)
{
    if (atomic_load_explicit(&r->ring.head, memory_order_relaxed) == r->read)
        return;
    budp_ring_release(&r->ring, r->read);
    if (atomic_exchange(&r->producer_waiting, 0))
        budp_notify_signal(&r->receiver_fd);
}

/* Consumer: after taking, keep the poll fd readable while something is
 * queued, and quiet it once a call finds nothing.  A call that handed
 * datagrams out leaves it as it is: by the poll fd's contract the consumer
 * calls again before sleeping, and a busy consumer then costs the producer
 * no eventfd write per batch.  took: what this call handed out. */
static void settle_poll_fd(struct budp_receiver *r, unsigned took)
{
    if (budp_ring_ready(&r->ring, r->read) > 0) {
        signal_consumer(r);
        return;
    }
    if (took > 0)
        return;
    budp_notify_drain(&r->consumer_fd);
    atomic_store(&r->consumer_state, CONSUMER_WAITING);
    if (budp_ring_ready(&r->ring, r->read) > 0 ||
        atomic_load(&r->pending_error) != 0 || atomic_load(&r->fatal_error) != 0)
        signal_consumer(r);
}

/* Fill views from the committed slots at r->read, across the wrap. */
static unsigned fill_from_ring(struct budp_socket *s, budp_datagram *views,
                               unsigned max, struct budp_view_tally *tally)
{
    struct budp_receiver *r = s->receiver;
    unsigned n = 0;

    while (n < max) {
        struct budp_rx_slot *first;
        uint32_t run = budp_ring_ready_run(&r->ring, r->read, &first);
        struct budp_view_cursor cur = { 0, r->read_offset };

        if (run == 0)
            break;
        n += budp_views_fill(first, run, &cur, views + n, max - n,
                             s->rx_params.max_datagram, tally);
        r->read += cur.slot;
        r->read_offset = cur.offset;
        if (cur.slot < run)
            break; /* max reached inside this run */
    }
    return n;
}

unsigned budp_receiver_take(struct budp_socket *s, budp_datagram *views,
                            unsigned max, struct budp_view_tally *tally)
{
    struct budp_receiver *r = s->receiver;
    unsigned n;

    release_previous(r);
    n = fill_from_ring(s, views, max, tally);
    settle_poll_fd(r, n);
    return n;
}

int budp_receiver_take_packed(struct budp_socket *s, uint8_t *buf, size_t size,
                              uint32_t *lens, uint32_t *flags, budp_addr *peers,
                              unsigned max)
{
    struct budp_receiver *r = s->receiver;
    struct budp_view_tally tally;
    size_t used = 0;
    unsigned n = 0;
    int rc = 0;

    memset(&tally, 0, sizeof tally);
    release_previous(r);
    while (n < max) {
        uint32_t read = r->read, offset = r->read_offset;
        struct budp_view_tally one;
        budp_datagram v;

        memset(&one, 0, sizeof one);
        if (fill_from_ring(s, &v, 1, &one) == 0)
            break;
        if (v.len > size - used) {
            r->read = read;
            r->read_offset = offset;
            if (n == 0)
                rc = -EMSGSIZE;
            break;
        }
        memcpy(buf + used, v.data, v.len);
        used += v.len;
        lens[n] = v.len;
        if (flags != NULL)
            flags[n] = v.flags;
        if (peers != NULL)
            peers[n] = v.peer;
        tally.datagrams++;
        tally.bytes += one.bytes;
        tally.truncated += one.truncated;
        tally.coalesced += one.coalesced;
        n++;
    }
    /* The payloads are copied out: their slots can go back at once. */
    release_previous(r);
    settle_poll_fd(r, n);
    budp_stats_add_tally(s, &tally);
    if (rc < 0)
        return rc;
    if (n == 0 && (rc = budp_receiver_error(s)) < 0)
        return rc;
    return (int)n;
}

int budp_receiver_error(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;
    int err = atomic_load(&r->fatal_error);

    if (err != 0)
        return err;
    return atomic_exchange(&r->pending_error, 0);
}

int budp_receiver_wait(struct budp_socket *s, int timeout_ms)
{
    struct budp_receiver *r = s->receiver;
    struct pollfd p;
    int rc;

    if (budp_ring_ready(&r->ring, r->read) > 0 || atomic_load(&r->pending_error) ||
        atomic_load(&r->fatal_error))
        return 1;
    p.fd = r->consumer_fd.read_fd;
    p.events = POLLIN;
    p.revents = 0;
    do
        rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return -errno;
    return rc > 0 ? 1 : 0;
}

int budp_receiver_set_callback(struct budp_socket *s, budp_recv_fn fn, void *user)
{
    struct budp_receiver *r = s->receiver;

    if (!r->callback_mode) {
        s->callback = fn;
        s->callback_user = user;
        return 0;
    }
    pthread_mutex_lock(&r->callback_lock);
    s->callback = fn;
    s->callback_user = user;
    atomic_store(&r->callback_set, fn != NULL);
    pthread_mutex_unlock(&r->callback_lock);
    budp_notify_signal(&r->receiver_fd);
    return 0;
}
