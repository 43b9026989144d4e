/* held.h - what a socket holds undelivered. */
#ifndef BUDP_HELD_H
#define BUDP_HELD_H

#include <stdint.h>

#include "handle.h"

/* Datagrams received from the kernel and not yet handed to the
 * application: inline, the rest of the last receive (a GRO receive partly
 * handed out); threaded, the ring's.  Once nothing else runs on s (its
 * receiver thread stopped). */
uint64_t budp_socket_held(struct budp_socket *s);

#endif
