/* test_wakeups.c - errors and wake-ups between the receiver thread and the
 * application, under injected faults: a fatal receive error reaches a
 * callback-thread application through budp_wait; transient errors in
 * threaded mode are returned (the latest) and counted (all); failed
 * writes to the wake-up fds (a pipe's can fail) delay wake-ups but never
 * lose one: no stalled transfer, no hung close. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "faults/fault_shim.h"
#include "testutil.h"

#define GUARD_MS 5000

static budp_socket *sender(void)
{
    return tu_bind("127.0.0.1", NULL);
}

static void send_some(budp_socket *tx, budp_socket *rx, unsigned n)
{
    budp_addr dest = tu_local(rx);

    tu_send_seq(tx, &dest, 0, 0, n, 64, n < 16 ? n : 16);
}

static atomic_uint delivered;

static int count_batch(void *user, const budp_datagram *d, unsigned n)
{
    (void)user;
    (void)d;
    atomic_fetch_add(&delivered, n);
    return BUDP_CALLBACK_CONTINUE;
}

static budp_socket *callback_socket(void)
{
    budp_socket *s = tu_mode_socket(TU_CALLBACK_THREAD);

    atomic_store(&delivered, 0);
    ck_assert_int_eq(budp_set_callback(s, count_batch, NULL), 0);
    return s;
}

/* The fd behind the library's back: EBADF stops the receiver thread, and
 * budp_wait says so, every time, while the socket is still open. */
