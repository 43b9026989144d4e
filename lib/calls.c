/* calls.c - budp_close and the bookkeeping that makes it safe while other
 * threads are inside calls on the same socket. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

#include "calls.h"
#include "receiver.h"

/* The socket whose callback runs on this thread (callbacks may nest across
 * sockets), and whether that callback asked to close it. */
static _Thread_local struct budp_socket *callback_socket;
static _Thread_local int callback_closed;

int budp_call_enter(const struct budp_socket *cs)
{
    struct budp_socket *s = (struct budp_socket *)cs;

    /* Registered before looking at closing: a close that set closing after
     * this load sees the count and waits for this call. */
    atomic_fetch_add(&s->active_calls, 1);
    if (atomic_load(&s->closing)) {
        atomic_fetch_sub(&s->active_calls, 1);
        return -EBADF;
    }
    return 0;
}

void budp_call_leave(const struct budp_socket *cs)
{
    atomic_fetch_sub(&((struct budp_socket *)cs)->active_calls, 1);
}

int budp_inside_callback(const struct budp_socket *s)
{
    return callback_socket == s;
}

int budp_run_callback(struct budp_socket *s, const budp_datagram *d, unsigned n)
{
    struct budp_socket *outer = callback_socket;
    int outer_closed = callback_closed, closed;

    callback_socket = s;
    callback_closed = 0;
    s->callback(s->callback_user, d, n);
    closed = callback_closed;
    callback_socket = outer;
    callback_closed = outer_closed;
    return closed;
}

void budp_finish_close(struct budp_socket *s)
{
    const struct timespec pause = { 0, 100000 };

    /* Calls that entered before closing was set are short (nothing in the
     * library blocks except budp_wait, which the close wakes). */
    while (atomic_load(&s->active_calls) != 0)
        nanosleep(&pause, NULL);
    budp_socket_destroy(s);
}

void budp_close(budp_socket *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->closing, 1);
    if (budp_inside_callback(s)) {
        callback_closed = 1;
        return;
    }
    if (s->receiver != NULL)
        budp_receiver_wake_consumer(s);
    budp_finish_close(s);
}

int budp_poll(struct pollfd *fds, unsigned n, int timeout_ms)
{
    struct timespec start, now;
    int rc, left = timeout_ms;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        rc = poll(fds, (nfds_t)n, left);
        if (rc >= 0 || errno != EINTR)
            return rc < 0 ? -errno : rc;
        if (timeout_ms < 0)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &now);
        left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
                                  (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left < 0)
            left = 0;
    }
}
