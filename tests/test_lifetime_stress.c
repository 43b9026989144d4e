/* test_lifetime_stress.c - the lifetime contract with every kind of call
 * running at once, round after round: inline, threaded WAIT, threaded DROP
 * and callback-thread sockets, IPv4 and IPv6 in turn.
 *
 * Each round makes one socket and five threads that use it together:
 *  - a receiver: budp_recv, budp_recv_packed, budp_dispatch, budp_wait with
 *    timeouts of 0, 1 and -1 ms (in callback-thread mode the first three
 *    must give -EINVAL, the waits 0);
 *  - a waiter in budp_wait(-1);
 *  - a setter that alternates budp_set_callback between two callbacks and
 *    NULL, and calls budp_get_stats and the getters;
 *  - two senders, the socket to itself and a second socket to it, each
 *    with sequence numbers in its payloads.
 * The test's main thread, the owner, shuts the socket down after a random
 * 0-2 ms, joins the threads with a guard (a hang is a failure, not a
 * timeout) and closes.  One round in four a callback shuts the socket down
 * instead; one in four a callback closes it (on the receiver thread in
 * callback-thread mode, inside budp_dispatch otherwise); one in four no
 * datagram is sent, so that the waits sleep until the shutdown wakes them.
 *
 * The header makes budp_recv, budp_recv_packed, budp_dispatch, budp_wait and
 * budp_set_callback consumer calls, one thread at a time: the test's
 * threads take turns at them under a mutex.  budp_send, budp_get_stats,
 * the getters and budp_shutdown run on any thread at any moment.
 *
 * A close inside a callback needs every other thread out of the socket,
 * and the callback cannot wait for a thread that waits for it (a
 * budp_set_callback in callback-thread mode does).  So every call the
 * test's threads make on the socket passes a gate: it counts itself in
 * and looks at a closing flag; the closing callback raises the flag, backs
 * off while a budp_set_callback is inside, shuts down, waits for the count
 * to fall, then closes.
 *
 * Checked per round: every call returns what the header documents, and
 * after the shutdown returned only -EBADF (no -EBADF before a shutdown
 * began); every thread leaves within HANG_GUARD_S of the shutdown; no
 * callback begins after the shutdown returned but the one a receiver
 * thread had already started, or one from a dispatch that began before;
 * an old callback never runs once budp_set_callback replaced it; every
 * datagram arrives intact, with the length its sequence number gives, at
 * most once and in order per sender.  After all rounds the process has as
 * many fds and threads as before.
 *
 * BUDP_STRESS_ROUNDS sets the rounds per mode (default 1000, divided by
 * BUDP_TEST_SCALE). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lifetime_round.h"
#include "testutil.h"

static const char *const mode_names[] = { "inline", "threaded WAIT", "threaded DROP",
                                          "callback-thread" };

/* ------------------------------------------------------------------ */
/* The threads                                                         */
/* ------------------------------------------------------------------ */

