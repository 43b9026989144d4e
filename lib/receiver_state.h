/* receiver_state.h - the state the receiver thread (receiver.c) and the
 * consumer's side of the ring (ring_consumer.c) share.
 *
 * Wake-ups, both ways, follow one pattern: the side that may sleep first
 * announces it (a flag, stored sequentially consistent), then looks once
 * more at the other side's index; the other side publishes its index
 * (sequentially consistent) and then looks at the flag.  One of the two
 * always sees the other, so no wake-up is lost.
 *
 * A signal whose write fails (a pipe can fail where an eventfd cannot) is
 * owed, not dropped: the receiver thread tries again before and while it
 * sleeps (in slices of BUDP_WAKE_RETRY_MS), a consumer releasing slots
 * leaves producer_waiting set so that its next call tries again, and the
 * receiver never sleeps on a full ring longer than BUDP_FULL_RING_RECHECK_MS
 * (for a consumer that then sleeps on the poll fd and calls no more). */
#ifndef BUDP_RECEIVER_STATE_H
#define BUDP_RECEIVER_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "error_queue.h"
#include "notify.h"
#include "ring.h"

struct budp_socket;

#define BUDP_WAKE_RETRY_MS 1
#define BUDP_FULL_RING_RECHECK_MS 100
/* Attempts (a millisecond apart) at a wake-up that has no later moment to
 * be tried again: the last one before the thread ends, a shutdown's. */
#define BUDP_WAKE_HARD_ATTEMPTS 1000

enum consumer_state {
    CONSUMER_WAITING = 0,   /* notify fd quiet; the producer must signal */
    CONSUMER_SIGNALLED = 1  /* notify fd readable */
};

struct budp_receiver {
    struct budp_ring ring;
    struct budp_notify consumer_fd;  /* the poll fd: data or error queued */
    /* The thread sleeps in the backend's wait, and is woken (stop, slots
     * freed, callback set) by the backend's wake. */
    pthread_t thread;
    void (*close_deferred)(struct budp_socket *s); /* budp_receiver_start's */
    atomic_int stop;
    atomic_int consumer_state;
    atomic_int producer_waiting;     /* receiver asleep on a full ring */
    atomic_int pending_error;        /* transient, reported once */
    atomic_int fatal_error;          /* the thread has stopped for it */
    int consumer_wake_owed;          /* receiver thread: a signal of the
                                        poll fd failed; try again */

    int overflow;                    /* BUDP_OVERFLOW_* */
    int callback_mode;               /* BUDP_OPT_CALLBACK_THREAD */
    pthread_mutex_t callback_lock;   /* callback-thread mode: fn/user */
    int callback_paused;             /* under callback_lock: the callback
                                        returned BUDP_CALLBACK_PAUSE and no
                                        budp_set_callback came since */

    /* Consumer side. */
    uint32_t read;                   /* first slot with unviewed data */
    uint32_t read_offset;            /* bytes of that slot viewed (GRO) */

    /* BUDP_OPT_ERRORS: events the thread moved out of the kernel, for
     * budp_recv_errors (NULL when the option is off). */
    struct budp_error_queue *errors;

    /* OVERFLOW_DROP: where datagrams that do not fit are received. */
    budp_rx_slot *drop_slots;
    uint8_t *drop_memory;
};

/* Make the poll fd readable if the consumer may be asleep on it.  Returns
 * 0, or -errno when the write failed (the state is left for a retry). */
int budp_receiver_signal_consumer(struct budp_receiver *r);
/* The same, for a wake-up with no later moment to be tried again: a failed
 * write is tried every millisecond, BUDP_WAKE_HARD_ATTEMPTS times. */
int budp_receiver_signal_consumer_hard(struct budp_receiver *r);
/* Wake the receiver thread through the backend.  0, or an error when the
 * wake-up could not be recorded. */
int budp_receiver_wake_thread(struct budp_socket *s);
/* The same, tried again for a while if it fails: for a wake-up with no
 * later moment to be tried again. */
int budp_receiver_wake_thread_hard(struct budp_socket *s);

#endif
