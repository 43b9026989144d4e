/* receiver.c - the receiver thread: socket -> ring (or -> callback), with
 * backpressure, errors, and its start and stop. */
#include "build_config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "callback.h"
#include "error_events.h"
#include "receive.h"
#include "receiver.h"
#include "receiver_state.h"
#include "stats.h"
#include "sys.h"

int budp_receiver_poll_fd(const struct budp_receiver *r)
{
    return r->callback_mode ? -ENOTSUP : r->consumer_fd.read_fd;
}

int budp_receiver_signal_consumer(struct budp_receiver *r)
{
    int expected = CONSUMER_WAITING;
    int rc = 0;

    if (atomic_compare_exchange_strong(&r->consumer_state, &expected,
                                       CONSUMER_SIGNALLED) &&
        (rc = budp_notify_signal(&r->consumer_fd)) < 0)
        atomic_store(&r->consumer_state, CONSUMER_WAITING);
    return rc;
}

int budp_receiver_wake_thread(struct budp_socket *s)
{
    return s->backend->wake(s->backend_state);
}

/* A wake-up with no later moment to be tried again, of either side:
 * attempt(arg) is tried every millisecond, BUDP_WAKE_HARD_ATTEMPTS times
 * at most.  Returns its last result. */
static int retry_hard(int (*attempt)(void *), void *arg)
{
    int rc;

    for (unsigned i = 1; (rc = attempt(arg)) < 0 && i < BUDP_WAKE_HARD_ATTEMPTS; i++)
        budp_sys_sleep_us(1000);
    return rc;
}

static int signal_notify(void *n)
{
    return budp_notify_signal(n);
}

static int wake_thread(void *s)
{
    return budp_receiver_wake_thread(s);
}

int budp_receiver_signal_consumer_hard(struct budp_receiver *r)
{
    if (budp_receiver_signal_consumer(r) == 0)
        return 0;
    return retry_hard(signal_notify, &r->consumer_fd);
}

int budp_receiver_wake_thread_hard(struct budp_socket *s)
{
    return retry_hard(wake_thread, s);
}

/* Receiver thread: wake the consumer, or owe it the wake-up. */
static void wake_consumer(struct budp_receiver *r)
{
    r->consumer_wake_owed = budp_receiver_signal_consumer(r) < 0;
}

/* Record an error met by the thread for the consumer's next call (in
 * callback-thread mode, for budp_wait). */
static void report_error(struct budp_socket *s, int err)
{
    struct budp_receiver *r = s->receiver;

    BUDP_STAT_ADD(&s->stats, rx_errors, 1);
    if (budp_error_is_fatal(err))
        atomic_store(&r->fatal_error, err);
    else
        atomic_store(&r->pending_error, err);
    wake_consumer(r);
}

/* Before sleeping on the socket, with BUDP_OPT_ERRORS: move the kernel's
 * error events out (a socket with events queued polls ready, and the
 * sleep would end at once) and tell the consumer. */
static void collect_errors(struct budp_socket *s)
{
    if (s->receiver->errors != NULL && budp_error_events_collect(s) > 0)
        wake_consumer(s->receiver);
}

/* Sleep until the socket has data (with watch_socket), the thread is
 * woken, or timeout_ms passes; in slices while a wake-up of the consumer
 * is owed, trying it again.  Returns 0, 1 when the thread must stop, or an
 * error when the wait failed. */
static int sleep_on(struct budp_socket *s, int watch_socket, int timeout_ms)
{
    struct budp_receiver *r = s->receiver;
    unsigned what = BUDP_WAIT_TAKE | (watch_socket ? BUDP_WAIT_SOCKET : 0u);
    int rc;

    if (r->consumer_wake_owed) {
        wake_consumer(r);
        if (r->consumer_wake_owed &&
            (timeout_ms < 0 || timeout_ms > BUDP_WAKE_RETRY_MS))
            timeout_ms = BUDP_WAKE_RETRY_MS;
    }
    rc = s->backend->wait(s->backend_state, what, timeout_ms);
    if (rc < 0)
        return rc;
    return atomic_load(&r->stop) ? 1 : 0;
}