/* One consumer call, op 0-5; shut: the socket is known to be shut. */
static int receive_once(struct round *r, unsigned op, unsigned max, int shut)
{
    int sb = shut || atomic_load(&r->shut_returned), rc;
    int inval = r->cb_thread ? -EINVAL : 0, lo = 0, hi = r->cb_thread ? -1 : (int)max;
    const budp_datagram *v;
    uint8_t buf[MAX_BATCH * MAX_PAYLOAD];
    uint32_t lens[MAX_BATCH], flags[MAX_BATCH];
    budp_addr peers[MAX_BATCH];
    static const int waits[] = { 0, 1, -1 };

    switch (op) {
    case 0:
        rc = budp_recv(r->s, &v, max);
        for (int i = 0; i < rc; i++)
            deliver(r, v[i].data, v[i].len);
        return expect(r, "budp_recv", sb, rc, lo, hi, inval);
    case 1:
        rc = budp_recv_packed(r->s, buf, sizeof buf, lens, flags, peers, max);
        for (int i = 0, off = 0; i < rc; off += (int)lens[i], i++)
            if (flags[i] != 0 || peers[i].family != r->dest.family)
                record(r, "budp_recv_packed: flags %u, family %u", flags[i],
                       peers[i].family);
            else
                deliver(r, buf + off, lens[i]);
        return expect(r, "budp_recv_packed", sb, rc, lo, hi, inval);
    case 2:
        r->dispatch_calls = 0;
        r->dispatch_shut_before = sb;
        rc = budp_dispatch(r->s, max);
        if (rc > 0 && r->dispatch_calls != 1)
            record(r, "budp_dispatch returned %d after %u callbacks", rc,
                   r->dispatch_calls);
        if (r->cur_cb == 0 && !r->cb_thread)
            return expect(r, "budp_dispatch (no callback)", sb, rc, 1, 0, -EINVAL);
        return r->closed_by_dispatch || expect(r, "budp_dispatch", sb, rc, lo, hi, inval);
    default: {
        /* Forever only inline and threaded: in callback-thread mode it
         * would hold the consumer's turn until the shutdown. */
        int t = waits[(op - 3) % (r->cb_thread ? 2u : 3u)];
        rc = budp_wait(r->s, t);
        return expect(r, "budp_wait", sb, rc, t < 0 ? 1 : 0, r->cb_thread ? 0 : 1, 0);
    }
    }
}

static void *receiver_main(void *arg)
{
    struct round *r = arg;
    unsigned seed = r->seed * 3u + 1u;
    int done = 0;

    while (!done && consumer_enter(r, &r->inside)) {
        /* Three receives in four calls, a wait in the fourth. */
        unsigned pick = rand_r(&seed) % 8u, op = pick < 6 ? pick % 3u : 3u + pick % 3u;

        done = receive_once(r, op, 1u + rand_r(&seed) % MAX_BATCH, 0);
        consumer_leave(r, &r->inside);
        if (r->closed_by_dispatch)
            return NULL; /* freed when the dispatch returned */
    }
    /* Shut: each call once more, and now it must be -EBADF. */
    for (unsigned op = 0; op < 6 && consumer_enter(r, &r->inside); op++) {
        receive_once(r, op, MAX_BATCH, 1);
        consumer_leave(r, &r->inside);
    }
    return NULL;
}

static void *waiter_main(void *arg)
{
    struct round *r = arg;
    unsigned seed = r->seed * 5u + 2u, patience = r->cb_thread ? rand_r(&seed) % 20u : 0;
    const struct timespec breath = { 0, 50000 };

    for (unsigned i = 0; consumer_enter(r, &r->inside); i++) {
        int sb = atomic_load(&r->shut_returned);
        int t = i < patience ? 1 : -1, rc = budp_wait(r->s, t);
        /* Forever: 1 (data), or in callback-thread mode nothing but an
         * error, of which none comes here. */
        int lo = t < 0 ? 1 : 0, hi = r->cb_thread ? 0 : 1;

        consumer_leave(r, &r->inside);
        if (expect(r, "budp_wait (waiter)", sb, rc, lo, hi, 0))
            break;
        if (rc == 1)
            nanosleep(&breath, NULL); /* let the receiver take it */
    }
    return NULL;
}

static void set_callback_once(struct round *r, unsigned *k, int shut)
{
    static const budp_recv_fn fns[3] = { NULL, callback_one, callback_two };
    unsigned installed = atomic_load(&r->cb_state) & 0xffu;
    int sb = shut || atomic_load(&r->shut_returned), rc;

    /* NULL stops the callbacks a close inside one needs. */
    *k = (*k + 1) % 3u;
    if (*k == 0 && r->close_inside)
        *k = 1;
    atomic_store(&r->cb_state, (*k << 8) | installed);
    rc = budp_set_callback(r->s, fns[*k], *k ? &r->ctx[*k] : NULL);
    if (rc == 0) {
        r->cur_cb = (int)*k;
        installed = *k;
    }
    atomic_store(&r->cb_state, (installed << 8) | installed);
    expect(r, "budp_set_callback", sb, rc, 0, 0, 0);
}

