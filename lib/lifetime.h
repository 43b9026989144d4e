/* lifetime.h - a socket's lifetime against calls on several threads.
 *
 * budp_shutdown marks the socket shut and wakes every thread blocked in a
 * call on it; from then on budp_call_enter refuses every call with -EBADF,
 * while the memory stays valid.  budp_close shuts down, waits until no call
 * is inside, releases the socket's fds and thread, and frees the handle.
 * Inside a callback of the socket, the release happens at once and the free
 * when the callback returns, on the thread that ran it (callback.h). */
#ifndef BUDP_LIFETIME_H
#define BUDP_LIFETIME_H

#include "socket.h"

/* Enter a public call on s: 0, or -EBADF once s is shut down (the call
 * must then return at once, without budp_call_leave). */
int  budp_call_enter(const struct budp_socket *s);
void budp_call_leave(const struct budp_socket *s);

/* 1 once budp_shutdown (or budp_close) ran on s. */
int budp_is_shut(const struct budp_socket *s);

/* The end of a close asked from inside a callback, run by the thread that
 * ran the callback once it returned (and left its own call on s): wait
 * for calls still inside, then free. */
void budp_close_deferred(struct budp_socket *s);

#endif
