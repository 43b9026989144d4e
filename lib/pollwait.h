/* pollwait.h - poll(2) as the library uses it: EINTR does not restart the
 * timeout, and errors come back as -errno. */
#ifndef BUDP_POLLWAIT_H
#define BUDP_POLLWAIT_H

#include <poll.h>

/* Poll n fds for up to timeout_ms (-1: forever).  Returns the number of
 * ready fds (0 on timeout) or -errno. */
int budp_poll(struct pollfd *fds, unsigned n, int timeout_ms);

#endif
