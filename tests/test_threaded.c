/* test_threaded.c - threaded mode: conservation under load with each
 * overflow policy, the poll fd, close while idle or with a full ring,
 * callback-thread delivery, error propagation (the lifetime contract,
 * shutdown and close inside callbacks, is test_lifetime.c's). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static int fd_readable_within(int fd, int timeout_ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static int fd_readable(int fd)
{
    return fd_readable_within(fd, 0);
}

/* ---- conservation under load ------------------------------------------ */

#define SENDERS 2

struct sender_arg {
    budp_addr dest;
    uint32_t id;
    unsigned count;
    atomic_int *done;
};

static void *sender_main(void *arg)
{
    struct sender_arg *a = arg;
    /* No GSO: the kernel counts drops per packet, so only one datagram per
     * packet makes kernel drops add up to datagrams. */
    budp_options *o = tu_options(BUDP_OPT_BATCH_SIZE, (int64_t)64,
                                 BUDP_OPT_GSO, (int64_t)0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", o);

    tu_send_seq(tx, &a->dest, a->id, 0, a->count, 64, 64);
    budp_close(tx);
    budp_options_free(o);
    atomic_fetch_add(a->done, 1);
    return NULL;
}

struct tally {
    uint32_t next[SENDERS];   /* lowest sequence number still allowed */
    uint64_t delivered;
};

static void check_batch(struct tally *t, const budp_datagram *v, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t sender = 0, seq = 0;
        ck_assert_uint_eq(v[i].len, 64);
        ck_assert_msg(tu_payload_check(v[i].data, v[i].len, &sender, &seq),
                      "corrupt datagram");
        ck_assert_uint_lt(sender, SENDERS);
        /* Drops leave gaps; a duplicate or reordering goes backwards. */
        ck_assert_msg(seq >= t->next[sender], "sender %u: seq %u after %u",
                      sender, seq, t->next[sender]);
        t->next[sender] = seq + 1;
    }
    t->delivered += (uint64_t)n;
}

static void run_conservation(int overflow, int slow)
{
    budp_options *o = tu_options(BUDP_OPT_THREADED, (int64_t)1,
                                 BUDP_OPT_OVERFLOW, (int64_t)overflow,
                                 BUDP_OPT_RING_CAPACITY, (int64_t)1024,
                                 BUDP_OPT_RECV_BUFFER, (int64_t)(1 << 20), 0);
    budp_socket *rx = tu_bind("127.0.0.1", o);
    struct sender_arg args[SENDERS];
    pthread_t th[SENDERS];
    struct tally t;
    unsigned per_sender = tu_scaled(500000, 2000);
    uint64_t sent = (uint64_t)per_sender * SENDERS;
    double quiet_since = 0;
    unsigned batches = 0;
    atomic_int senders_done;
    budp_stats st;

    atomic_init(&senders_done, 0);

    memset(&t, 0, sizeof t);
    for (int i = 0; i < SENDERS; i++) {
        args[i].dest = tu_local(rx);
        args[i].id = (uint32_t)i;
        args[i].count = per_sender;
        args[i].done = &senders_done;
        ck_assert_int_eq(pthread_create(&th[i], NULL, sender_main, &args[i]), 0);
    }
    for (;;) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, 64);

        ck_assert_msg(n >= 0, "budp_recv: %s", budp_strerror(n));
        if (n > 0) {
            check_batch(&t, v, n);
            quiet_since = 0;
            /* A consumer far slower than the senders: the ring fills. */
            if (slow && ++batches % 64 == 0)
                tu_sleep_ms(1);
            continue;
        }
        if (atomic_load(&senders_done) < SENDERS) {
            budp_wait(rx, 50);
            continue;
        }
        st = tu_stats(rx);
        if (t.delivered + st.rx_dropped + st.rx_kernel_drops == sent)
            break;
        if (quiet_since == 0)
            quiet_since = tu_now_ms();
        ck_assert_msg(tu_now_ms() - quiet_since < 5000,
                      "lost: sent %llu, delivered %llu, dropped %llu, kernel drops %llu",
                      (unsigned long long)sent, (unsigned long long)t.delivered,
                      (unsigned long long)st.rx_dropped,
                      (unsigned long long)st.rx_kernel_drops);
        budp_wait(rx, 50);
    }
    for (int i = 0; i < SENDERS; i++)
        pthread_join(th[i], NULL);
    st = tu_stats(rx);
    ck_assert_uint_eq(st.rx_datagrams, t.delivered);
    if (overflow == BUDP_OVERFLOW_WAIT)
        ck_assert_uint_eq(st.rx_dropped, 0);
    else
        ck_assert_uint_eq(st.rx_ring_full, 0);
    printf("overflow=%s slow=%d: sent %llu delivered %llu dropped %llu kernel %llu ring_full %llu\n",
           overflow == BUDP_OVERFLOW_WAIT ? "wait" : "drop", slow,
           (unsigned long long)sent, (unsigned long long)t.delivered,
           (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_kernel_drops,
           (unsigned long long)st.rx_ring_full);
    budp_close(rx);
    budp_options_free(o);
}

