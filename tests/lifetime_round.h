/* lifetime_round.h - one round of test_lifetime_stress: the state its
 * threads share, the gate that lets a callback close the socket, the checks
 * of return values and datagrams, and the callbacks. */
#ifndef BUDP_LIFETIME_ROUND_H
#define BUDP_LIFETIME_ROUND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "batchudp.h"

#define HANG_GUARD_S 10
#define MAX_BATCH 8
#define MAX_PAYLOAD 208
#define SELF 0  /* sender: the socket itself */
#define OTHER 1 /* sender: a second socket */

enum stress_mode { SM_INLINE, SM_WAIT, SM_DROP, SM_CALLBACK_THREAD };

struct round;
struct cb_ctx {
    struct round *r;
    unsigned id; /* 1 or 2; 0 stands for NULL */
};

struct round {
    budp_socket *s, *tx;
    budp_addr dest;
    int cb_thread, quiet, shutdown_inside, close_inside;
    unsigned trigger;         /* the callback that shuts down or closes */
    unsigned seed;            /* read-only once the threads run */
    unsigned cb_seed;         /* the callbacks' own */
    uint32_t tag;             /* in every payload: the round */
    struct cb_ctx ctx[3];

    pthread_mutex_t consumer; /* one consumer call at a time */
    int cur_cb;               /* under consumer: the callback installed */
    atomic_uint cb_state;     /* (being installed << 8) | installed */

    atomic_int shut_called;   /* a budp_shutdown of s began */
    atomic_int shut_returned; /* one returned */
    atomic_int stop;          /* the second socket's sender stops */

    /* The gate (see the top of test_lifetime_stress.c). */
    atomic_int inside, setter_inside, closing, close_claimed, closed_inside;
    int closed_by_dispatch;   /* receiver thread: its callback closed s */

    /* Written by the thread that delivers (one at a time). */
    uint32_t next_seq[2];
    unsigned delivered, strays, callbacks, dispatch_calls;
    int dispatch_shut_before;
    atomic_uint issued[2];    /* sequence numbers handed to budp_send */
    unsigned sent[2];
    atomic_uint late_callbacks;

    pthread_mutex_t fail_lock;
    char failure[320];
};

/* Keep the first failure of the round (the main thread asserts on it:
 * Check's asserts belong to the test's own thread). */
void record(struct round *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The gate: 1 and counted in *count, or 0 once a callback is closing. */
int gate_enter(struct round *r, atomic_int *count);
void gate_leave(atomic_int *count);
/* A consumer call: the consumer mutex, then the gate. */
int consumer_enter(struct round *r, atomic_int *count);
void consumer_leave(struct round *r, atomic_int *count);

/* Check rc of a call begun with shut_before (a shutdown had returned): a
 * value in [lo, hi] or alt (0: none) is documented before the shutdown,
 * only -EBADF after it.  Returns 1 when the caller must stop: the socket
 * is shut, or the call broke the contract. */
int expect(struct round *r, const char *call, int shut_before, int rc, int lo, int hi,
           int alt);

/* The length of a payload with sequence number seq. */
uint32_t payload_len(uint32_t seq);
/* One datagram handed to the application, by whichever path. */
void deliver(struct round *r, const uint8_t *data, uint32_t len);

/* Sleep until *flag is set, guard_s seconds at most. */
void wait_flag(atomic_int *flag, int guard_s);

/* The two callbacks the setter alternates (user: a struct cb_ctx). */
int callback_one(void *user, const budp_datagram *d, unsigned n);
int callback_two(void *user, const budp_datagram *d, unsigned n);

#endif