/* The calls any thread may make; 1 once the socket is shut. */
static int getters_once(struct round *r, int known_shut)
{
    int sb = known_shut || atomic_load(&r->shut_returned), shut = 0, pfd;
    budp_stats st;
    budp_addr a;
    const char *name;

    shut |= expect(r, "budp_get_stats", sb, budp_get_stats(r->s, &st, sizeof st),
                   (int)sizeof st, (int)sizeof st, 0);
    shut |= expect(r, "budp_socket_fd", sb, budp_socket_fd(r->s), 0, 1 << 30, 0);
    pfd = budp_poll_fd(r->s);
    shut |= expect(r, "budp_poll_fd", sb, pfd, r->cb_thread ? 1 : 0,
                   r->cb_thread ? 0 : 1 << 30, r->cb_thread ? -ENOTSUP : 0);
    memset(&a, 0, sizeof a);
    shut |= expect(r, "budp_local_addr", sb, budp_local_addr(r->s, &a), 0, 0, 0);
    if (a.family != 0 && a.port != r->dest.port)
        record(r, "budp_local_addr: port %u, bound to %u", a.port, r->dest.port);
    name = budp_backend_name(r->s);
    if (sb && name[0] != '\0')
        record(r, "budp_backend_name gave \"%s\" after the shutdown", name);
    return shut;
}

static void *setter_main(void *arg)
{
    struct round *r = arg;
    unsigned k = 1;
    const struct timespec breath = { 0, 20000 };

    for (int shut = 0; !shut;) {
        /* A waiter may hold the consumer's turn for long: no queueing. */
        if (pthread_mutex_trylock(&r->consumer) == 0) {
            int in = gate_enter(r, &r->setter_inside);
            if (in) {
                set_callback_once(r, &k, 0);
                gate_leave(&r->setter_inside);
            }
            pthread_mutex_unlock(&r->consumer);
            if (!in)
                break;
        }
        if (!gate_enter(r, &r->inside))
            break;
        shut = getters_once(r, 0);
        gate_leave(&r->inside);
        nanosleep(&breath, NULL);
    }
    /* Shut: once more, and now every call must give -EBADF. */
    if (gate_enter(r, &r->inside)) {
        getters_once(r, 1);
        gate_leave(&r->inside);
    }
    if (consumer_enter(r, &r->setter_inside)) {
        set_callback_once(r, &k, 1);
        consumer_leave(r, &r->setter_inside);
    }
    return NULL;
}

struct sender {
    struct round *r;
    int id;
};

