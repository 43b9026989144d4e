/* teardown.h - giving back what a socket holds, in two steps: the system's
 * resources (thread, fds, a wrapped fd's options) at once, the memory when
 * nothing can point into it any more (a close inside a callback frees only
 * once the callback returns). */
#ifndef BUDP_TEARDOWN_H
#define BUDP_TEARDOWN_H

#include "handle.h"

/* Stop the receiver thread (joined, unless on_receiver_thread says the
 * caller is that thread), release the backend (wake-up fds, a wrapped fd's
 * options), close the socket's fd if the library made it.  Once, after
 * budp_shutdown. */
void budp_socket_release(struct budp_socket *s, int on_receiver_thread);
/* Free the handle and everything in it (after budp_socket_release). */
void budp_socket_free(struct budp_socket *s);

#endif
