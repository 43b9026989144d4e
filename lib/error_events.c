/* error_events.c - error events read from the kernel: by the consumer's
 * budp_recv_errors inline, by the receiver thread into its queue. */
#include "build_config.h"

#include <errno.h>

#include "error_events.h"
#include "options.h"
#include "receiver_state.h"
#include "stats.h"

/* Events read from the kernel at a time by the receiver thread. */
#define COLLECT_CHUNK 16

/* Under the send lock: each
 * event read while another waits behind it leaves that one's error
 * pending on the socket (Linux's sock_dequeue_err_skb), which a send
 * running meanwhile would meet again however often it tried; serialised,
 * a send meets only the errors of ICMP messages arriving as it runs. */
int budp_error_events_read(struct budp_socket *s, budp_error_event *ev, unsigned max)
{
    int n;

    pthread_mutex_lock(&s->tx_lock);
    n = s->backend->recv_errors(s->backend_state, ev, max);
    pthread_mutex_unlock(&s->tx_lock);

    if (n > 0)
        BUDP_STAT_ADD(&s->stats, error_events, n);
    return n;
}

unsigned budp_error_events_collect(struct budp_socket *s)
{
    struct budp_error_queue *q = s->receiver->errors;
    budp_error_event chunk[COLLECT_CHUNK];
    unsigned queued = 0;
    int n;

    if (q == NULL)
        return 0;
    do {
        unsigned dropped;

        n = budp_error_events_read(s, chunk, COLLECT_CHUNK);
        if (n <= 0)
            break;
        dropped = budp_error_queue_push(q, chunk, (unsigned)n);
        if (dropped)
            BUDP_STAT_ADD(&s->stats, error_events_dropped, dropped);
        queued += (unsigned)n - dropped;
    } while (n == COLLECT_CHUNK);
    return queued;
}