/* An error from a receive or a poll: report it; 1 when the thread must stop
 * (a fatal error, or stop asked while backing off).  An error that comes
 * back at once is not retried in a tight loop: the thread pauses 1 ms. */
static int handle_error(struct budp_socket *s, int err, int *consecutive)
{
    report_error(s, err);
    if (budp_error_is_fatal(err))
        return 1;
    if (++*consecutive > 1)
        return sleep_on(s, 0, 1) == 1;
    return 0;
}

/* The ring is full and the policy is DROP: read a batch anyway and count it. */
static int drop_batch(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;
    struct budp_rx_summary sum;
    int n = budp_socket_receive(s, r->drop_slots, s->batch_size, &sum);
    uint64_t dropped = 0;

    if (n < 0)
        n = budp_socket_receive_after(s, r->drop_slots, s->batch_size, &sum, n);

    if (n <= 0)
        return n;
    for (int i = 0; i < n; i++)
        dropped += budp_slot_datagrams(&r->drop_slots[i]);
    BUDP_STAT_ADD(&s->stats, rx_dropped, dropped);
    return n;
}

/* Callback-thread mode, callback lock held: hand n filled slots to the
 * callback.  Returns 1 when the callback closed the socket. */
static int deliver_to_callback(struct budp_socket *s, budp_rx_slot *slots,
                               unsigned n, const struct budp_rx_summary *sum)
{
    struct budp_view_cursor cur = { 0, 0 };
    int closed = 0, verdict;

    /* After a shutdown no further batch goes to the callback.  A pause
     * takes effect after the batch already received (one callback call:
     * the views hold a whole batch), which is never held back. */
    while (cur.slot < n && !closed && !atomic_load(&s->receiver->stop)) {
        struct budp_view_tally tally;
        const budp_datagram *views;
        unsigned k;

        memset(&tally, 0, sizeof tally);
        k = budp_views_next(slots, n, sum, &cur, n, s->views, s->view_capacity,
                            s->rx_params.max_datagram, &views, &tally);
        budp_stats_add_tally(s, &tally);
        closed = budp_run_callback(s, 1, views, k, &verdict);
        if (!closed && verdict == BUDP_CALLBACK_PAUSE)
            s->receiver->callback_paused = 1;
    }
    return closed;
}

/* Callback-thread mode: receive and call the callback, with the callback
 * lock held across both, so that a callback cleared or replaced meanwhile
 * never misses a batch already received.  The ring's slots serve as one
 * batch of receive buffers. */
static int callback_loop(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;
    unsigned batch = s->batch_size < r->ring.capacity ? s->batch_size : r->ring.capacity;
    int errors = 0;

    while (!atomic_load(&r->stop)) {
        struct budp_rx_summary sum;
        int n = 0, closed = 0, idle;

        pthread_mutex_lock(&r->callback_lock);
        idle = s->callback == NULL || r->callback_paused;
        if (!idle) {
            n = budp_socket_receive(s, r->ring.slots, batch, &sum);
            if (n < 0)
                n = budp_socket_receive_after(s, r->ring.slots, batch, &sum, n);
            if (n > 0)
                closed = deliver_to_callback(s, r->ring.slots, (unsigned)n, &sum);
        }
        pthread_mutex_unlock(&r->callback_lock);
        if (closed) {
            /* budp_close ran inside the callback on this thread and already
             * gave back the fds; nobody can join this thread, so it frees
             * the socket itself, now that the callback returned, and ends. */
            pthread_detach(pthread_self());
            r->close_deferred(s);
            return 1;
        }
        if (n > 0) {
            errors = 0;
            continue;
        }
        if (n < 0) {
            if (handle_error(s, n, &errors))
                return 0;
            continue;
        }
        if (!idle)
            collect_errors(s);
        n = sleep_on(s, !idle, -1);
        if (n == 1 || (n < 0 && handle_error(s, n, &errors)))
            return 0;
    }
    return 0;
}

