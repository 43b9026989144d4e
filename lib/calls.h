/* calls.h - the count of public calls inside a socket, which lets a
 * shutdown refuse new ones and a close wait for the last to leave. */
#ifndef BUDP_CALLS_H
#define BUDP_CALLS_H

#include "handle.h"

/* Enter a public call on s: 0, or -EBADF once s is shut down (the call
 * must then return at once, without budp_call_leave). */
int  budp_call_enter(const struct budp_socket *s);
void budp_call_leave(const struct budp_socket *s);

/* 1 once budp_shutdown (or budp_close) ran on s. */
int budp_is_shut(const struct budp_socket *s);

#endif
