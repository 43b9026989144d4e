/* test_callback_calls.c - what a callback may and may not call on its own
 * socket: consumer calls refused with -EBUSY, budp_close completing once the
 * callback returns (later calls inside it: -EBADF), and the consumer calls a
 * callback-thread socket refuses. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batchudp.h"
#include "testutil.h"

/* A pointer value no call may write: out parameters start as this. */
#define SENTINEL_VIEWS ((const budp_datagram *)(uintptr_t)0x6b6b6b6b)

static const uint8_t marker_payload[] = "marker";

struct inside {
    budp_socket *s;
    budp_socket *tx;
    budp_addr echo_to;
    int calls;
    unsigned seen;
    int rc_recv, rc_packed, rc_dispatch, rc_wait, rc_setcb, rc_send, rc_stats;
    int close_it;
    int after_close_recv, after_close_dispatch, after_close_wait,
        after_close_setcb, after_close_send, after_close_connect,
        after_close_packed;
    int fd;
};

static int inside_cb(void *user, const budp_datagram *d, unsigned n)
{
    struct inside *in = user;
    const budp_datagram *v = SENTINEL_VIEWS;
    uint8_t buf[64];
    uint32_t lens[4];
    budp_stats st;
    budp_datagram echo;

    in->calls++;
    in->seen += n;
    (void)d;
    in->rc_recv = budp_recv(in->s, &v, 8);
    if (v != SENTINEL_VIEWS)
        in->rc_recv = 999;
    in->rc_packed = budp_recv_packed(in->s, buf, sizeof buf, lens, NULL, NULL, 4);
    in->rc_dispatch = budp_dispatch(in->s, 8);
    in->rc_wait = budp_wait(in->s, 0);
    in->rc_setcb = budp_set_callback(in->s, tu_ignore_batch, NULL);
    /* Allowed inside: send on the same socket, stats. */
    echo = tu_datagram(marker_payload, sizeof marker_payload, &in->echo_to);
    in->rc_send = budp_send(in->s, &echo, 1);
    in->rc_stats = budp_get_stats(in->s, &st, sizeof st);
    in->fd = budp_socket_fd(in->s);
    if (in->close_it) {
        budp_close(in->s);
        in->after_close_recv = budp_recv(in->s, &v, 8);
        in->after_close_packed =
            budp_recv_packed(in->s, buf, sizeof buf, lens, NULL, NULL, 4);
        in->after_close_dispatch = budp_dispatch(in->s, 8);
        in->after_close_wait = budp_wait(in->s, 0);
        in->after_close_setcb = budp_set_callback(in->s, tu_ignore_batch, NULL);
        in->after_close_send = budp_send(in->s, &echo, 1);
        in->after_close_connect = budp_connect(in->s, "127.0.0.1", 9);
    }
    return BUDP_CALLBACK_CONTINUE;
}

START_TEST(calls_inside_callback_busy)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d[3];
    struct inside in;
    const budp_datagram *v;
    int n;

    memset(&in, 0, sizeof in);
    in.s = rx;
    in.echo_to = tu_local(tx);
    for (int i = 0; i < 3; i++)
        d[i] = tu_datagram(marker_payload, sizeof marker_payload, &dest);
    ck_assert_int_eq(budp_send(tx, d, 3), 3);
    ck_assert_int_eq(budp_set_callback(rx, inside_cb, &in), 0);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    n = budp_dispatch(rx, 1);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(in.calls, 1);
    ck_assert_int_eq(in.rc_recv, -EBUSY);
    ck_assert_int_eq(in.rc_packed, -EBUSY);
    ck_assert_int_eq(in.rc_dispatch, -EBUSY);
    ck_assert_int_eq(in.rc_wait, -EBUSY);
    ck_assert_int_eq(in.rc_setcb, -EBUSY);
    ck_assert_int_eq(in.rc_send, 1);
    ck_assert_int_eq(in.rc_stats, (int)sizeof(budp_stats));
    /* The refused calls consumed nothing and the callback was kept: the
     * other two datagrams come through the same callback. */
    while (in.seen < 3) {
        ck_assert_int_eq(budp_wait(rx, 5000), 1);
        ck_assert_int_ge(budp_dispatch(rx, 8), 0);
    }
    ck_assert_uint_eq(in.seen, 3);
    /* Outside the callback these work again. */
    ck_assert_int_eq(budp_set_callback(rx, NULL, NULL), 0);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 0);
    /* The echoes sent from inside (one per callback call) arrived. */
    ck_assert_int_ge(in.calls, 2);
    ck_assert_uint_eq(tu_recv_seq(tx, (unsigned)in.calls, 2000), (unsigned)in.calls);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

static void close_inside_check(struct inside *in)
{
    ck_assert_int_eq(in->calls, 1);
    ck_assert_int_eq(in->rc_recv, -EBUSY);
    ck_assert_int_eq(in->after_close_recv, -EBADF);
    ck_assert_int_eq(in->after_close_packed, -EBADF);
    ck_assert_int_eq(in->after_close_dispatch, -EBADF);
    ck_assert_int_eq(in->after_close_wait, -EBADF);
    ck_assert_int_eq(in->after_close_setcb, -EBADF);
    ck_assert_int_eq(in->after_close_send, -EBADF);
    ck_assert_int_eq(in->after_close_connect, -EBADF);
}

