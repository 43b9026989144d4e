/* test_shutdown_stress.c - budp_shutdown at random moments while another
 * thread uses the socket, round after round, on inline, threaded and
 * callback-thread sockets.
 *
 * Each round: a worker thread loops budp_wait(-1) / budp_recv /
 * budp_dispatch / budp_send (sending to its own socket in half the rounds,
 * so that every call has work; in the other half it sleeps in the wait);
 * the main thread sleeps a random 0-2 ms, shuts the socket down, joins the
 * worker and closes.  The worker must leave on -EBADF and on nothing else.
 * Run under ASan and TSan by the test command, a use after free or a race
 * in the lifetime code shows as a report; a lost wake-up shows as a hang,
 * which the join's guard turns into a failure.  The time from the shutdown
 * to the worker's -EBADF is printed, never asserted.
 *
 * BUDP_STRESS_ROUNDS sets the rounds per mode (default 1000). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#define HANG_GUARD_S 10

struct round {
    budp_socket *s;
    budp_addr self;
    int traffic;            /* the worker keeps datagrams flowing */
    int shutdown_inside;    /* callback-thread: the callback shuts down */
    atomic_int ended;       /* the worker saw an error and left */
    int end_rc;
    const char *end_call;
    double end_ms;
    atomic_uint callbacks;
    atomic_int shut_returned;
    atomic_uint late_callbacks; /* began after budp_shutdown returned */
};

static unsigned stress_rounds(void)
{
    const char *env = getenv("BUDP_STRESS_ROUNDS");
    return env != NULL && atoi(env) > 0 ? (unsigned)atoi(env) : 1000;
}

static int count_batch(void *user, const budp_datagram *d, unsigned n)
{
    struct round *r = user;

    (void)d;
    if (atomic_load(&r->shut_returned))
        atomic_fetch_add(&r->late_callbacks, 1);
    atomic_fetch_add(&r->callbacks, n);
    if (r->shutdown_inside && atomic_load(&r->callbacks) >= 3)
        budp_shutdown(r->s);
    return BUDP_CALLBACK_CONTINUE;
}

/* Ends the worker's loop when rc is an error other than a full send
 * buffer. */
static int ended(struct round *r, int rc, const char *call)
{
    if (rc >= 0 || (rc == -EAGAIN && call[0] == 's'))
        return 0;
    r->end_rc = rc;
    r->end_call = call;
    r->end_ms = tu_now_ms();
    atomic_store(&r->ended, 1);
    return 1;
}

static int send_self(struct round *r)
{
    static const uint8_t payload[32] = { 1 };
    budp_datagram d = tu_datagram(payload, sizeof payload, &r->self);
    return budp_send(r->s, &d, 1);
}

static void *consumer_worker(void *arg)
{
    struct round *r = arg;
    const budp_datagram *v;

    if (r->traffic && ended(r, send_self(r), "send"))
        return NULL;
    for (;;) {
        if (ended(r, budp_wait(r->s, -1), "wait") ||
            ended(r, budp_recv(r->s, &v, 8), "recv") ||
            ended(r, budp_dispatch(r->s, 8), "dispatch"))
            return NULL;
        if (r->traffic && ended(r, send_self(r), "send"))
            return NULL;
    }
}

/* Callback-thread mode has no consumer calls: the worker sends, the
 * receiver thread runs the callback. */
static void *sender_worker(void *arg)
{
    struct round *r = arg;
    const struct timespec pause = { 0, 20000 };

    for (;;) {
        if (ended(r, send_self(r), "send"))
            return NULL;
        nanosleep(&pause, NULL);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stress(enum tu_mode m, const char *name)
{
    unsigned rounds = stress_rounds(), late = 0;
    double *lat = calloc(rounds, sizeof *lat);
    unsigned seed = 12345u + (unsigned)m;

    ck_assert_ptr_nonnull(lat);
    for (unsigned i = 0; i < rounds; i++) {
        struct round r;
        pthread_t worker;
        struct timespec delay = { 0, (long)(rand_r(&seed) % 2000) * 1000L }, guard;
        double t0;

        memset(&r, 0, sizeof r);
        r.s = tu_mode_socket(m);
        r.self = tu_local(r.s);
        r.traffic = m == TU_CALLBACK_THREAD || i % 2 == 0;
        r.shutdown_inside = m == TU_CALLBACK_THREAD && i % 4 == 1;
        ck_assert_int_eq(budp_set_callback(r.s, count_batch, &r), 0);
        ck_assert_int_eq(pthread_create(&worker, NULL,
                                        m == TU_CALLBACK_THREAD ? sender_worker
                                                             : consumer_worker,
                                        &r),
                         0);
        nanosleep(&delay, NULL);
        t0 = tu_now_ms();
        ck_assert_int_eq(budp_shutdown(r.s), 0);
        atomic_store(&r.shut_returned, 1);
        ck_assert_int_eq(budp_shutdown(r.s), 0); /* idempotent */
        clock_gettime(CLOCK_REALTIME, &guard);
        guard.tv_sec += HANG_GUARD_S;
        ck_assert_msg(pthread_timedjoin_np(worker, NULL, &guard) == 0,
                      "%s round %u: the worker did not return within %d s of the "
                      "shutdown",
                      name, i, HANG_GUARD_S);
        ck_assert_msg(r.end_rc == -EBADF, "%s round %u: %s returned %d (%s), not -EBADF",
                      name, i, r.end_call, r.end_rc, budp_strerror(r.end_rc));
        lat[i] = r.end_ms > t0 ? r.end_ms - t0 : 0;
        late += atomic_load(&r.late_callbacks) > 0;
        /* A callback running when the shutdown returned may finish; no
         * batch may start later. */
        ck_assert_uint_le(atomic_load(&r.late_callbacks), 1);
        budp_close(r.s);
    }
    qsort(lat, rounds, sizeof *lat, cmp_double);
    printf("%s: %u rounds; shutdown -> -EBADF in the worker: median %.3f ms, "
           "99th percentile %.3f ms, max %.3f ms; rounds with a callback running "
           "across the shutdown: %u\n",
           name, rounds, lat[rounds / 2], lat[rounds - 1 - rounds / 100],
           lat[rounds - 1], late);
    free(lat);
}

START_TEST(stress_inline)
{
    stress(TU_INLINE, "inline");
}
END_TEST

START_TEST(stress_threaded)
{
    stress(TU_THREADED, "threaded");
}
END_TEST

START_TEST(stress_callback_thread)
{
    stress(TU_CALLBACK_THREAD, "callback-thread");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shutdown_stress");
    TCase *tc = tcase_create("rounds");

    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, stress_inline);
    tcase_add_test(tc, stress_threaded);
    tcase_add_test(tc, stress_callback_thread);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
