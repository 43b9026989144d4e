/* calls.c - entering and leaving a public call on a socket. */
#include "build_config.h"

#include <errno.h>

#include "calls.h"

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