START_TEST(callback_thread_fatal_error)
{
    budp_socket *rx, *tx = sender();
    double t0;

    /* The receiver thread receives once as soon as the callback is set,
     * and sleeps on the socket when that finds nothing; twice when the
     * callback was set before the thread first looked (the wake-up of
     * budp_set_callback then ends its first sleep).  The fault is set only
     * once those receives are over (counted from the reset, on every fd:
     * no new one for 50 ms), so that it meets the datagram sent below and
     * nothing before it. */
    fault_reset();
    rx = callback_socket();
    for (int i = 0, quiet = 0, seen = 0; i < GUARD_MS && quiet < 50; i++) {
        int now = (int)fault_calls(FAULT_RECVMMSG);
        quiet = now > 0 && now == seen ? quiet + 1 : 0;
        seen = now;
        tu_sleep_ms(1);
    }
    ck_assert_uint_ge(fault_calls(FAULT_RECVMMSG), 1);
    fault_target_fd(budp_socket_fd(rx));
    fault_recv_error(EBADF, -1);
    ck_assert_int_eq(budp_wait(rx, 0), 0);
    send_some(tx, rx, 1);
    t0 = tu_now_ms();
    ck_assert_int_eq(budp_wait(rx, GUARD_MS), -EBADF);
    ck_assert_msg(tu_now_ms() - t0 < GUARD_MS, "budp_wait slept to its timeout");
    ck_assert_int_eq(budp_wait(rx, 0), -EBADF);
    ck_assert_int_eq(budp_wait(rx, -1), -EBADF);
    ck_assert_uint_eq(tu_stats(rx).rx_errors, 1);
    ck_assert_uint_eq(atomic_load(&delivered), 0);
    fault_reset();
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* A transient error is reported once, and the thread goes on. */
START_TEST(callback_thread_transient_error)
{
    budp_socket *rx = callback_socket(), *tx = sender();

    fault_reset();
    fault_target_fd(budp_socket_fd(rx));
    fault_recv_error(ECONNREFUSED, 1);
    send_some(tx, rx, 5);
    ck_assert_int_eq(budp_wait(rx, GUARD_MS), -ECONNREFUSED);
    for (int i = 0; i < GUARD_MS && atomic_load(&delivered) < 5; i++)
        tu_sleep_ms(1);
    ck_assert_uint_eq(atomic_load(&delivered), 5);
    ck_assert_int_eq(budp_wait(rx, 20), 0);
    ck_assert_uint_eq(tu_stats(rx).rx_errors, 1);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* A shutdown wakes a budp_wait that waits for errors. */
static void *shut_later(void *arg)
{
    tu_sleep_ms(50);
    budp_shutdown(arg);
    return NULL;
}

START_TEST(callback_thread_wait_woken_by_shutdown)
{
    budp_socket *rx = callback_socket();
    pthread_t t;

    ck_assert_int_eq(pthread_create(&t, NULL, shut_later, rx), 0);
    ck_assert_int_eq(budp_wait(rx, GUARD_MS), -EBADF);
    pthread_join(t, NULL);
    budp_close(rx);
}
END_TEST

/* Threaded mode: transient errors met before the consumer calls are all
 * counted, the latest is returned once, and the datagrams still come. */
START_TEST(threaded_transient_errors)
{
    budp_socket *rx = tu_mode_socket(TU_THREADED), *tx = sender();
    const budp_datagram *v;
    unsigned got = 0;
    int n, errors_seen = 0;

    fault_reset();
    fault_target_fd(budp_socket_fd(rx));
    fault_recv_error(ECONNREFUSED, 3);
    send_some(tx, rx, 5);
    for (int i = 0; i < GUARD_MS && tu_stats(rx).rx_errors < 3; i++)
        tu_sleep_ms(1);
    ck_assert_uint_eq(tu_stats(rx).rx_errors, 3);
    while (got < 5 && budp_wait(rx, GUARD_MS) == 1) {
        n = budp_recv(rx, &v, 64);
        if (n == -ECONNREFUSED) {
            errors_seen++;
            continue;
        }
        ck_assert_int_ge(n, 0);
        got += (unsigned)n;
    }
    ck_assert_uint_eq(got, 5);
    /* Nothing left but the error, once. */
    if (errors_seen == 0)
        ck_assert_int_eq(budp_recv(rx, &v, 64), -ECONNREFUSED);
    ck_assert_int_eq(budp_recv(rx, &v, 64), 0);
    ck_assert_int_le(errors_seen, 1);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* How the wake-up writes fail, and whether the fds are pipes. */
static const struct write_fault {
    const char *name;
    int pipes;
    unsigned every;
    int count;
} write_faults[] = {
    { "eventfd, every 2nd write", 0, 2, -1 },
    { "pipe, every 2nd write", 1, 2, -1 },
    { "eventfd, every 3rd write", 0, 3, -1 },
    { "pipe, 40 writes in a row", 1, 1, 40 },
};
#define NFAULTS ((int)(sizeof write_faults / sizeof write_faults[0]))

static void inject_write_fault(const struct write_fault *f)
{
    fault_reset();
    if (f->pipes)
        fault_eventfd_error(ENOSYS);
}

/* A threaded transfer through a small ring (many wake-ups both ways)
 * completes in full. */
START_TEST(threaded_transfer_survives_failed_wakeups)
{
    const struct write_fault *f = &write_faults[_i];
    budp_options *o = tu_options(BUDP_OPT_THREADED, (int64_t)1,
                                 BUDP_OPT_RING_CAPACITY, (int64_t)4,
                                 BUDP_OPT_BATCH_SIZE, (int64_t)2,
                                 BUDP_OPT_GRO, (int64_t)0,
                                 /* the whole burst fits in the kernel */
                                 BUDP_OPT_RECV_BUFFER, (int64_t)(8 << 20), 0);
    budp_socket *rx, *tx = sender();
    unsigned count = tu_scaled(3000, 300), got;
    budp_addr dest;

    inject_write_fault(f);
    rx = tu_bind("127.0.0.1", o);
    budp_options_free(o);
    dest = tu_local(rx);
    fault_notify_write(EIO, f->every, f->count);
    tu_send_seq(tx, &dest, 0, 0, count, 64, 16);
    got = tu_recv_seq(rx, count, GUARD_MS);
    ck_assert_msg(got == count, "%s: %u of %u datagrams (stalled)", f->name, got,
                  count);
    ck_assert_msg(fault_notify_writes_failed() > 0, "%s: no write failed", f->name);
    budp_close(rx);
    budp_close(tx);
    fault_reset();
}
END_TEST

/* Closing a callback-thread socket whose wake-up writes fail: the thread
 * is woken and joined, close returns. */
START_TEST(callback_close_survives_failed_wakeups)
{
    const struct write_fault *f = &write_faults[_i];
    budp_socket *rx, *tx = sender();
    double t0;

    inject_write_fault(f);
    rx = callback_socket();
    send_some(tx, rx, 10);
    for (int i = 0; i < GUARD_MS && atomic_load(&delivered) < 10; i++)
        tu_sleep_ms(1);
    ck_assert_uint_eq(atomic_load(&delivered), 10);
    /* The thread is asleep on the socket; the writes that would wake it
     * fail from here on. */
    fault_notify_write(EIO, 1, f->count < 0 ? 3 : f->count);
    t0 = tu_now_ms();
    budp_close(rx);
    ck_assert_msg(tu_now_ms() - t0 < GUARD_MS, "%s: close took %.0f ms", f->name,
                  tu_now_ms() - t0);
    ck_assert_uint_gt(fault_notify_writes_failed(), 0);
    budp_close(tx);
    fault_reset();
}
END_TEST

struct waiter {
    budp_socket *s;
    int rc;
};

static void *wait_forever(void *arg)
{
    struct waiter *w = arg;

    w->rc = budp_wait(w->s, -1);
    return NULL;
}

/* A shutdown whose wake-up write fails: the waiter is woken by close,
 * which waits for it to leave. */
START_TEST(close_wakes_waiter_after_failed_shutdown_write)
{
    const struct write_fault *f = &write_faults[_i];
    const enum tu_mode mode = f->pipes ? TU_INLINE : TU_THREADED;
    struct waiter w;
    pthread_t t;

    inject_write_fault(f);
    w.s = tu_mode_socket(mode);
    w.rc = 1;
    ck_assert_int_eq(pthread_create(&t, NULL, wait_forever, &w), 0);
    tu_sleep_ms(50);
    fault_notify_write(EIO, 1, f->count < 0 ? 2 : f->count);
    budp_shutdown(w.s);
    budp_close(w.s);
    pthread_join(t, NULL);
    ck_assert_int_eq(w.rc, -EBADF);
    ck_assert_uint_gt(fault_notify_writes_failed(), 0);
    fault_reset();
}
END_TEST

static Suite *wakeups_suite(void)
{
    Suite *s = suite_create("wakeups");
    TCase *errors = tcase_create("errors");
    TCase *faults = tcase_create("failed_writes");

    /* No fault outlives its test (CK_FORK=no runs them in one process). */
    tcase_add_checked_fixture(errors, fault_reset, fault_reset);
    tcase_add_checked_fixture(faults, fault_reset, fault_reset);
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, callback_thread_fatal_error);
    tcase_add_test(errors, callback_thread_transient_error);
    tcase_add_test(errors, callback_thread_wait_woken_by_shutdown);
    tcase_add_test(errors, threaded_transient_errors);
    suite_add_tcase(s, errors);
    tcase_set_timeout(faults, 60);
    tcase_add_loop_test(faults, threaded_transfer_survives_failed_wakeups, 0, NFAULTS);
    tcase_add_loop_test(faults, callback_close_survives_failed_wakeups, 0, NFAULTS);
    tcase_add_loop_test(faults, close_wakes_waiter_after_failed_shutdown_write, 0,
                        NFAULTS);
    suite_add_tcase(s, faults);
    return s;
}

int main(void)
{
    return tu_run(wakeups_suite());
}
