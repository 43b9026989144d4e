/* test_lifetime.c - the lifetime contract: budp_shutdown wakes blocked
 * calls and turns every later call into -EBADF without touching the socket;
 * budp_close inside a callback (at any nesting depth, on either thread)
 * gives the fd and the receiver thread back before it returns and frees the
 * handle when the callback returns. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define SENTINEL_VIEWS ((const budp_datagram *)(uintptr_t)0x6b6b6b6b)
#define HANG_GUARD_MS 5000

static const uint8_t payload[] = "lifetime";

/* Threads of this process: a receiver thread that is gone no longer shows. */
static int thread_count(void)
{
    return tu_dir_entries("/proc/self/task");
}

/* The thread count once a receiver thread has come and gone: runtimes
 * such as ThreadSanitizer's start a helper thread of their own with the
 * first thread the program creates.  A joined thread leaves
 * /proc/self/task a moment after pthread_join returns: the count is taken
 * once it is back where it was, or (the runtime's helper came) after
 * 200 ms. */
static int settled_thread_count(void)
{
    int before = thread_count();

    budp_close(tu_mode_socket(TU_THREADED));
    for (int i = 0; i < 200 && thread_count() != before; i++)
        tu_sleep_ms(1);
    return thread_count();
}

/* Wait (bounded) until the process has `want` threads again. */
static int threads_back_to(int want)
{
    for (int i = 0; i < HANG_GUARD_MS && thread_count() != want; i++)
        tu_sleep_ms(1);
    return thread_count() == want;
}

static void send_to(const budp_addr *dest, unsigned n)
{
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_datagram d = tu_datagram(payload, sizeof payload, dest);

    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    budp_close(tx);
}

/* ------------------------------------------------------------------ */
/* After a shutdown every call is refused and nothing changes          */
/* ------------------------------------------------------------------ */

static void every_call_refused(enum tu_mode m)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), raw_fd;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    budp_options *o = tu_mode_options(m);
    budp_socket *s = NULL;
    const budp_datagram *v = SENTINEL_VIEWS;
    budp_datagram d;
    budp_addr a, self;
    budp_stats st;
    uint8_t buf[256];
    uint32_t lens[4] = { 7, 7, 7, 7 };
    char got[sizeof payload];
    double t0;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(budp_open(&s, fd, o), 0);
    budp_options_free(o);
    self = tu_local(s);
    raw_fd = budp_socket_fd(s);
    ck_assert_int_eq(raw_fd, fd);

    ck_assert_int_eq(budp_shutdown(s), 0);
    ck_assert_int_eq(budp_shutdown(s), 0);
    /* Queued after the shutdown: no call may take it from the kernel. */
    send_to(&self, 1);
    tu_sleep_ms(20);

    ck_assert_int_eq(budp_recv(s, &v, 8), -EBADF);
    ck_assert_ptr_eq(v, SENTINEL_VIEWS);
    ck_assert_int_eq(budp_recv_packed(s, buf, sizeof buf, lens, NULL, NULL, 4), -EBADF);
    ck_assert_uint_eq(lens[0], 7);
    ck_assert_int_eq(budp_dispatch(s, 8), -EBADF);
    ck_assert_int_eq(budp_wait(s, 0), -EBADF);
    t0 = tu_now_ms();
    ck_assert_int_eq(budp_wait(s, -1), -EBADF); /* at once, not forever */
    printf("wait(-1) after a shutdown (%d): %.3f ms\n", m, tu_now_ms() - t0);
    ck_assert_int_eq(budp_set_callback(s, tu_ignore_batch, NULL), -EBADF);
    d = tu_datagram(payload, sizeof payload, &self);
    ck_assert_int_eq(budp_send(s, &d, 1), -EBADF);
    ck_assert_int_eq(budp_connect(s, "127.0.0.1", 9), -EBADF);
    memset(&a, 0x5a, sizeof a);
    ck_assert_int_eq(budp_local_addr(s, &a), -EBADF);
    ck_assert_uint_eq(a.family, 0x5a5a);
    ck_assert_int_eq(budp_socket_fd(s), -EBADF);
    ck_assert_int_eq(budp_poll_fd(s), -EBADF);
    memset(&st, 0x5a, sizeof st);
    ck_assert_int_eq(budp_get_stats(s, &st, sizeof st), -EBADF);
    ck_assert_uint_eq(st.rx_datagrams, 0x5a5a5a5a5a5a5a5aULL);
    ck_assert_str_eq(budp_backend_name(s), "");

    /* Nothing was sent, connected or read: the datagram is still queued
     * (the receiver thread, stopped by the shutdown, did not read it). */
    ck_assert_int_eq(recv(fd, got, sizeof got, MSG_DONTWAIT), (int)sizeof payload);
    ck_assert_int_eq(memcmp(got, payload, sizeof payload), 0);
    budp_close(s);
    ck_assert(tu_fd_open(fd));
    close(fd);
}