START_TEST(test_conservation_wait_slow)
{
    run_conservation(BUDP_OVERFLOW_WAIT, 1);
}
END_TEST

START_TEST(test_conservation_drop_slow)
{
    run_conservation(BUDP_OVERFLOW_DROP, 1);
}
END_TEST

START_TEST(test_conservation_wait_fast)
{
    run_conservation(BUDP_OVERFLOW_WAIT, 0);
}
END_TEST

/* ---- the poll fd ---------------------------------------------------- */

static budp_socket *threaded_socket(int64_t ring)
{
    budp_options *o = tu_options(BUDP_OPT_THREADED, (int64_t)1,
                                 BUDP_OPT_RING_CAPACITY, ring, 0);
    budp_socket *s = tu_bind("127.0.0.1", o);
    budp_options_free(o);
    return s;
}

START_TEST(test_poll_fd_readable_then_drained)
{
    budp_socket *rx = threaded_socket(64), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    int pfd = budp_poll_fd(rx);
    const budp_datagram *v;
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN }, out;

    ck_assert_int_ge(pfd, 0);
    ck_assert_int_ne(pfd, budp_socket_fd(rx));
    ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev), 0);
    ck_assert(!fd_readable(pfd));
    ck_assert_int_eq(tu_epoll_wait(ep, &out, 0), 0);

    tu_send_seq(tx, &dest, 0, 0, 10, 64, 10);
    ck_assert_int_eq(budp_wait(rx, 2000), 1);
    /* budp_wait looks at the ring itself; the receiver signals the poll
     * fd once it finds the socket dry (or the ring half full), one receive
     * call after it committed the batch: soon, not at once. */
    ck_assert(fd_readable_within(pfd, 2000));
    ck_assert_int_eq(tu_epoll_wait(ep, &out, 1000), 1);

    /* Take part: still readable while datagrams are queued. */
    ck_assert_int_eq(budp_recv(rx, &v, 3), 3);
    ck_assert(fd_readable(pfd));
    ck_assert_int_eq(budp_recv(rx, &v, 64), 7);
    /* Drained: quiet for poll and epoll, and budp_wait times out. */
    ck_assert_int_eq(budp_recv(rx, &v, 64), 0);
    ck_assert(!fd_readable(pfd));
    ck_assert_int_eq(tu_epoll_wait(ep, &out, 0), 0);
    ck_assert_int_eq(budp_wait(rx, 20), 0);

    /* And readable again on the next arrival. */
    tu_send_seq(tx, &dest, 1, 0, 1, 64, 1);
    ck_assert_int_eq(tu_epoll_wait(ep, &out, 2000), 1);
    ck_assert_int_eq(budp_recv(rx, &v, 64), 1);
    close(ep);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* ---- close ------------------------------------------------------------ */

