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

/* Wait until at most `own` calls are inside s: those of this thread, which
 * cannot leave while it waits.  Every other call leaves soon, since the
 * socket is shut down and nothing in the library blocks once it is. */
static void wait_for_calls(struct budp_socket *s, int own)
{
    const struct timespec pause = { 0, 100000 };

    while (atomic_load(&s->active_calls) > own)
        nanosleep(&pause, NULL);
}

int budp_shutdown(budp_socket *s)
{
    if (s == NULL)
        return -EINVAL;
    /* Counted as a call, so that a close on another thread cannot free the
     * wake-up fds while this one writes to them. */
    atomic_fetch_add(&s->active_calls, 1);
    if (!atomic_exchange(&s->shut, 1)) {
        if (s->receiver != NULL)
            budp_receiver_shutdown(s);
        else
            budp_notify_signal(&s->wake);
    }
    atomic_fetch_sub(&s->active_calls, 1);
    return 0;
}

void budp_close(budp_socket *s)
{
    struct budp_callback_frame *frame;

    if (s == NULL)
        return;
    budp_shutdown(s);
    frame = budp_callback_frame_of(s);
    if (frame == NULL) {
        wait_for_calls(s, 0);
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
    wait_for_calls(s, 0);
    budp_socket_free(s);
}
