/* calls.h - a socket's lifetime against calls running on several threads:
 * every public call registers itself, budp_close marks the socket closing
 * and frees it only once no call is left inside, and a close asked from
 * inside a callback is finished by the thread that ran the callback. */
#ifndef BUDP_CALLS_H
#define BUDP_CALLS_H

#include <poll.h>

#include "socket.h"

/* Enter a public call on s: 0, or -EBADF once the socket is closing (the
 * call must then return at once, without budp_call_leave). */
int  budp_call_enter(const struct budp_socket *s);
void budp_call_leave(const struct budp_socket *s);

/* 1 when the caller is inside s's callback (on this thread). */
int budp_inside_callback(const struct budp_socket *s);

/* Run s's callback on this thread.  Returns 1 when the callback closed s:
 * the caller then leaves its call and runs budp_finish_close. */
int budp_run_callback(struct budp_socket *s, const budp_datagram *d, unsigned n);

/* Wait until no call is inside s, then free it. */
void budp_finish_close(struct budp_socket *s);

/* Poll with a timeout that EINTR does not restart. */
int budp_poll(struct pollfd *fds, unsigned n, int timeout_ms);

#endif
