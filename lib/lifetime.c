/* lifetime.c - budp_shutdown, budp_close, and the wait for calls still
 * inside that lets budp_close free a socket safely. */
#include "build_config.h"

#include <errno.h>

#include "callback.h"
#include "held.h"
#include "lifetime.h"
#include "receiver.h"
#include "sys.h"
#include "teardown.h"

/* Wake every thread asleep in budp_wait on s. */
static void wake_waiters(struct budp_socket *s)
{
    if (s->receiver != NULL)
        budp_receiver_wake_waiters(s);
    else
        (void)s->backend->wake(s->backend_state);
}

/* Wait until the counter reaches zero.  Every call leaves soon once the
 * socket is shut down: nothing in the library blocks after that, but a
 * sleeper the shutdown's wake-up missed (its write failed, which a pipe's
 * can).  With waking set, its wake-up fds are still open: they are
 * signalled again every 10 ms. */
static void wait_for_zero(atomic_int *count, struct budp_socket *waking)
{
    for (unsigned i = 0; atomic_load(count) > 0; i++) {
        if (waking != NULL && i % 100 == 0)
            wake_waiters(waking);
        budp_sys_sleep_us(100);
    }
}

int budp_shutdown(budp_socket *s)
{
    if (s == NULL)
        return -EINVAL;
    /* Counted apart from other calls: a close, even one inside a callback
     * that cannot wait for calls, waits for this one before it closes the
     * wake-up fds this one writes to.  It never blocks, so that wait is
     * short. */
    atomic_fetch_add(&s->shutdowns_running, 1);
    if (!atomic_exchange(&s->shut, 1)) {
        if (s->receiver != NULL)
            budp_receiver_stop(s);
        if (s->backend->stop_receiving != NULL)
            s->backend->stop_receiving(s->backend_state);
        /* Readable from now on (nothing drains it once calls are refused),
         * so every consumer asleep in budp_wait, or polling, wakes. */
        wake_waiters(s);
    }
    atomic_fetch_sub(&s->shutdowns_running, 1);
    return 0;
}

uint64_t budp_close_counting(budp_socket *s)
{
    struct budp_callback_frame *frame;
    uint64_t held;

    budp_shutdown(s);
    wait_for_zero(&s->shutdowns_running, NULL);
    frame = budp_callback_frame_of(s);
    if (frame == NULL) {
        wait_for_zero(&s->active_calls, s);
        budp_socket_release(s, 0);
        held = budp_socket_held(s);
        budp_socket_free(s);
        return held;
    }
    /* Inside s's callback: the fds and the receiver thread go now, the
     * memory the callback's views point into once it returns. */
    if (frame->closed)
        return 0;
    frame->closed = 1;
    budp_socket_release(s, frame->on_receiver);
    return budp_socket_held(s);
}

void budp_close(budp_socket *s)
{
    if (s == NULL)
        return;
    if (s->group_leave != NULL)
        s->group_leave(s);
    else
        (void)budp_close_counting(s);
}

void budp_close_deferred(struct budp_socket *s)
{
    wait_for_zero(&s->shutdowns_running, NULL);
    wait_for_zero(&s->active_calls, NULL);
    budp_socket_free(s);
}