static double close_ms(budp_socket *s)
{
    double t0 = tu_now_ms();
    budp_close(s);
    return tu_now_ms() - t0;
}

START_TEST(test_close_while_idle)
{
    budp_socket *rx = threaded_socket(64);

    tu_sleep_ms(20); /* the receiver is asleep in poll */
    printf("close while idle: %.2f ms\n", close_ms(rx));
}
END_TEST

START_TEST(test_close_with_full_ring_and_data_queued)
{
    budp_socket *rx = threaded_socket(4), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_stats st;

    tu_send_seq(tx, &dest, 0, 0, 200, 64, 50);
    /* Wait until the receiver has filled the ring and stopped reading. */
    for (int i = 0; i < 200; i++) {
        st = tu_stats(rx);
        if (st.rx_ring_full > 0)
            break;
        tu_sleep_ms(5);
    }
    ck_assert_uint_gt(st.rx_ring_full, 0);
    printf("close with a full ring: %.2f ms\n", close_ms(rx));
    budp_close(tx);
}
END_TEST

START_TEST(test_receiver_sleeps_while_ring_full)
{
    budp_socket *rx = threaded_socket(4), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    struct rusage before, after;
    double cpu_ms;
    budp_stats st;

    tu_send_seq(tx, &dest, 0, 0, 100, 64, 50);
    for (int i = 0; i < 200 && tu_stats(rx).rx_ring_full == 0; i++)
        tu_sleep_ms(5);
    /* The consumer stalls for 300 ms: the whole process must stay idle. */
    getrusage(RUSAGE_SELF, &before);
    tu_sleep_ms(300);
    getrusage(RUSAGE_SELF, &after);
    cpu_ms = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) * 1e3 +
             (after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e3 +
             (after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1e3 +
             (after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e3;
    printf("CPU while the consumer stalls 300 ms: %.2f ms\n", cpu_ms);
    /* A spinning receiver would burn ~300 ms; sleeping costs ~0. */
    ck_assert_msg(cpu_ms < 30, "receiver spins: %.1f ms CPU in 300 ms", cpu_ms);
    st = tu_stats(rx);
    ck_assert_uint_le(st.rx_ring_full, 5);
    /* It resumes when slots free up, and nothing is lost. */
    ck_assert_uint_eq(tu_recv_seq(rx, 100, 1000), 100);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* ---- callbacks ---------------------------------------------------------- */

struct cb_state {
    budp_socket *s;
    atomic_uint received;
    atomic_int thread_differs;
    pthread_t consumer;
    uint32_t next;
    atomic_int bad;
};

static int count_cb(void *user, const budp_datagram *d, unsigned n)
{
    struct cb_state *c = user;

    if (!pthread_equal(pthread_self(), c->consumer))
        atomic_store(&c->thread_differs, 1);
    for (unsigned i = 0; i < n; i++) {
        uint32_t sender, seq;
        /* Kernel drops may leave gaps; never a repeat or a step back. */
        if (!tu_payload_check(d[i].data, d[i].len, &sender, &seq) || seq < c->next)
            atomic_store(&c->bad, 1);
        c->next = seq + 1;
    }
    atomic_fetch_add(&c->received, n);
    return BUDP_CALLBACK_CONTINUE;
}

static budp_socket *callback_thread_socket(void)
{
    budp_options *o = tu_options(BUDP_OPT_THREADED, (int64_t)1,
                                 BUDP_OPT_CALLBACK_THREAD, (int64_t)1, 0);
    budp_socket *s = tu_bind("127.0.0.1", o);
    budp_options_free(o);
    return s;
}

static budp_socket *plain_sender(void)
{
    budp_options *o = tu_options(BUDP_OPT_GSO, (int64_t)0, 0);
    budp_socket *s = tu_bind("127.0.0.1", o);
    budp_options_free(o);
    return s;
}

START_TEST(test_callback_thread_delivery)
{
    budp_socket *rx = callback_thread_socket(), *tx = plain_sender();
    budp_addr dest = tu_local(rx);
    struct cb_state c;
    const budp_datagram *v;
    unsigned count = tu_scaled(20000, 500);

    memset(&c, 0, sizeof c);
    c.consumer = pthread_self();
    /* No consumer calls in this mode. */
    ck_assert_int_eq(budp_recv(rx, &v, 8), -EINVAL);
    ck_assert_int_eq(budp_dispatch(rx, 8), -EINVAL);
    ck_assert_int_eq(budp_wait(rx, 0), 0); /* no error to report */
    ck_assert_int_eq(budp_poll_fd(rx), -ENOTSUP);
    /* Nothing is read before a callback is set: datagrams wait in the kernel. */
    tu_send_seq(tx, &dest, 0, 0, 10, 64, 10);
    tu_sleep_ms(50);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, 0);
    ck_assert_int_eq(budp_set_callback(rx, count_cb, &c), 0);
    tu_send_seq(tx, &dest, 0, 10, count - 10, 64, 32);
    for (int i = 0; i < 1000 && atomic_load(&c.received) < count; i++)
        tu_sleep_ms(5);
    ck_assert_uint_eq(atomic_load(&c.received) + tu_stats(rx).rx_kernel_drops, count);
    ck_assert_int_eq(atomic_load(&c.thread_differs), 1);
    ck_assert_int_eq(atomic_load(&c.bad), 0);
    budp_close(rx);
    budp_close(tx);
}
END_TEST



/* Clearing and setting the callback while datagrams pour in loses none:
 * every datagram received is handed to a callback or left in the kernel. */
struct toggle_count {
    atomic_uint seen;
};

static int toggle_cb(void *user, const budp_datagram *d, unsigned n)
{
    struct toggle_count *t = user;

    (void)d;
    atomic_fetch_add(&t->seen, n);
    return BUDP_CALLBACK_CONTINUE;
}

START_TEST(test_callback_cleared_under_load_loses_nothing)
{
    budp_socket *rx = callback_thread_socket(), *tx = plain_sender();
    budp_addr dest = tu_local(rx);
    struct toggle_count t;
    unsigned count = tu_scaled(20000, 400), sent = 0;
    budp_stats st;

    atomic_init(&t.seen, 0);
    while (sent < count) {
        ck_assert_int_eq(budp_set_callback(rx, toggle_cb, &t), 0);
        tu_send_seq(tx, &dest, 0, sent, 100, 64, 25);
        sent += 100;
        ck_assert_int_eq(budp_set_callback(rx, NULL, NULL), 0);
    }
    ck_assert_int_eq(budp_set_callback(rx, toggle_cb, &t), 0);
    for (int i = 0; i < 1000; i++) {
        st = tu_stats(rx);
        if (atomic_load(&t.seen) + st.rx_kernel_drops >= count)
            break;
        tu_sleep_ms(5);
    }
    st = tu_stats(rx);
    ck_assert_uint_eq(st.rx_datagrams, atomic_load(&t.seen));
    ck_assert_uint_eq(atomic_load(&t.seen) + st.rx_kernel_drops, count);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* A callback that returns BUDP_CALLBACK_PAUSE stops the receiver thread
 * reading: what arrives waits in the kernel until budp_set_callback is
 * called again, then comes in full. */
struct pausing {
    atomic_uint seen;
    atomic_uint calls;
};

static int pause_after_batch(void *user, const budp_datagram *d, unsigned n)
{
    struct pausing *p = user;

    (void)d;
    atomic_fetch_add(&p->seen, n);
    atomic_fetch_add(&p->calls, 1);
    return BUDP_CALLBACK_PAUSE;
}

static int keep_going(void *user, const budp_datagram *d, unsigned n)
{
    struct pausing *p = user;

    (void)d;
    atomic_fetch_add(&p->seen, n);
    return BUDP_CALLBACK_CONTINUE;
}

static unsigned wait_seen(struct pausing *p, unsigned want)
{
    for (int i = 0; i < 1000 && atomic_load(&p->seen) < want; i++)
        tu_sleep_ms(5);
    return atomic_load(&p->seen);
}

START_TEST(test_callback_pause_stops_reading)
{
    budp_socket *rx = callback_thread_socket(), *tx = plain_sender();
    budp_addr dest = tu_local(rx);
    struct pausing p;
    unsigned first;

    atomic_init(&p.seen, 0);
    atomic_init(&p.calls, 0);
    ck_assert_int_eq(budp_set_callback(rx, pause_after_batch, &p), 0);
    tu_send_seq(tx, &dest, 0, 0, 1, 64, 1);
    ck_assert_uint_eq(wait_seen(&p, 1), 1);
    /* Paused: these stay in the kernel's queue. */
    tu_send_seq(tx, &dest, 0, 1, 40, 64, 8);
    tu_sleep_ms(100);
    ck_assert_uint_eq(atomic_load(&p.calls), 1);
    first = atomic_load(&p.seen);
    ck_assert_uint_eq(first, 1);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, 1);
    /* The same callback again resumes for one more batch... */
    ck_assert_int_eq(budp_set_callback(rx, pause_after_batch, &p), 0);
    for (int i = 0; i < 1000 && atomic_load(&p.calls) < 2; i++)
        tu_sleep_ms(5);
    tu_sleep_ms(50);
    ck_assert_uint_eq(atomic_load(&p.calls), 2);
    ck_assert_uint_lt(atomic_load(&p.seen), 41);
    /* ...and one that continues takes the rest: none was lost. */
    ck_assert_int_eq(budp_set_callback(rx, keep_going, &p), 0);
    ck_assert_uint_eq(wait_seen(&p, 41), 41);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, 41);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(test_icmp_error_reported_once)
{
    budp_socket *rx = threaded_socket(64), *dead = tu_bind("127.0.0.1", NULL);
    budp_addr gone = tu_local(dead), self = tu_local(rx);
    char host[64];
    const budp_datagram *v;
    budp_datagram d;
    int rc = 0;

    budp_close(dead); /* nobody listens on that port any more */
    ck_assert_int_ge(budp_addr_to_string(&gone, host, sizeof host), 0);
    ck_assert_int_eq(budp_connect(rx, host, gone.port), 0);
    memset(&d, 0, sizeof d);
    d.data = (const uint8_t *)"ping";
    d.len = 4;
    ck_assert_int_eq(budp_send(rx, &d, 1), 1);
    for (int i = 0; i < 100 && rc == 0; i++) {
        budp_wait(rx, 20);
        rc = budp_recv(rx, &v, 8);
    }
    ck_assert_int_eq(rc, -ECONNREFUSED);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 0);
    ck_assert_uint_ge(tu_stats(rx).rx_errors, 1);
    /* Still receiving: connect to ourselves and talk. */
    ck_assert_int_eq(budp_connect(rx, "127.0.0.1", self.port), 0);
    ck_assert_int_eq(budp_send(rx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 2000), 1);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 1);
    ck_assert_uint_eq(v[0].len, 4);
    budp_close(rx);
}
END_TEST

