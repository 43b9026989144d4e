/* socket.h - the socket handle shared by the files that implement it. */
#ifndef BUDP_SOCKET_H
#define BUDP_SOCKET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "backend.h"
#include "gro.h"
#include "notify.h"
#include "options.h"
#include "slot.h"
#include "sockopt.h"
#include "stats.h"

struct budp_receiver;

struct budp_socket {
    int  fd;
    int  owns_fd;
    int  family;                 /* AF_INET or AF_INET6 */
    struct budp_options opts;    /* the socket's own copy */
    struct budp_sockopt_saved saved_opts; /* the fd's options before */

    const struct budp_backend *backend;
    void *backend_rx;            /* backend state (receive and send sides) */
    struct budp_rx_params rx_params; /* written by the receiving thread */
    struct budp_tx_params tx_params; /* written under tx_lock */
    unsigned batch_size;
    int pktinfo;                 /* BUDP_OPT_PKTINFO */
    uint32_t ring_slots;         /* threaded: the ring's size */

    /* Inline receive: slots filled by the last system call, and how far
     * views have been handed out of them. */
    struct budp_rx_slot *slots;
    uint8_t *slot_memory;
    unsigned filled;
    struct budp_view_cursor cursor;
    budp_datagram *views;
    unsigned view_capacity;

    /* Threaded receive (NULL inline). */
    struct budp_receiver *receiver;

    budp_recv_fn callback;
    void *callback_user;

    /* Lifetime against concurrent calls (lifetime.c). */
    atomic_int active_calls;     /* public calls inside the library now */
    atomic_int shut;             /* budp_shutdown (or budp_close) ran */
    atomic_int shutdowns_running;/* budp_shutdown calls not yet returned */
    struct budp_notify wake;     /* inline: readable once shut down, so
                                    that budp_wait returns (threaded mode
                                    wakes the consumer's own notify fd) */

    int fatal_error;             /* once set, every receive returns it */

    pthread_mutex_t tx_lock;     /* serialises senders on the backend */
    struct budp_stat_counters stats;
};

/* Slot buffers for count slots of capacity bytes each, in one allocation. */
int budp_slots_alloc(struct budp_rx_slot **slots, uint8_t **memory,
                     unsigned count, uint32_t capacity);
void budp_slots_free(struct budp_rx_slot *slots, uint8_t *memory);

/* Errors that end a socket's ability to receive (the fd is gone or wrong). */
int budp_error_is_fatal(int err);

/* Give back what the socket holds outside its memory: stop the receiver
 * thread (joined, unless on_receiver_thread says the caller is that
 * thread), close the wake-up fds, close the socket's fd or restore a
 * wrapped fd's options.  Once, after budp_shutdown. */
void budp_socket_release(struct budp_socket *s, int on_receiver_thread);
/* Free the handle and everything in it (after budp_socket_release). */
void budp_socket_free(struct budp_socket *s);

/* One receive system call (through the backend) into slots[0..n), and
 * its bookkeeping: the call counted, and the socket's port learnt for
 * destination addresses once the kernel has bound a wrapped fd.  Returns
 * the slots filled or -errno.  On the thread that receives. */
int budp_socket_receive(struct budp_socket *s, struct budp_rx_slot *slots,
                        unsigned n);

/* Add a view fill's tally to the socket's stats. */
void budp_stats_add_tally(struct budp_socket *s, const struct budp_view_tally *t);

#endif
