/* callback.h - running a socket's callback, and knowing on each thread
 * which callbacks are running there.  Callbacks nest across sockets (A's
 * callback may dispatch B), so each thread keeps a chain of frames, one per
 * callback running on it, innermost first. */
#ifndef BUDP_CALLBACK_H
#define BUDP_CALLBACK_H

#include "handle.h"

struct budp_callback_frame {
    struct budp_socket *socket;
    struct budp_callback_frame *outer;
    int on_receiver;   /* run by s's receiver thread (callback-thread mode) */
    int closed;        /* budp_close(socket) was called inside */
};

/* The frame of s's callback running on this thread, at any depth; NULL
 * when none runs. */
struct budp_callback_frame *budp_callback_frame_of(const struct budp_socket *s);

/* 1 when a callback of s runs on this thread, at any depth. */
int budp_inside_callback(const struct budp_socket *s);

/* Run s's callback on this thread; *verdict receives what it returned
 * (BUDP_CALLBACK_*).  Returns 1 when the callback closed s: the caller then
 * leaves its call and runs budp_close_deferred. */
int budp_run_callback(struct budp_socket *s, int on_receiver,
                      const budp_datagram *d, unsigned n, int *verdict);

#endif
