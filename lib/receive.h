/* receive.h - one receive system call through the backend, with its
 * bookkeeping; and which errors end a socket's receiving. */
#ifndef BUDP_RECEIVE_H
#define BUDP_RECEIVE_H

#include "handle.h"

/* Receive into slots[0..n) through the backend: the call counted, and the
 * socket's port learnt for destination addresses once the kernel has bound
 * a wrapped fd.  Returns the slots filled or an error; *sum receives what
 * they hold in all.  On the thread that receives. */
int budp_socket_receive(struct budp_socket *s, budp_rx_slot *slots,
                        unsigned n, struct budp_rx_summary *sum);

/* After budp_socket_receive failed with err: with BUDP_OPT_ERRORS, an
 * error the kernel also queued as an event was only pending, and is used
 * up, so the receive is made again (icmp_errors.h says how often);
 * otherwise err.  Called from the
 * callers' error paths, which keeps the receive itself as short as it
 * was. */
int budp_socket_receive_after(struct budp_socket *s, budp_rx_slot *slots, unsigned n,
                              struct budp_rx_summary *sum, int err);

/* 1 for errors that end a socket's ability to receive (the fd is gone or
 * is not a socket any more). */
int budp_error_is_fatal(int err);

#endif