START_TEST(shutdown_refuses_every_call)
{
    every_call_refused((enum tu_mode)_i);
}
END_TEST

START_TEST(shutdown_null)
{
    ck_assert_int_eq(budp_shutdown(NULL), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A thread asleep in budp_wait(-1) wakes with -EBADF                  */
/* ------------------------------------------------------------------ */

struct waiter {
    budp_socket *s;
    atomic_int rc;
    double returned_ms;
};

static void *wait_forever(void *arg)
{
    struct waiter *w = arg;
    int rc = budp_wait(w->s, -1);

    w->returned_ms = tu_now_ms();
    atomic_store(&w->rc, rc);
    return NULL;
}

START_TEST(shutdown_wakes_wait_forever)
{
    enum tu_mode m = (enum tu_mode)_i;
    struct waiter w = { tu_mode_socket(m), 1, 0 };
    pthread_t t;
    int poll_fd = budp_poll_fd(w.s);
    double t0;

    atomic_store(&w.rc, 1);
    ck_assert_int_ge(poll_fd, 0);
    ck_assert_int_eq(pthread_create(&t, NULL, wait_forever, &w), 0);
    tu_sleep_ms(30); /* asleep in poll by now */
    ck_assert_int_eq(atomic_load(&w.rc), 1);
    t0 = tu_now_ms();
    ck_assert_int_eq(budp_shutdown(w.s), 0);
    for (int i = 0; i < HANG_GUARD_MS && atomic_load(&w.rc) == 1; i++)
        tu_sleep_ms(1);
    ck_assert_msg(atomic_load(&w.rc) == -EBADF, "budp_wait(-1) returned %d after the "
                  "shutdown (1: still asleep after %d ms)", atomic_load(&w.rc),
                  HANG_GUARD_MS);
    printf("%s: shutdown -> budp_wait(-1) returned -EBADF in %.3f ms\n",
           m == TU_INLINE ? "inline" : "threaded", w.returned_ms - t0);
    pthread_join(t, NULL);
    if (m == TU_THREADED) {
        /* The notify fd stays readable: an event loop polling it wakes. */
        struct pollfd p = { poll_fd, POLLIN, 0 };
        ck_assert_int_eq(poll(&p, 1, 0), 1);
    }
    budp_close(w.s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Shutdown and close inside callbacks                                 */
/* ------------------------------------------------------------------ */

struct inside {
    budp_socket *s;
    int shutdown_it, close_it;
    int fd;
    int after_send, after_stats, fd_open_after_close;
    int threads_want;       /* the thread count once the receiver is gone
                               (0: not looked at) */
    int threads_after_close;
    atomic_int calls;
    atomic_int finished;    /* the callback wrote the fields above */
};

static int inside_cb(void *user, const budp_datagram *d, unsigned n)
{
    struct inside *in = user;
    budp_stats st;

    (void)d;
    (void)n;
    if (atomic_fetch_add(&in->calls, 1) > 0)
        return BUDP_CALLBACK_CONTINUE;
    if (in->shutdown_it)
        ck_assert_int_eq(budp_shutdown(in->s), 0);
    if (in->close_it) {
        budp_close(in->s);
        budp_close(in->s); /* inside the callback, a second close is harmless */
        in->fd_open_after_close = tu_fd_open(in->fd);
        /* Joined: gone from /proc at once, but for the few microseconds
         * the kernel takes to reap a thread after it signals its exit. */
        for (int i = 0; i < 100 && in->threads_want > 0 &&
                        thread_count() != in->threads_want; i++)
            tu_sleep_ms(1);
        in->threads_after_close = thread_count();
    }
    in->after_send = budp_send(in->s, d, 1);
    in->after_stats = budp_get_stats(in->s, &st, sizeof st);
    atomic_store(&in->finished, 1);
    return BUDP_CALLBACK_CONTINUE;
}

/* Shut down inside a dispatch callback: later calls inside and after it
 * get -EBADF; the owner closes afterwards. */
START_TEST(shutdown_inside_dispatch_callback)
{
    enum tu_mode m = (enum tu_mode)_i;
    struct inside in;
    int n;

    memset(&in, 0, sizeof in);
    in.s = tu_mode_socket(m);
    in.shutdown_it = 1;
    ck_assert_int_eq(budp_set_callback(in.s, inside_cb, &in), 0);
    send_to((budp_addr[]){ tu_local(in.s) }, 3);
    ck_assert_int_eq(budp_wait(in.s, HANG_GUARD_MS), 1);
    n = budp_dispatch(in.s, 8);
    ck_assert_int_ge(n, 1); /* the batch it took went to the callback */
    ck_assert_int_eq(in.after_send, -EBADF);
    ck_assert_int_eq(in.after_stats, -EBADF);
    ck_assert_int_eq(budp_dispatch(in.s, 8), -EBADF);
    ck_assert_int_eq(budp_wait(in.s, -1), -EBADF);
    budp_close(in.s);
}
END_TEST

/* Close inside a dispatch callback: the fd is closed and the receiver
 * thread joined before budp_close returns; dispatch then frees. */
START_TEST(close_inside_dispatch_callback)
{
    enum tu_mode m = (enum tu_mode)_i;
    int threads_before = settled_thread_count();
    struct inside in;
    int n;

    memset(&in, 0, sizeof in);
    in.s = tu_mode_socket(m);
    in.fd = budp_socket_fd(in.s);
    in.close_it = 1;
    in.threads_want = threads_before;
    ck_assert_int_eq(budp_set_callback(in.s, inside_cb, &in), 0);
    send_to((budp_addr[]){ tu_local(in.s) }, 3);
    ck_assert_int_eq(budp_wait(in.s, HANG_GUARD_MS), 1);
    n = budp_dispatch(in.s, 8);
    ck_assert_int_ge(n, 1);
    ck_assert_int_eq(atomic_load(&in.calls), 1);
    ck_assert_msg(!in.fd_open_after_close, "the fd was open when budp_close returned");
    ck_assert_int_eq(in.threads_after_close, threads_before);
    ck_assert_int_eq(in.after_send, -EBADF);
    ck_assert_int_eq(in.after_stats, -EBADF);
}
END_TEST

/* Close inside a callback on the receiver thread: the fd is closed before
 * budp_close returns; the thread frees the socket when the callback
 * returns and ends, so the process is back to its own threads. */
START_TEST(close_inside_receiver_callback)
{
    int threads_before = settled_thread_count();
    struct inside in;

    memset(&in, 0, sizeof in);
    in.s = tu_mode_socket(TU_CALLBACK_THREAD);
    in.fd = budp_socket_fd(in.s);
    in.close_it = 1;
    ck_assert_int_eq(thread_count(), threads_before + 1);
    ck_assert_int_eq(budp_set_callback(in.s, inside_cb, &in), 0);
    send_to((budp_addr[]){ tu_local(in.s) }, 3);
    for (int i = 0; i < HANG_GUARD_MS && !atomic_load(&in.finished); i++)
        tu_sleep_ms(1);
    ck_assert(atomic_load(&in.finished));
    ck_assert_msg(threads_back_to(threads_before),
                  "the receiver thread still runs %d ms after its callback closed "
                  "the socket", HANG_GUARD_MS);
    ck_assert_int_eq(atomic_load(&in.calls), 1);
    ck_assert_msg(!in.fd_open_after_close, "the fd was open when budp_close returned");
    ck_assert_int_eq(in.after_send, -EBADF);
    ck_assert_int_eq(in.after_stats, -EBADF);
}
END_TEST

/* Nested: A's dispatch runs A's callback, which dispatches B, whose
 * callback closes A.  The close cannot wait for A's dispatch (it is on
 * this thread's stack): it completes when A's callback returns. */
struct nested {
    budp_socket *a, *b;
    int a_fd;
    int b_dispatch_rc;
    int a_fd_open_after_close;
    int a_send_after;
    int a_calls, b_calls;
};

static int b_closes_a(void *user, const budp_datagram *d, unsigned n)
{
    struct nested *t = user;

    (void)d;
    (void)n;
    if (t->b_calls++ > 0)
        return BUDP_CALLBACK_CONTINUE;
    budp_close(t->a);
    t->a_fd_open_after_close = tu_fd_open(t->a_fd);
    return BUDP_CALLBACK_CONTINUE;
}

static int a_dispatches_b(void *user, const budp_datagram *d, unsigned n)
{
    struct nested *t = user;

    (void)n;
    if (t->a_calls++ > 0)
        return BUDP_CALLBACK_CONTINUE;
    ck_assert_int_eq(budp_wait(t->b, HANG_GUARD_MS), 1);
    t->b_dispatch_rc = budp_dispatch(t->b, 8);
    /* A is closed but its memory lives until this callback returns. */
    t->a_send_after = budp_send(t->a, d, 1);
    return BUDP_CALLBACK_CONTINUE;
}

START_TEST(nested_close_across_sockets)
{
    enum tu_mode m = (enum tu_mode)_i;
    struct nested t;

    memset(&t, 0, sizeof t);
    t.a = tu_mode_socket(m);
    t.b = tu_mode_socket(m);
    t.a_fd = budp_socket_fd(t.a);
    ck_assert_int_eq(budp_set_callback(t.a, a_dispatches_b, &t), 0);
    ck_assert_int_eq(budp_set_callback(t.b, b_closes_a, &t), 0);
    send_to((budp_addr[]){ tu_local(t.b) }, 1);
    send_to((budp_addr[]){ tu_local(t.a) }, 1);
    ck_assert_int_eq(budp_wait(t.a, HANG_GUARD_MS), 1);
    ck_assert_int_eq(budp_dispatch(t.a, 8), 1);
    ck_assert_int_eq(t.b_dispatch_rc, 1);
    ck_assert_int_eq(t.b_calls, 1);
    ck_assert(!t.a_fd_open_after_close);
    ck_assert_int_eq(t.a_send_after, -EBADF);
    /* B is untouched by A's close. */
    send_to((budp_addr[]){ tu_local(t.b) }, 1);
    while (t.b_calls < 2) {
        /* A wake-up may be spurious: wait again until it is delivered. */
        ck_assert_int_eq(budp_wait(t.b, HANG_GUARD_MS), 1);
        ck_assert_int_ge(budp_dispatch(t.b, 8), 0);
    }
    budp_close(t.b);
}
END_TEST

/* A callback on the receiver thread shuts the socket down while another
 * thread waits in budp_set_callback for that callback to end: the waiting
 * call returns, and the owner closes afterwards. */
struct slow_shutdown {
    budp_socket *s;
    atomic_int entered, done;
};

static int slow_shutdown_cb(void *user, const budp_datagram *d, unsigned n)
{
    struct slow_shutdown *c = user;

    (void)d;
    (void)n;
    if (atomic_exchange(&c->entered, 1))
        return BUDP_CALLBACK_CONTINUE;
    tu_sleep_ms(50);
    budp_shutdown(c->s);
    atomic_store(&c->done, 1);
    return BUDP_CALLBACK_CONTINUE;
}

START_TEST(shutdown_in_receiver_callback_while_set_callback_waits)
{
    struct slow_shutdown c;
    int rc;

    memset(&c, 0, sizeof c);
    c.s = tu_mode_socket(TU_CALLBACK_THREAD);
    ck_assert_int_eq(budp_set_callback(c.s, slow_shutdown_cb, &c), 0);
    send_to((budp_addr[]){ tu_local(c.s) }, 1);
    for (int i = 0; i < HANG_GUARD_MS && !atomic_load(&c.entered); i++)
        tu_sleep_ms(1);
    ck_assert(atomic_load(&c.entered));
    /* Blocks until the running callback returns. */
    rc = budp_set_callback(c.s, tu_ignore_batch, NULL);
    ck_assert_msg(rc == 0 || rc == -EBADF, "set_callback: %s", budp_strerror(rc));
    ck_assert_int_eq(atomic_load(&c.done), 1);
    ck_assert_int_eq(budp_set_callback(c.s, tu_ignore_batch, NULL), -EBADF);
    budp_close(c.s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lifetime");
    TCase *tc = tcase_create("contract");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, shutdown_refuses_every_call, TU_INLINE, TU_CALLBACK_THREAD + 1);
    tcase_add_test(tc, shutdown_null);
    tcase_add_loop_test(tc, shutdown_wakes_wait_forever, TU_INLINE, TU_THREADED + 1);
    tcase_add_loop_test(tc, shutdown_inside_dispatch_callback, TU_INLINE, TU_THREADED + 1);
    tcase_add_loop_test(tc, close_inside_dispatch_callback, TU_INLINE, TU_THREADED + 1);
    tcase_add_test(tc, close_inside_receiver_callback);
    tcase_add_loop_test(tc, nested_close_across_sockets, TU_INLINE, TU_THREADED + 1);
    tcase_add_test(tc, shutdown_in_receiver_callback_while_set_callback_waits);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
