/* rx.c - the consumer's side: budp_recv, budp_recv_packed, budp_dispatch,
 * budp_wait, budp_set_callback, for inline and threaded sockets; and
 * budp_recv_errors, which any thread may call. */
#include "build_config.h"

#include <errno.h>
#include <string.h>

#include "calls.h"
#include "callback.h"
#include "error_events.h"
#include "lifetime.h"
#include "options.h"
#include "packed.h"
#include "receive.h"
#include "receiver.h"
#include "stats.h"

/* Common checks of every consumer call (after budp_call_enter). */
static int consumer_check(struct budp_socket *s)
{
    if (budp_inside_callback(s))
        return -EBUSY;
    if (budp_opt(&s->opts, BUDP_OPT_CALLBACK_THREAD))
        return -EINVAL;
    return s->fatal_error;
}

/* Inline: 1 when views from the last system call are still pending. */
static int inline_pending(const struct budp_socket *s)
{
    return s->cursor.slot < s->filled;
}

/* Inline: make one receive system call when nothing is pending. */
static int inline_refill(struct budp_socket *s, unsigned want)
{
    int n;

    if (inline_pending(s))
        return 0;
    s->filled = 0;
    s->cursor.slot = 0;
    s->cursor.offset = 0;
    if (want > s->batch_size)
        want = s->batch_size;
    n = budp_socket_receive(s, s->slots, want, &s->filled_summary);
    if (n < 0)
        n = budp_socket_receive_after(s, s->slots, want, &s->filled_summary, n);
    if (n < 0) {
        BUDP_STAT_ADD(&s->stats, rx_errors, 1);
        if (budp_error_is_fatal(n))
            s->fatal_error = n;
        return n;
    }
    s->filled = (unsigned)n;
    return 0;
}

/* Hand out up to max views in *views.  Returns the count or -errno. */
static int take_views(struct budp_socket *s, unsigned max,
                      const budp_datagram **views)
{
    struct budp_view_tally tally;
    unsigned n;
    int rc;

    memset(&tally, 0, sizeof tally);
    if (s->receiver != NULL) {
        n = budp_receiver_take(s, views, max, &tally);
        if (n == 0 && (rc = budp_receiver_error(s)) < 0)
            return rc;
    } else {
        if ((rc = inline_refill(s, max)) < 0)
            return rc;
        n = budp_views_next(s->slots, s->filled, &s->filled_summary, &s->cursor,
                            max, s->views,
                            s->view_capacity, s->rx_params.max_datagram, views,
                            &tally);
    }
    budp_stats_add_tally(s, &tally);
    return (int)n;
}

int budp_recv(budp_socket *s, const budp_datagram **out, unsigned max)
{
    int rc;

    if (s == NULL || out == NULL || max == 0)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    if ((rc = consumer_check(s)) == 0) {
        const budp_datagram *views = NULL;

        rc = take_views(s, max, &views);
        if (rc >= 0)
            *out = views;
    }
    budp_call_leave(s);
    return rc;
}

static int packed_inline(budp_socket *s, uint8_t *buf, size_t size, uint32_t *lens,
                         uint32_t *flags, budp_addr *peers, unsigned max)
{
    struct budp_packed out;
    int rc;

    if ((rc = inline_refill(s, max)) < 0)
        return rc;
    budp_packed_init(&out, buf, size, lens, flags, peers);
    /* Nothing appended with datagrams pending: the next one alone is
     * larger than the buffer. */
    if (budp_packed_from_slots(&out, s->slots, s->filled, &s->cursor, max, s->views,
                               s->view_capacity, s->rx_params.max_datagram) == 0 &&
        inline_pending(s))
        rc = -EMSGSIZE;
    budp_stats_add_tally(s, &out.tally);
    return rc < 0 ? rc : (int)out.n;
}

int budp_recv_packed(budp_socket *s, uint8_t *buf, size_t size, uint32_t *lens,
                     uint32_t *flags, budp_addr *peers, unsigned max)
{
    int rc;

    if (s == NULL || buf == NULL || lens == NULL || max == 0)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    if ((rc = consumer_check(s)) == 0)
        rc = s->receiver != NULL
                 ? budp_receiver_take_packed(s, buf, size, lens, flags, peers, max)
                 : packed_inline(s, buf, size, lens, flags, peers, max);
    budp_call_leave(s);
    return rc;
}

int budp_set_callback(budp_socket *s, budp_recv_fn fn, void *user)
{
    int rc;

    if (s == NULL)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    if (budp_inside_callback(s)) {
        rc = -EBUSY;
    } else if (s->receiver != NULL) {
        rc = budp_receiver_set_callback(s, fn, user);
    } else {
        s->callback = fn;
        s->callback_user = user;
    }
    budp_call_leave(s);
    return rc;
}

int budp_dispatch(budp_socket *s, unsigned max)
{
    const budp_datagram *views = NULL;
    int n, closed = 0, verdict;

    if (s == NULL || max == 0)
        return -EINVAL;
    if ((n = budp_call_enter(s)) < 0)
        return n;
    if ((n = consumer_check(s)) == 0)
        n = s->callback == NULL ? -EINVAL : take_views(s, max, &views);
    if (n > 0)
        /* The application pauses dispatch by not calling it: the verdict
         * matters on the receiver thread only. */
        closed = budp_run_callback(s, 0, views, (unsigned)n, &verdict);
    budp_call_leave(s);
    if (closed)
        budp_close_deferred(s);
    return n;
}

/* Sleep until the socket has data or budp_shutdown wakes the backend's
 * wait (its wake-up is left in place, so every waiter sees it). */
static int wait_inline(budp_socket *s, int timeout_ms)
{
    int rc;

    if (inline_pending(s))
        return 1;
    rc = s->backend->wait(s->backend_state, BUDP_WAIT_SOCKET, timeout_ms);
    return rc < 0 ? rc : rc > 0;
}

int budp_wait(budp_socket *s, int timeout_ms)
{
    int rc;

    if (s == NULL || timeout_ms < -1)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    if (budp_inside_callback(s))
        rc = -EBUSY;
    else if (budp_opt(&s->opts, BUDP_OPT_CALLBACK_THREAD))
        rc = budp_receiver_wait_error(s, timeout_ms);
    else if ((rc = s->fatal_error) == 0)
        rc = s->receiver != NULL ? budp_receiver_wait(s, timeout_ms)
                                 : wait_inline(s, timeout_ms);
    /* Woken by a shutdown (or shut down while it slept on data). */
    if (rc >= 0 && budp_is_shut(s))
        rc = -EBADF;
    budp_call_leave(s);
    return rc;
}

int budp_recv_errors(budp_socket *s, budp_error_event *events, unsigned max)
{
    int rc;

    if (s == NULL || events == NULL || max == 0)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    if (!budp_opt(&s->opts, BUDP_OPT_ERRORS))
        rc = -EINVAL;
    else if (s->receiver != NULL)
        rc = budp_receiver_take_errors(s, events, max);
    else
        rc = budp_error_events_read(s, events, max);
    budp_call_leave(s);
    return rc;
}