/* budp_close from inside the callback: the close completes once the
 * callback returns (the library's own fd is then closed). */
START_TEST(close_inside_callback)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d[4];
    struct inside in;
    int n;

    memset(&in, 0, sizeof in);
    in.s = rx;
    in.echo_to = tu_local(tx);
    in.close_it = 1;
    for (int i = 0; i < 4; i++)
        d[i] = tu_datagram(marker_payload, sizeof marker_payload, &dest);
    ck_assert_int_eq(budp_send(tx, d, 4), 4);
    ck_assert_int_eq(budp_set_callback(rx, inside_cb, &in), 0);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    n = budp_dispatch(rx, 8);
    ck_assert_int_ge(n, 1);
    close_inside_check(&in);
    ck_assert_int_ge(in.fd, 0);
    ck_assert_msg(!tu_fd_open(in.fd), "socket fd still open after the close");
    budp_close(tx);
}
END_TEST

/* Same with a budp_open'd fd: the close completes and the fd stays. */
START_TEST(close_inside_callback_open_fd)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin;
    budp_socket *rx = NULL, *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest;
    budp_datagram d;
    struct inside in;

    ck_assert_int_ge(fd, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(budp_open(&rx, fd, NULL), 0);
    dest = tu_local(rx);
    memset(&in, 0, sizeof in);
    in.s = rx;
    in.echo_to = tu_local(tx);
    in.close_it = 1;
    d = tu_datagram(marker_payload, sizeof marker_payload, &dest);
    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_set_callback(rx, inside_cb, &in), 0);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_dispatch(rx, 8), 1);
    close_inside_check(&in);
    ck_assert_int_eq(in.fd, fd);
    ck_assert(tu_fd_open(fd));
    close(fd);
    budp_close(tx);
}
END_TEST

/* The contract says every further call on s inside the callback returns
 * -EBADF; these are the non-receiving ones. */
struct getters {
    budp_socket *s;
    int stats, local, fd, poll;
};

static int getters_cb(void *user, const budp_datagram *d, unsigned n)
{
    struct getters *g = user;
    budp_stats st;
    budp_addr a;

    (void)d;
    (void)n;
    budp_close(g->s);
    g->stats = budp_get_stats(g->s, &st, sizeof st);
    g->local = budp_local_addr(g->s, &a);
    g->fd = budp_socket_fd(g->s);
    g->poll = budp_poll_fd(g->s);
    return BUDP_CALLBACK_CONTINUE;
}

START_TEST(close_inside_callback_getters)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram(marker_payload, sizeof marker_payload, &dest);
    struct getters g;

    memset(&g, 0, sizeof g);
    g.s = rx;
    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_set_callback(rx, getters_cb, &g), 0);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_dispatch(rx, 8), 1);
    budp_close(tx);
    ck_assert_msg(g.stats == -EBADF && g.local == -EBADF && g.fd == -EBADF &&
                      g.poll == -EBADF,
                  "after budp_close inside the callback: get_stats %d, local_addr %d, "
                  "socket_fd %d, poll_fd %d (expected %d each)",
                  g.stats, g.local, g.fd, g.poll, -EBADF);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Callback-thread mode refuses the consumer calls                     */
/* ------------------------------------------------------------------ */

START_TEST(callback_thread_mode_refusals)
{
    budp_options *o = tu_options(BUDP_OPT_THREADED, (int64_t)1,
                                 BUDP_OPT_CALLBACK_THREAD, (int64_t)1, 0);
    budp_socket *s = tu_bind("127.0.0.1", o);
    const budp_datagram *v = SENTINEL_VIEWS;
    uint8_t buf[64];
    uint32_t lens[4];

    budp_options_free(o);
    ck_assert_int_eq(budp_poll_fd(s), -ENOTSUP);
    ck_assert_int_eq(budp_recv(s, &v, 8), -EINVAL);
    ck_assert_ptr_eq(v, SENTINEL_VIEWS);
    ck_assert_int_eq(budp_recv_packed(s, buf, sizeof buf, lens, NULL, NULL, 4), -EINVAL);
    /* budp_wait waits for the receiver thread's errors: none yet. */
    ck_assert_int_eq(budp_wait(s, 0), 0);
    ck_assert_int_eq(budp_set_callback(s, tu_ignore_batch, NULL), 0);
    ck_assert_int_eq(budp_dispatch(s, 8), -EINVAL);
    ck_assert_int_eq(budp_set_callback(s, NULL, NULL), 0);
    budp_close(s);
}
END_TEST

static Suite *callback_calls_suite(void)
{
    Suite *s = suite_create("callback_calls");
    TCase *tc = tcase_create("callback");

    tcase_add_test(tc, calls_inside_callback_busy);
    tcase_add_test(tc, close_inside_callback);
    tcase_add_test(tc, close_inside_callback_open_fd);
    tcase_add_test(tc, close_inside_callback_getters);
    tcase_add_test(tc, callback_thread_mode_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(callback_calls_suite());
}