/* Committed slots the consumer has not released yet. */
static uint32_t ring_filled(struct budp_receiver *r)
{
    return atomic_load_explicit(&r->ring.tail, memory_order_relaxed) -
           atomic_load_explicit(&r->ring.head, memory_order_acquire);
}

/* The ring is full.  DROP: read and count a batch.  WAIT: sleep until the
 * consumer frees slots.  Returns 1 when the thread must stop. */
static int ring_full(struct budp_socket *s, int *errors)
{
    struct budp_receiver *r = s->receiver;
    budp_rx_slot *first;
    int n;

    if (r->overflow == BUDP_OVERFLOW_DROP) {
        n = drop_batch(s);
        if (n < 0)
            return handle_error(s, n, errors);
        if (n == 0)
            collect_errors(s);
        if (n == 0 && (n = sleep_on(s, 1, -1)) != 0)
            return n == 1 || handle_error(s, n, errors);
        return 0;
    }
    BUDP_STAT_ADD(&s->stats, rx_ring_full, 1);
    atomic_store(&r->producer_waiting, 1);
    /* Announce, then look again: the consumer releases, then looks at the
     * flag.  Both sides must be sequentially consistent for one of them to
     * see the other (an acquire load alone may pass the store). */
    atomic_thread_fence(memory_order_seq_cst);
    if (budp_ring_free_run(&r->ring, &first) == 0 &&
        (n = sleep_on(s, 0, BUDP_FULL_RING_RECHECK_MS)) != 0)
        return n == 1 || handle_error(s, n, errors);
    atomic_store(&r->producer_waiting, 0);
    return 0;
}

/* Threaded mode: receive into free ring slots and commit them. */
static void ring_loop(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;
    /* While datagrams keep coming, a sleeping consumer is woken once the
     * ring is half full rather than after every batch: each wake-up costs a
     * context switch on both sides.  It is woken at once when the socket
     * runs dry or the ring fills, so a quiet flow waits for nothing. */
    uint32_t wake_threshold = r->ring.capacity / 2;
    int wake_pending = 0, errors = 0;

    while (!atomic_load(&r->stop)) {
        budp_rx_slot *first;
        uint32_t room = budp_ring_free_run(&r->ring, &first);
        struct budp_rx_summary sum;
        int n;

        if (room == 0) {
            /* Full: the consumer must run now, whatever the threshold. */
            wake_consumer(r);
            wake_pending = 0;
            if (ring_full(s, &errors))
                return;
            continue;
        }
        if (room > s->batch_size)
            room = s->batch_size;
        n = budp_socket_receive(s, first, room, &sum);
        if (n < 0)
            n = budp_socket_receive_after(s, first, room, &sum, n);
        if (n < 0) {
            if (handle_error(s, n, &errors))
                return;
            continue;
        }
        if (n == 0) {
            collect_errors(s);
            if (wake_pending) {
                wake_consumer(r);
                wake_pending = 0;
            }
            n = sleep_on(s, 1, -1);
            if (n == 1 || (n < 0 && handle_error(s, n, &errors)))
                return;
            continue;
        }
        errors = 0;
        budp_ring_commit(&r->ring, (uint32_t)n);
        wake_pending = 1;
        if (ring_filled(r) >= wake_threshold) {
            wake_consumer(r);
            wake_pending = 0;
        }
    }
}

static void *receiver_main(void *arg)
{
    struct budp_socket *s = arg;
    struct budp_receiver *r = s->receiver;

    if (r->callback_mode) {
        /* A close inside the callback frees s once the loop returns. */
        if (callback_loop(s))
            return NULL;
    } else {
        ring_loop(s);
    }
    /* A wake-up still owed has no later moment once the thread ends. */
    if (r->consumer_wake_owed)
        (void)budp_receiver_signal_consumer_hard(r);
    return NULL;
}