START_TEST(test_fatal_error_sticks)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), pipefd[2];
    struct sockaddr_in sin = { .sin_family = AF_INET };
    /* A backend that receives through the fd: io_uring's request holds
     * the socket itself, and never sees the fd replaced. */
    budp_options *o = tu_options(BUDP_OPT_THREADED, (int64_t)1,
                                 BUDP_OPT_BACKEND, (int64_t)BUDP_BACKEND_MMSG, 0);
    budp_socket *rx = NULL;
    const budp_datagram *v;
    int rc = 0;

    sin.sin_addr.s_addr = htonl(0x7f000001);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(budp_open(&rx, fd, o), 0);
    /* Replace the socket under the library with a pipe: the next receive
     * fails with ENOTSOCK, which no retry can mend.  A receiver already
     * asleep in poll() still holds the old socket: a datagram to it wakes
     * the thread. */
    ck_assert_int_eq(pipe(pipefd), 0);
    {
        budp_addr old = tu_local(rx);
        budp_socket *tx = tu_bind("127.0.0.1", NULL);

        ck_assert_int_eq(dup2(pipefd[0], fd), fd);
        ck_assert_int_eq(write(pipefd[1], "x", 1), 1);
        tu_send_seq(tx, &old, 0, 0, 1, 8, 1);
        budp_close(tx);
    }
    for (int i = 0; i < 100 && rc == 0; i++) {
        budp_wait(rx, 20);
        rc = budp_recv(rx, &v, 8);
    }
    ck_assert_int_eq(rc, -ENOTSOCK);
    ck_assert_int_eq(budp_recv(rx, &v, 8), -ENOTSOCK);
    ck_assert_int_eq(budp_wait(rx, 0), 1);
    budp_close(rx);
    close(fd);
    close(pipefd[0]);
    close(pipefd[1]);
    budp_options_free(o);
}
END_TEST

