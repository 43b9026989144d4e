/* error_queue.c - the bounded queue of error events of threaded mode. */
#include "build_config.h"

#include <stdlib.h>

#include "error_queue.h"

struct budp_error_queue *budp_error_queue_new(void)
{
    struct budp_error_queue *q = calloc(1, sizeof *q);

    if (q == NULL)
        return NULL;
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q);
        return NULL;
    }
    atomic_init(&q->count, 0);
    return q;
}

void budp_error_queue_free(struct budp_error_queue *q)
{
    if (q == NULL)
        return;
    pthread_mutex_destroy(&q->lock);
    free(q);
}

unsigned budp_error_queue_push(struct budp_error_queue *q, const budp_error_event *ev,
                               unsigned n)
{
    unsigned i = 0;

    pthread_mutex_lock(&q->lock);
    for (unsigned count = atomic_load(&q->count);
         i < n && count < BUDP_ERROR_QUEUE_EVENTS; i++, count++)
        q->ev[(q->first + count) % BUDP_ERROR_QUEUE_EVENTS] = ev[i];
    atomic_fetch_add(&q->count, i);
    pthread_mutex_unlock(&q->lock);
    return n - i;
}

unsigned budp_error_queue_pop(struct budp_error_queue *q, budp_error_event *out,
                              unsigned max)
{
    unsigned i = 0;

    pthread_mutex_lock(&q->lock);
    for (unsigned count = atomic_load(&q->count); i < max && i < count; i++)
        out[i] = q->ev[(q->first + i) % BUDP_ERROR_QUEUE_EVENTS];
    q->first = (q->first + i) % BUDP_ERROR_QUEUE_EVENTS;
    atomic_fetch_sub(&q->count, i);
    pthread_mutex_unlock(&q->lock);
    return i;
}
