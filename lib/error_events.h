/* error_events.h - error events (BUDP_OPT_ERRORS) between the kernel's
 * error queue and budp_recv_errors. */
#ifndef BUDP_ERROR_EVENTS_H
#define BUDP_ERROR_EVENTS_H

#include "handle.h"

/* Receiver thread: move every event the kernel holds into the receiver's
 * queue (what does not fit is counted in error_events_dropped), so that
 * the socket no longer polls in error.  Returns how many were queued. */
unsigned budp_error_events_collect(struct budp_socket *s);

/* Up to max events from the kernel's queue, counted in error_events.  Any
 * thread. */
int budp_error_events_read(struct budp_socket *s, budp_error_event *ev, unsigned max);

#endif