START_TEST(test_packed_and_views_interleave)
{
    budp_socket *rx = threaded_socket(8), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    uint8_t buf[64 * 16];
    uint32_t lens[16];
    budp_addr peers[16];
    unsigned got = 0;
    uint32_t next = 0;

    tu_send_seq(tx, &dest, 0, 0, 100, 64, 20);
    while (got < 100) {
        int n;
        if (got % 2 == 0) {
            const budp_datagram *v;
            n = budp_recv(rx, &v, 5);
            for (int i = 0; i < n; i++) {
                uint32_t snd, seq;
                ck_assert(tu_payload_check(v[i].data, v[i].len, &snd, &seq));
                ck_assert_uint_eq(seq, next++);
            }
        } else {
            n = budp_recv_packed(rx, buf, sizeof buf, lens, NULL, peers, 16);
            for (int i = 0; i < n; i++) {
                uint32_t snd, seq;
                ck_assert_uint_eq(lens[i], 64);
                ck_assert(tu_payload_check(buf + 64 * i, 64, &snd, &seq));
                ck_assert_uint_eq(seq, next++);
                ck_assert_uint_eq(peers[i].port, tu_local(tx).port);
            }
        }
        ck_assert_int_ge(n, 0);
        if (n == 0)
            ck_assert_int_eq(budp_wait(rx, 2000), 1);
        got += (unsigned)n;
    }
    budp_close(tx);
    budp_close(rx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threaded");
    TCase *load = tcase_create("conservation");
    TCase *tc = tcase_create("behaviour");

    tcase_set_timeout(load, 600);
    tcase_add_test(load, test_conservation_wait_slow);
    tcase_add_test(load, test_conservation_drop_slow);
    tcase_add_test(load, test_conservation_wait_fast);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_poll_fd_readable_then_drained);
    tcase_add_test(tc, test_close_while_idle);
    tcase_add_test(tc, test_close_with_full_ring_and_data_queued);
    tcase_add_test(tc, test_receiver_sleeps_while_ring_full);
    tcase_add_test(tc, test_callback_thread_delivery);
    tcase_add_test(tc, test_callback_pause_stops_reading);
    tcase_add_test(tc, test_callback_cleared_under_load_loses_nothing);
    tcase_add_test(tc, test_icmp_error_reported_once);
    tcase_add_test(tc, test_fatal_error_sticks);
    tcase_add_test(tc, test_packed_and_views_interleave);
    suite_add_tcase(s, load);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
