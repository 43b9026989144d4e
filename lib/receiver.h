/* receiver.h - threaded mode: a receiver thread moves datagrams from the
 * socket into the ring (or straight to the callback); the consumer pops. */
#ifndef BUDP_RECEIVER_H
#define BUDP_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "handle.h"
#include "views.h"

/* What a callback-thread receiver runs once a callback closed the socket
 * and returned (lifetime.h's budp_close_deferred, passed in so that the
 * receiver, which the lifetime code stops, does not depend on it). */
typedef void (*budp_deferred_close_fn)(struct budp_socket *s);

/* Start the receiver for s (options already in s->opts).  Returns 0 or
 * an error. */
int  budp_receiver_start(struct budp_socket *s, budp_deferred_close_fn close_deferred);
/* budp_shutdown's part: tell the thread to stop reading and wake it.  Any
 * thread. */
void budp_receiver_stop(struct budp_socket *s);
/* Make the consumer's notify fd readable (budp_shutdown, and budp_close
 * again while it waits for calls to leave). */
void budp_receiver_wake_waiters(struct budp_socket *s);
/* After budp_receiver_stop: join the thread (unless the caller is that
 * thread) and close the poll fd. */
void budp_receiver_release(struct budp_socket *s, int on_receiver_thread);
/* Free the receiver's memory (after budp_receiver_release). */
void budp_receiver_free(struct budp_receiver *r);

int  budp_receiver_poll_fd(const struct budp_receiver *r);

/* Consumer: release the slots of the previous call, then hand out up to max
 * views of committed slots. */
unsigned budp_receiver_take(struct budp_socket *s, const budp_datagram **views,
                            unsigned max, struct budp_view_tally *tally);
/* Consumer: budp_recv_packed's work on the ring. */
int budp_receiver_take_packed(struct budp_socket *s, uint8_t *buf, size_t size,
                              uint32_t *lens, uint32_t *flags, budp_addr *peers,
                              unsigned max);
/* budp_recv_errors in threaded mode, from any thread: up to max of the
 * events the receiver thread queued; once none is left, the poll fd is
 * quieted and armed as after a receive that found nothing, so that a
 * waiter woken by the events and sleeping again (edge-triggered too) is
 * woken by what comes next. */
int budp_receiver_take_errors(struct budp_socket *s, budp_error_event *events,
                              unsigned max);
/* Consumer: the error to report when nothing is queued: a fatal one every
 * time, a transient one once.  0 when none. */
int  budp_receiver_error(struct budp_socket *s);
int  budp_receiver_wait(struct budp_socket *s, int timeout_ms);
/* Callback-thread mode: sleep until the receiver thread meets an error,
 * error events wait (BUDP_OPT_ERRORS), or timeout_ms passes.  Returns the
 * error (a fatal one every time, a transient one once), 1 for events, 0
 * at the timeout or on a shutdown. */
int  budp_receiver_wait_error(struct budp_socket *s, int timeout_ms);
int  budp_receiver_set_callback(struct budp_socket *s, budp_recv_fn fn, void *user);

#endif
