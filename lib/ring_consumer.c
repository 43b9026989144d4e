/* ring_consumer.c - the consumer's side of the ring: views and packed
 * copies of committed slots, slot release, the poll fd's state, errors
 * from the receiver thread, waiting. */
#include "build_config.h"

#include <errno.h>
#include <string.h>

#include "calls.h"
#include "packed.h"
#include "receiver.h"
#include "receiver_state.h"
#include "stats.h"

/* Give back the slots viewed by the previous call, and wake the receiver
 * if it sleeps on a full ring.  A wake-up that fails leaves the flag set,
 * so that the next call tries again (the receiver also looks again on its
 * own after BUDP_FULL_RING_RECHECK_MS). */
static void release_previous(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;

    if (atomic_load_explicit(&r->ring.head, memory_order_relaxed) != r->read)
        budp_ring_release(&r->ring, r->read);
    if (atomic_exchange(&r->producer_waiting, 0) &&
        budp_receiver_wake_thread(s) < 0)
        atomic_store(&r->producer_waiting, 1);
}

/* Consumer, before it may sleep: make the poll fd quiet and ask for a
 * signal.  The caller looks once more at what it waits for afterwards. */
static void arm_poll_fd(struct budp_receiver *r)
{
    budp_notify_drain(&r->consumer_fd);
    atomic_store(&r->consumer_state, CONSUMER_WAITING);
}


/* Consumer: after taking, keep the poll fd readable while something is
 * queued, and quiet it once a call finds nothing.  A call that handed
 * datagrams out leaves it as it is: by the poll fd's contract the consumer
 * calls again before sleeping, and a busy consumer then costs the producer
 * no eventfd write per batch.  took: what this call handed out. */
static void settle_poll_fd(struct budp_socket *s, unsigned took)
{
    struct budp_receiver *r = s->receiver;

    if (budp_ring_ready(&r->ring, r->read) > 0) {
        (void)budp_receiver_signal_consumer(r);
        return;
    }
    if (took > 0)
        return;
    /* About to sleep with nothing queued: a wake-up of the producer that
     * failed in release_previous has no next call to be tried in, and the
     * producer, blocked on a full ring, would wait for its own recheck. */
    if (atomic_exchange(&r->producer_waiting, 0) &&
        budp_receiver_wake_thread_hard(s) < 0)
        atomic_store(&r->producer_waiting, 1);
    arm_poll_fd(r);
    /* A producer that committed meanwhile may have seen SIGNALLED and left
     * the signal to this call: it must go through. */
    if (budp_ring_ready(&r->ring, r->read) > 0 ||
        atomic_load(&r->pending_error) != 0 || atomic_load(&r->fatal_error) != 0)
        (void)budp_receiver_signal_consumer_hard(r);
}

/* The committed slots from r->read up to the wrap, in *first, and a cursor
 * where the consumer stands in them. */
static uint32_t ready_run(struct budp_receiver *r, budp_rx_slot **first,
                          struct budp_view_cursor *cur)
{
    cur->slot = 0;
    cur->offset = r->read_offset;
    return budp_ring_ready_run(&r->ring, r->read, first);
}

/* Move the read position past what cur went over. */
static void advance_read(struct budp_receiver *r, const struct budp_view_cursor *cur)
{
    r->read += cur->slot;
    r->read_offset = cur->offset;
}

/* budp_recv_packed's copies of the committed slots at r->read, across
 * the wrap.  Returns 1 when it stopped at a datagram that does not fit in
 * the room left. */
static int pack_from_ring(struct budp_socket *s, struct budp_packed *out,
                          unsigned max)
{
    struct budp_receiver *r = s->receiver;

    while (out->n < max) {
        budp_rx_slot *first;
        struct budp_view_cursor cur;
        uint32_t run = ready_run(r, &first, &cur);

        if (run == 0)
            break;
        budp_packed_from_slots(out, first, run, &cur, max, s->views,
                               s->view_capacity, s->rx_params.max_datagram);
        advance_read(r, &cur);
        if (cur.slot < run)
            return out->n < max; /* the buffer's end, or max, inside this run */
    }
    return 0;
}

/* Copies in s->views of the committed slots at r->read, across the wrap. */
static unsigned copy_from_ring(struct budp_socket *s, unsigned max,
                               struct budp_view_tally *tally)
{
    struct budp_receiver *r = s->receiver;
    unsigned n = 0;

    if (max > s->view_capacity)
        max = s->view_capacity;
    while (n < max) {
        budp_rx_slot *first;
        struct budp_view_cursor cur;
        uint32_t run = ready_run(r, &first, &cur);

        if (run == 0)
            break;
        n += budp_views_fill(first, run, &cur, s->views + n, max - n,
                             s->rx_params.max_datagram, tally);
        advance_read(r, &cur);
        if (cur.slot < run)
            break; /* max reached inside this run */
    }
    return n;
}

