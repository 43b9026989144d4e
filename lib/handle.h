/* handle.h - the socket handle: what a budp_socket holds.  Data only; the
 * files that work on it declare their own functions. */
#ifndef BUDP_HANDLE_H
#define BUDP_HANDLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "backend.h"
#include "counters.h"
#include "options.h"
#include "slot.h"
#include "views.h"

struct budp_receiver;

struct budp_socket {
    int  fd;
    int  owns_fd;                /* budp_bind made it: closed at release */
    int  family;                 /* BUDP_AF_INET or BUDP_AF_INET6 */
    struct budp_options opts;    /* the socket's own copy */

    const struct budp_backend *backend;
    void *backend_state;         /* receive and send sides, the wake-up */
    char backend_reason[BUDP_REASON_BYTES]; /* budp_backend_reason */
    struct budp_rx_params rx_params; /* written by the receiving thread */
    struct budp_tx_params tx_params; /* written under tx_lock */
    unsigned batch_size;
    int pktinfo;                 /* BUDP_OPT_PKTINFO */
    uint32_t ring_slots;         /* threaded: the ring's size */

    /* Inline receive: slots filled by the last system call, and how far
     * views have been handed out of them. */
    budp_rx_slot *slots;
    uint8_t *slot_memory;
    unsigned filled;
    struct budp_rx_summary filled_summary;
    struct budp_view_cursor cursor;
    budp_datagram *views;
    unsigned view_capacity;

    /* Threaded receive (NULL inline). */
    struct budp_receiver *receiver;

    budp_recv_fn callback;
    void *callback_user;

    /* Lifetime against concurrent calls (calls.h, lifetime.h). */
    atomic_int active_calls;     /* public calls inside the library now */
    atomic_int shut;             /* budp_shutdown (or budp_close) ran */
    atomic_int shutdowns_running;/* budp_shutdown calls not yet returned */

    int fatal_error;             /* once set, every receive returns it */

    /* A group's member (group.c): budp_close closes it through the group,
     * which passes it group_member (its number). */
    void (*group_leave)(struct budp_socket *s);
    void *group;
    unsigned group_member;

    pthread_mutex_t tx_lock;     /* serialises senders on the backend,
                                    and reads of the error queue */
    struct budp_stat_counters stats;
};

#endif