void budp_receiver_free(struct budp_receiver *r)
{
    budp_ring_destroy(&r->ring);
    budp_notify_close(&r->consumer_fd);
    budp_slots_free(r->drop_slots, r->drop_memory);
    budp_error_queue_free(r->errors);
    pthread_mutex_destroy(&r->callback_lock);
    free(r);
}

/* Start the thread with every signal blocked: the application's signals
 * go to its own threads, never to one it does not know about (the mask is
 * inherited, so it is set around pthread_create). */
static int start_thread(struct budp_receiver *r, struct budp_socket *s)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&r->thread, NULL, receiver_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int budp_receiver_start(struct budp_socket *s, budp_deferred_close_fn close_deferred)
{
    /* The ring's indices sit on cache lines of their own: the allocation
     * must honour their alignment. */
    size_t size = (sizeof(struct budp_receiver) + 63) & ~(size_t)63;
    struct budp_receiver *r = aligned_alloc(64, size);
    int rc;

    if (r == NULL)
        return -ENOMEM;
    memset(r, 0, size);
    r->consumer_fd.read_fd = r->consumer_fd.write_fd = -1;
    r->close_deferred = close_deferred;
    pthread_mutex_init(&r->callback_lock, NULL);
    r->overflow = (int)budp_opt(&s->opts, BUDP_OPT_OVERFLOW);
    r->callback_mode = (int)budp_opt(&s->opts, BUDP_OPT_CALLBACK_THREAD);
    atomic_init(&r->stop, 0);
    atomic_init(&r->consumer_state, CONSUMER_WAITING);
    atomic_init(&r->producer_waiting, 0);
    atomic_init(&r->pending_error, 0);
    atomic_init(&r->fatal_error, 0);

    rc = budp_ring_init(&r->ring, s->ring_slots, s->rx_params.capacity,
                        s->rx_params.headroom);
    if (rc == 0)
        rc = budp_notify_open(&r->consumer_fd);
    if (rc == 0 && budp_opt(&s->opts, BUDP_OPT_ERRORS) &&
        (r->errors = budp_error_queue_new()) == NULL)
        rc = -ENOMEM;
    if (rc == 0 && r->overflow == BUDP_OVERFLOW_DROP && !r->callback_mode)
        rc = budp_slots_alloc(&r->drop_slots, &r->drop_memory, s->batch_size,
                              s->rx_params.capacity, s->rx_params.headroom);
    if (rc < 0) {
        budp_receiver_free(r);
        return rc;
    }
    s->receiver = r;
    rc = start_thread(r, s);
    if (rc != 0) {
        s->receiver = NULL;
        budp_receiver_free(r);
        return -rc;
    }
    return 0;
}

void budp_receiver_stop(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;

    atomic_store(&r->stop, 1);
    /* A wake-up that fails here is tried again by budp_close before it
     * joins the thread. */
    (void)budp_receiver_wake_thread(s);
}

void budp_receiver_wake_waiters(struct budp_socket *s)
{
    (void)budp_notify_signal(&s->receiver->consumer_fd);
}

void budp_receiver_release(struct budp_socket *s, int on_receiver_thread)
{
    struct budp_receiver *r = s->receiver;

    if (!on_receiver_thread) {
        /* The thread may sleep on a wake-up the shutdown failed to
         * write: it is joined only once one went through. */
        while (budp_receiver_wake_thread_hard(s) < 0)
            ;
        pthread_join(r->thread, NULL);
    }
    budp_notify_close(&r->consumer_fd);
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
    r->callback_paused = 0;
    pthread_mutex_unlock(&r->callback_lock);
    /* An idle thread sleeps until this wake-up: it must go through. */
    return budp_receiver_wake_thread_hard(s);
}