/* Views of the committed slots at r->read: the slots themselves where they
 * follow each other (no wrap before max of them), else copies. */
static unsigned take_from_ring(struct budp_socket *s, const budp_datagram **views,
                               unsigned max, struct budp_view_tally *tally)
{
    struct budp_receiver *r = s->receiver;
    budp_rx_slot *first;
    struct budp_view_cursor cur;
    uint32_t run = ready_run(r, &first, &cur);
    unsigned n;

    /* Slots past the wrap would make a second call: copy them all now, so
     * that the wrap never halves what a call hands out. */
    if (run < max && budp_ring_ready(&r->ring, r->read) > run) {
        *views = s->views;
        return copy_from_ring(s, max, tally);
    }
    n = budp_views_next(first, run, NULL, &cur, max, s->views, s->view_capacity,
                        s->rx_params.max_datagram, views, tally);
    advance_read(r, &cur);
    return n;
}

unsigned budp_receiver_take(struct budp_socket *s, const budp_datagram **views,
                            unsigned max, struct budp_view_tally *tally)
{
    unsigned n;

    release_previous(s);
    n = take_from_ring(s, views, max, tally);
    settle_poll_fd(s, n);
    return n;
}

int budp_receiver_take_packed(struct budp_socket *s, uint8_t *buf, size_t size,
                              uint32_t *lens, uint32_t *flags, budp_addr *peers,
                              unsigned max)
{
    struct budp_packed out;
    int rc = 0;

    budp_packed_init(&out, buf, size, lens, flags, peers);
    release_previous(s);
    /* Nothing appended, stopped at a datagram: it alone is larger than the
     * buffer. */
    if (pack_from_ring(s, &out, max) && out.n == 0)
        rc = -EMSGSIZE;
    /* The payloads are copied out: their slots can go back at once. */
    release_previous(s);
    settle_poll_fd(s, out.n);
    budp_stats_add_tally(s, &out.tally);
    if (rc < 0)
        return rc;
    if (out.n == 0 && (rc = budp_receiver_error(s)) < 0)
        return rc;
    return (int)out.n;
}

/* After error events were taken: once none is left, quiet the poll fd
 * and ask for a signal, as a receive that found nothing does, so that a
 * waiter woken by the events and sleeping again (edge-triggered too) is
 * woken by what comes next. */
static void events_taken(struct budp_socket *s)
{
    struct budp_receiver *r = s->receiver;

    if (budp_error_queue_waiting(r->errors))
        return;
    /* Arm, then look again, as settle_poll_fd's caller does; from any
     * thread, so by the ring's shared indices: slots committed and not
     * yet released (the consumer's last batch among them, at worst a
     * spurious wake-up). */
    arm_poll_fd(r);
    if (atomic_load(&r->ring.tail) != atomic_load(&r->ring.head) ||
        budp_error_queue_waiting(r->errors) || atomic_load(&r->pending_error) ||
        atomic_load(&r->fatal_error) || budp_is_shut(s))
        (void)budp_receiver_signal_consumer(r);
}

int budp_receiver_take_errors(struct budp_socket *s, budp_error_event *events,
                              unsigned max)
{
    unsigned n = budp_error_queue_pop(s->receiver->errors, events, max);

    if (n > 0)
        events_taken(s);
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

int budp_receiver_wait_error(struct budp_socket *s, int timeout_ms)
{
    struct budp_receiver *r = s->receiver;
    int rc;

    if ((rc = budp_receiver_error(s)) != 0)
        return rc;
    if (budp_error_queue_waiting(r->errors))
        return 1;
    /* Arm, then look again: an error reported meanwhile signals the fd
     * once the state says WAITING.  A shutdown after the drain signals it
     * again. */
    arm_poll_fd(r);
    if ((rc = budp_receiver_error(s)) != 0 || budp_is_shut(s))
        return rc;
    if (budp_error_queue_waiting(r->errors))
        return 1;
    rc = budp_notify_wait(&r->consumer_fd, timeout_ms);
    if (rc < 0)
        return rc;
    if ((rc = budp_receiver_error(s)) != 0)
        return rc;
    return budp_error_queue_waiting(r->errors);
}

int budp_receiver_wait(struct budp_socket *s, int timeout_ms)
{
    struct budp_receiver *r = s->receiver;

    if (budp_ring_ready(&r->ring, r->read) > 0 || atomic_load(&r->pending_error) ||
        atomic_load(&r->fatal_error) || budp_error_queue_waiting(r->errors))
        return 1;
    return budp_notify_wait(&r->consumer_fd, timeout_ms);
}
