/* lifetime.h - budp_shutdown and budp_close against calls on several
 * threads.
 *
 * budp_shutdown marks the socket shut and wakes every thread blocked in a
 * call on it; from then on budp_call_enter (calls.h) refuses every call
 * with -EBADF, while the memory stays valid.  budp_close shuts down, waits
 * until no call is inside, releases the socket's fds and thread, and frees
 * the handle.  Inside a callback of the socket, the release happens at once
 * and the free when the callback returns, on the thread that ran it
 * (callback.h). */
#ifndef BUDP_LIFETIME_H
#define BUDP_LIFETIME_H

#include <stdint.h>

#include "handle.h"

/* The end of a close asked from inside a callback, run by the thread that
 * ran the callback once it returned (and left its own call on s): wait
 * for calls still inside, then free. */
void budp_close_deferred(struct budp_socket *s);

/* budp_close, but for a group's member (which budp_close sends to its
 * group): returns how many datagrams s held undelivered (held.h), which
 * the close drops. */
uint64_t budp_close_counting(budp_socket *s);

#endif
