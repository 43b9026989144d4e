/* error_queue.h - error events waiting for budp_recv_errors in threaded
 * mode: the receiver thread moves them out of the kernel (so that the
 * socket stops polling in error), the consumer takes them.  Events are
 * rare: a mutex guards the queue, and a count read without it tells the
 * consumer's side whether any wait. */
#ifndef BUDP_ERROR_QUEUE_H
#define BUDP_ERROR_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>

#include "batchudp.h"

struct budp_error_queue {
    pthread_mutex_t lock;
    unsigned first;                  /* oldest event, under lock */
    atomic_uint count;               /* events waiting; written under lock */
    budp_error_event ev[BUDP_ERROR_QUEUE_EVENTS];
};

/* A new, empty queue, or NULL when out of memory. */
struct budp_error_queue *budp_error_queue_new(void);
void budp_error_queue_free(struct budp_error_queue *q);

/* Append ev[0..n): returns how many did not fit (dropped). */
unsigned budp_error_queue_push(struct budp_error_queue *q, const budp_error_event *ev,
                               unsigned n);
/* Move up to max of the oldest events into out: returns how many. */
unsigned budp_error_queue_pop(struct budp_error_queue *q, budp_error_event *out,
                              unsigned max);

/* 1 when events wait (NULL: no queue, none). */
static inline int budp_error_queue_waiting(struct budp_error_queue *q)
{
    return q != NULL && atomic_load(&q->count) > 0;
}

#endif
