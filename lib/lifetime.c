/* lifetime.c - budp_shutdown, budp_close, and the count of calls inside a
 * socket that lets budp_close free it safely. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "callback.h"
#include "lifetime.h"
#include "receiver.h"

int budp_call_enter(const struct budp_socket *cs)
{
    struct budp_socket *s = (struct budp_socket *)cs;

    /* Counted before looking at the flag: a close that shut the socket
     * after this load sees the count and waits for this call. */
    atomic_fetch_add(&s->active_calls, 1);
    if (atomic_load(&s->shut)) {
        atomic_fetch_sub(&s->active_calls, 1);
        return -EBADF;
    }
    return 0;
}

void budp_call_leave(const struct budp_socket *cs)
{
    atomic_fetch_sub(&((struct budp_socket *)cs)->active_calls, 1);
}

int budp_is_shut(const struct budp_socket *s)
{
    return atomic_load(&((struct budp_socket *)s)->shut);
}

/* Wake every thread asleep in budp_wait on s. */
static void wake_waiters(struct budp_socket *s)
{
    if (s->receiver != NULL)
        budp_receiver_wake_waiters(s);
    else
        (void)budp_notify_signal(&s->wake);
}

/* Wait until the counter reaches zero.  Every call leaves soon once the
 * socket is shut down: nothing in the library blocks after that, but a
 * sleeper the shutdown's wake-up missed (its write failed, which a pipe's
 * can).  With waking set, its wake-up fds are still open: they are
 * signalled again every 10 ms. */
static void wait_for_zero(atomic_int *count, struct budp_socket *waking)
{
    const struct timespec pause = { 0, 100000 };

    for (unsigned i = 0; atomic_load(count) > 0; i++) {
        if (waking != NULL && i % 100 == 0)
            wake_waiters(waking);
        nanosleep(&pause, NULL);
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
        /* Readable from now on (nothing drains it once calls are refused),
         * so every consumer asleep in budp_wait, or polling, wakes. */
        wake_waiters(s);
    }
    atomic_fetch_sub(&s->shutdowns_running, 1);
    return 0;
}

void budp_close(budp_socket *s)
{
    struct budp_callback_frame *frame;

    if (s == NULL)
        return;
    budp_shutdown(s);
    wait_for_zero(&s->shutdowns_running, NULL);
    frame = budp_callback_frame_of(s);
    if (frame == NULL) {
        wait_for_zero(&s->active_calls, s);
        budp_socket_release(s, 0);
        budp_socket_free(s);
        return;
    }
    /* Inside s's callback: the fds and the receiver thread go now, the
     * memory the callback's views point into once it returns. */
    if (frame->closed)
        return;
    frame->closed = 1;
    budp_socket_release(s, frame->on_receiver);
}

void budp_close_deferred(struct budp_socket *s)
{
    wait_for_zero(&s->shutdowns_running, NULL);
    wait_for_zero(&s->active_calls, NULL);
    budp_socket_free(s);
}