static void *sender_main(void *arg)
{
    struct sender *sd = arg;
    struct round *r = sd->r;
    unsigned seed = r->seed * 7u + (unsigned)sd->id, next = 0;
    uint8_t bufs[4][MAX_PAYLOAD];
    budp_datagram d[4];
    const struct timespec breath = { 0, 20000 };

    while (!r->quiet && !(sd->id == OTHER && atomic_load(&r->stop))) {
        unsigned n = 1 + rand_r(&seed) % 4u;
        int sb, rc;

        for (unsigned i = 0; i < n; i++) {
            tu_payload_fill(bufs[i], payload_len(next + i), r->tag << 1 | (uint32_t)sd->id,
                            next + i);
            d[i] = tu_datagram(bufs[i], payload_len(next + i), &r->dest);
        }
        atomic_store(&r->issued[sd->id], next + n);
        if (sd->id == OTHER) {
            rc = budp_send(r->tx, d, n);
            if (rc < 0 && rc != -EAGAIN && rc != -ENOBUFS && rc != -ECONNREFUSED)
                record(r, "budp_send from the second socket: %s", budp_strerror(rc));
        } else {
            if (!gate_enter(r, &r->inside))
                break;
            sb = atomic_load(&r->shut_returned);
            rc = budp_send(r->s, d, n);
            gate_leave(&r->inside);
            if (rc != -EAGAIN && rc != -ENOBUFS &&
                expect(r, "budp_send", sb, rc, 1, (int)n, 0))
                break;
        }
        if (rc > 0)
            next += (unsigned)rc;
        nanosleep(&breath, NULL);
    }
    r->sent[sd->id] = next;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Rounds                                                              */
/* ------------------------------------------------------------------ */

struct totals {
    unsigned rounds, v6, closed_inside, shut_inside, late, strays;
    unsigned long long delivered, sent, callbacks;
};

static budp_options *mode_options(enum stress_mode m)
{
    return tu_options(BUDP_OPT_BATCH_SIZE, (int64_t)MAX_BATCH, BUDP_OPT_GRO, (int64_t)0,
                      BUDP_OPT_THREADED, (int64_t)(m != SM_INLINE),
                      BUDP_OPT_CALLBACK_THREAD, (int64_t)(m == SM_CALLBACK_THREAD),
                      BUDP_OPT_OVERFLOW,
                      (int64_t)(m == SM_DROP ? BUDP_OVERFLOW_DROP : BUDP_OVERFLOW_WAIT),
                      BUDP_OPT_RING_CAPACITY, (int64_t)16, 0);
}

static void join_guarded(pthread_t t, const char *what, unsigned round)
{
    struct timespec guard;

    clock_gettime(CLOCK_REALTIME, &guard);
    guard.tv_sec += HANG_GUARD_S;
    ck_assert_msg(pthread_timedjoin_np(t, NULL, &guard) == 0,
                  "round %u: the %s did not return within %d s of the shutdown", round,
                  what, HANG_GUARD_S);
}

static void run_round(enum stress_mode m, unsigned i, int v6, struct totals *t)
{
    static const char *const names[] = { "receiver", "waiter", "setter",
                                         "sender (itself)", "sender (second socket)" };
    void *(*const mains[])(void *) = { receiver_main, waiter_main, setter_main };
    budp_options *o = mode_options(m);
    struct round r;
    struct sender senders[2];
    pthread_t th[5];
    struct timespec delay;

    memset(&r, 0, sizeof r);
    r.seed = 2654435761u * (i + 1) + (unsigned)m;
    r.cb_seed = r.seed ^ 0x5bd1e995u;
    r.tag = i + 1;
    r.cb_thread = m == SM_CALLBACK_THREAD;
    r.shutdown_inside = i % 4 == 1;
    r.close_inside = i % 4 == 2;
    r.quiet = i % 4 == 3;
    r.trigger = 1 + rand_r(&r.seed) % 3u;
    delay = (struct timespec){ 0, (long)(rand_r(&r.seed) % 2000u) * 1000L };
    pthread_mutex_init(&r.consumer, NULL);
    pthread_mutex_init(&r.fail_lock, NULL);
    r.s = tu_bind(v6 ? "::1" : "127.0.0.1", o);
    r.tx = tu_bind(v6 ? "::1" : "127.0.0.1", NULL);
    budp_options_free(o);
    r.dest = tu_local(r.s);
    for (unsigned k = 1; k < 3; k++)
        r.ctx[k] = (struct cb_ctx){ &r, k };
    ck_assert_int_eq(budp_set_callback(r.s, callback_one, &r.ctx[1]), 0);
    r.cur_cb = 1;
    atomic_store(&r.cb_state, (1u << 8) | 1u);

    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(pthread_create(&th[k], NULL, mains[k], &r), 0);
    for (int k = 0; k < 2; k++) {
        senders[k] = (struct sender){ &r, k };
        ck_assert_int_eq(pthread_create(&th[3 + k], NULL, sender_main, &senders[k]), 0);
    }
    nanosleep(&delay, NULL);
    if (gate_enter(&r, &r.inside)) {
        atomic_store(&r.shut_called, 1);
        ck_assert_int_eq(budp_shutdown(r.s), 0);
        atomic_store(&r.shut_returned, 1);
        ck_assert_int_eq(budp_shutdown(r.s), 0); /* idempotent */
        gate_leave(&r.inside);
    } else {
        /* A callback is closing s: it shuts it down first. */
        wait_flag(&r.shut_returned, HANG_GUARD_S);
        ck_assert_msg(atomic_load(&r.shut_returned), "%s round %u: the closing "
                      "callback never shut the socket down", mode_names[m], i);
    }
    atomic_store(&r.stop, 1);
    for (int k = 0; k < 5; k++)
        join_guarded(th[k], names[k], i);
    ck_assert_msg(r.failure[0] == '\0', "%s round %u (%s%s): %s", mode_names[m], i,
                  v6 ? "IPv6" : "IPv4",
                  r.close_inside ? ", close inside" : r.shutdown_inside ? ", shutdown inside"
                                                    : r.quiet ? ", quiet" : "",
                  r.failure);
    if (!atomic_exchange(&r.close_claimed, 1)) {
        budp_close(r.s); /* joins the receiver thread: its callbacks are over */
    } else {
        wait_flag(&r.closed_inside, HANG_GUARD_S);
        ck_assert_msg(atomic_load(&r.closed_inside), "%s round %u: the close inside "
                      "the callback did not finish", mode_names[m], i);
        t->closed_inside++;
    }
    ck_assert_msg(r.failure[0] == '\0', "%s round %u: %s", mode_names[m], i, r.failure);
    /* A receiver thread's callback may begin as the shutdown returns. */
    ck_assert_uint_le(atomic_load(&r.late_callbacks), 1);
    budp_close(r.tx);
    t->rounds++;
    t->v6 += v6;
    t->shut_inside += r.shutdown_inside && r.callbacks >= r.trigger;
    t->late += atomic_load(&r.late_callbacks);
    t->delivered += r.delivered;
    t->strays += r.strays;
    t->sent += r.sent[SELF] + r.sent[OTHER];
    t->callbacks += r.callbacks;
    pthread_mutex_destroy(&r.consumer);
    pthread_mutex_destroy(&r.fail_lock);
}

static unsigned stress_rounds(void)
{
    const char *env = getenv("BUDP_STRESS_ROUNDS");
    return env != NULL && atoi(env) > 0 ? (unsigned)atoi(env) : tu_scaled(1000, 20);
}

static int have_ipv6(void)
{
    budp_socket *s = NULL;

    if (budp_bind(&s, "::1", 0, NULL) != 0)
        return 0;
    budp_close(s);
    return 1;
}

static int thread_count(void)
{
    return tu_dir_entries("/proc/self/task");
}

START_TEST(lifetime_stress)
{
    enum stress_mode m = (enum stress_mode)_i;
    unsigned rounds = stress_rounds();
    int v6ok = have_ipv6(), fds, threads;
    struct totals t;
    double t0;

    /* As test_lifetime: a sanitizer's helper thread comes with the first
     * thread the process makes, and a joined thread leaves /proc/self/task
     * a moment after the join. */
    budp_close(tu_mode_socket(TU_THREADED));
    tu_sleep_ms(200);
    threads = thread_count();
    fds = tu_dir_entries("/proc/self/fd");
    memset(&t, 0, sizeof t);
    t0 = tu_now_ms();
    for (unsigned i = 0; i < rounds; i++)
        run_round(m, i, v6ok && ((i >> 2) ^ i) % 2 == 1, &t);
    for (int k = 0; k < HANG_GUARD_S * 1000 && thread_count() != threads; k++)
        tu_sleep_ms(1);
    printf("%s: %u rounds (%u IPv6) in %.0f ms; %llu datagrams sent, %llu delivered, "
           "%llu callbacks; shut down inside a callback %u times, closed inside %u "
           "times; %u callbacks began as the shutdown returned; %u strays from "
           "earlier rounds\n",
           mode_names[m], t.rounds, t.v6, tu_now_ms() - t0, t.sent, t.delivered,
           t.callbacks, t.shut_inside, t.closed_inside, t.late, t.strays);
    ck_assert_int_eq(tu_dir_entries("/proc/self/fd"), fds);
    ck_assert_int_eq(thread_count(), threads);
    if (!v6ok)
        printf("no IPv6 loopback: IPv4 only\n");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lifetime_stress");
    TCase *tc = tcase_create("rounds");

    tcase_set_timeout(tc, 900);
    tcase_add_loop_test(tc, lifetime_stress, SM_INLINE, SM_CALLBACK_THREAD + 1);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
