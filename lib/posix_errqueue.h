/* posix_errqueue.h - reading the kernel's error queue (Linux IP_RECVERR,
 * IPV6_RECVERR) into budp_error_event, for the POSIX backends that have
 * one. */
#ifndef BUDP_POSIX_ERRQUEUE_H
#define BUDP_POSIX_ERRQUEUE_H

#include "batchudp.h"

/* Up to n events from fd's error queue, oldest first, without blocking.
 * Returns how many, or an error (EAGAIN is none).  A queued message that
 * is not an error the library reports (a transmit timestamp, a zero-copy
 * notice) is read and passed over. */
int budp_errqueue_read(int fd, budp_error_event *ev, unsigned n);

/* A descriptor that polls readable (POLLIN) while socket fd has data or
 * error events: the socket reports events as POLLERR only, which event
 * loops that watch for readability miss (libdispatch's read sources on
 * Linux spin on it).  An epoll instance watching fd, level-triggered.
 * Returns it, or an error (-ENOTSUP where the system has none). */
int budp_errqueue_readable_fd(int fd);

#endif
