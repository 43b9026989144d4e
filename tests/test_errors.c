/* test_errors.c - BUDP_OPT_ERRORS on loopback: a datagram to a closed port
 * comes back as an event carrying its destination, in every mode, and
 * wakes whatever waits on the socket; the error no longer reaches
 * budp_recv or budp_send. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* An address nobody listens on: a port bound, then freed. */
static budp_addr closed_port(const char *host)
{
    budp_socket *s = tu_bind(host, NULL);
    budp_addr a = tu_local(s);

    budp_close(s);
    return a;
}

static budp_socket *with_errors(const char *host, enum tu_mode mode, int backend)
{
    budp_options *o = tu_mode_options(mode);
    budp_socket *s;

    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_ERRORS, 1), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_BACKEND, backend), 0);
    s = tu_bind(host, o);
    budp_options_free(o);
    return s;
}

static void send_to(budp_socket *s, const budp_addr *dest, int expect)
{
    uint8_t payload[32] = { 0 };
    budp_datagram d = tu_datagram(payload, sizeof payload, dest);

    ck_assert_int_eq(budp_send(s, &d, 1), expect);
}

/* Wait for events (the poll fd, or budp_wait in callback-thread mode) and
 * read them until count came or two seconds pass. */
static unsigned read_events(budp_socket *s, enum tu_mode mode, budp_error_event *ev,
                            unsigned count)
{
    double deadline = tu_now_ms() + 2000;
    unsigned got = 0;

    while (got < count && tu_now_ms() < deadline) {
        int n;

        if (mode == TU_CALLBACK_THREAD) {
            ck_assert_int_ge(budp_wait(s, 100), 0);
        } else {
            struct pollfd p = { budp_poll_fd(s), POLLIN, 0 };
            ck_assert_int_ge(poll(&p, 1, 100), 0);
        }
        n = budp_recv_errors(s, ev + got, count - got);
        ck_assert_int_ge(n, 0);
        got += (unsigned)n;
    }
    return got;
}

/* Wait until s reports something ready (two seconds at most): the poll
 * fd, or budp_wait in callback-thread mode. */
static void wait_ready(budp_socket *s, enum tu_mode mode)
{
    if (mode == TU_CALLBACK_THREAD) {
        ck_assert_int_eq(budp_wait(s, 2000), 1);
    } else {
        struct pollfd p = { budp_poll_fd(s), POLLIN, 0 };
        ck_assert_int_eq(poll(&p, 1, 2000), 1);
        /* Readable, as an event loop watching for reads sees it: not the
         * socket's POLLERR alone. */
        ck_assert_msg(p.revents & POLLIN, "poll fd revents 0x%x", (unsigned)p.revents);
    }
}

static void check_port_unreachable(const budp_error_event *ev, const budp_addr *dest,
                                   int v6)
{
    char text[64];

    ck_assert_int_eq(ev->error, -ECONNREFUSED);
    ck_assert_int_eq(ev->origin, v6 ? BUDP_ERROR_ORIGIN_ICMP6 : BUDP_ERROR_ORIGIN_ICMP);
    /* Destination unreachable, port unreachable: ICMP 3/3, ICMPv6 1/4. */
    ck_assert_int_eq(ev->icmp_type, v6 ? 1 : 3);
    ck_assert_int_eq(ev->icmp_code, v6 ? 4 : 3);
    ck_assert_uint_eq(ev->mtu, 0);
    ck_assert_int_eq(budp_addr_to_string(&ev->destination, text, sizeof text) > 0, 1);
    ck_assert_msg(memcmp(&ev->destination, dest, sizeof *dest) == 0,
                  "destination %s port %u, sent to port %u", text,
                  (unsigned)ev->destination.port, (unsigned)dest->port);
    /* Loopback: this host answered. */
    ck_assert_uint_eq(ev->offender.family, dest->family);
    ck_assert_mem_eq(ev->offender.bytes, dest->bytes, sizeof dest->bytes);
}

static void closed_port_round(const char *host, enum tu_mode mode, int backend)
{
    int v6 = strchr(host, ':') != NULL;
    budp_socket *s = with_errors(host, mode, backend);
    budp_addr gone = closed_port(host);
    budp_error_event ev[4];
    const budp_datagram *d;
    budp_stats st;

    if (mode == TU_CALLBACK_THREAD)
        ck_assert_int_eq(budp_set_callback(s, tu_ignore_batch, NULL), 0);
    send_to(s, &gone, 1);
    ck_assert_uint_eq(read_events(s, mode, ev, 1), 1);
    check_port_unreachable(&ev[0], &gone, v6);
    st = tu_stats(s);
    ck_assert_uint_eq(st.error_events, 1);
    ck_assert_uint_eq(st.error_events_dropped, 0);
    /* Read once only. */
    ck_assert_int_eq(budp_recv_errors(s, ev, 4), 0);
    /* With an ECONNREFUSED pending (the event waits unread), a send and a
     * receive go on as if none were: it is the event's. */
    send_to(s, &gone, 1);
    wait_ready(s, mode);
    send_to(s, &gone, 1);
    wait_ready(s, mode);
    if (mode != TU_CALLBACK_THREAD)
        ck_assert_int_eq(budp_recv(s, &d, 8), 0);
    ck_assert_uint_eq(read_events(s, mode, ev, 2), 2);
    check_port_unreachable(&ev[0], &gone, v6);
    check_port_unreachable(&ev[1], &gone, v6);
    st = tu_stats(s);
    ck_assert_uint_eq(st.error_events, 3);
    ck_assert_uint_eq(st.rx_errors, 0);
    ck_assert_uint_eq(st.tx_errors, 0);
    budp_close(s);
}

START_TEST(closed_port_v4_inline)   { closed_port_round("127.0.0.1", TU_INLINE, BUDP_BACKEND_MMSG); }
END_TEST
START_TEST(closed_port_v6_inline)   { closed_port_round("::1", TU_INLINE, BUDP_BACKEND_MMSG); }
END_TEST
START_TEST(closed_port_loop_backend){ closed_port_round("127.0.0.1", TU_INLINE, BUDP_BACKEND_LOOP); }
END_TEST
START_TEST(closed_port_threaded)    { closed_port_round("127.0.0.1", TU_THREADED, BUDP_BACKEND_AUTO); }
END_TEST
START_TEST(closed_port_v6_threaded) { closed_port_round("::1", TU_THREADED, BUDP_BACKEND_AUTO); }
END_TEST
START_TEST(closed_port_callback_thread)
{
    closed_port_round("127.0.0.1", TU_CALLBACK_THREAD, BUDP_BACKEND_AUTO);
}
END_TEST

/* An IPv4 destination on a dual-stack socket: the event names it as the
 * socket does, IPv4-mapped. */
START_TEST(closed_port_dual_stack)
{
    budp_socket *s = with_errors("::", TU_INLINE, BUDP_BACKEND_AUTO);
    budp_addr gone = closed_port("127.0.0.1"), mapped;
    budp_error_event ev;

    ck_assert_int_eq(budp_addr_from_string(&mapped, "::ffff:127.0.0.1", gone.port), 0);
    send_to(s, &gone, 1);
    ck_assert_uint_eq(read_events(s, TU_INLINE, &ev, 1), 1);
    ck_assert_int_eq(ev.error, -ECONNREFUSED);
    ck_assert_int_eq(ev.origin, BUDP_ERROR_ORIGIN_ICMP);
    ck_assert_mem_eq(&ev.destination, &mapped, sizeof mapped);
    budp_close(s);
}
END_TEST

/* budp_wait wakes for an event, inline and threaded. */
static void wait_wakes(enum tu_mode mode)
{
    budp_socket *s = with_errors("127.0.0.1", mode, BUDP_BACKEND_AUTO);
    budp_addr gone = closed_port("127.0.0.1");
    budp_error_event ev;
    double deadline = tu_now_ms() + 2000;
    int rc = 0;

    ck_assert_int_eq(budp_wait(s, 0), 0);
    send_to(s, &gone, 1);
    while (rc != 1 && tu_now_ms() < deadline)
        rc = budp_wait(s, 100);
    ck_assert_int_eq(rc, 1);
    ck_assert_int_eq(budp_recv_errors(s, &ev, 1), 1);
    budp_close(s);
}

START_TEST(wait_wakes_inline)   { wait_wakes(TU_INLINE); }
END_TEST
START_TEST(wait_wakes_threaded) { wait_wakes(TU_THREADED); }
END_TEST

/* Threaded: more events than the queue holds are dropped, and counted;
 * every one the kernel gave is either read or counted dropped. */
START_TEST(threaded_queue_overflow_counted)
{
    budp_socket *s = with_errors("127.0.0.1", TU_THREADED, BUDP_BACKEND_AUTO);
    budp_addr gone = closed_port("127.0.0.1");
    budp_error_event ev[BUDP_ERROR_QUEUE_EVENTS];
    enum { SENT = BUDP_ERROR_QUEUE_EVENTS + 36 };
    budp_stats st;
    double deadline;
    int n;

    /* The receiver thread moves each event out as it comes; nobody reads
     * them, so they pile up in its queue. */
    for (unsigned i = 0; i < SENT; i++)
        send_to(s, &gone, 1);
    deadline = tu_now_ms() + 3000;
    do {
        tu_sleep_ms(10);
        st = tu_stats(s);
    } while (st.error_events < SENT && tu_now_ms() < deadline);
    ck_assert_uint_eq(st.error_events, SENT);
    ck_assert_uint_eq(st.error_events_dropped, SENT - BUDP_ERROR_QUEUE_EVENTS);
    n = budp_recv_errors(s, ev, BUDP_ERROR_QUEUE_EVENTS);
    ck_assert_int_eq(n, BUDP_ERROR_QUEUE_EVENTS);
    for (int i = 0; i < n; i++)
        check_port_unreachable(&ev[i], &gone, 0);
    ck_assert_int_eq(budp_recv_errors(s, ev, 1), 0);
    budp_close(s);
}
END_TEST

/* An edge-triggered waiter (epoll EPOLLET, as tokio registers the poll
 * fd) sleeps again after a receive found nothing, whether it read the
 * events that woke it (read_first) or left them waiting: the next
 * datagram must wake it. */
static void edge_triggered_round(enum tu_mode mode, int read_first)
{
    budp_socket *s = with_errors("127.0.0.1", mode, BUDP_BACKEND_AUTO);
    budp_addr gone = closed_port("127.0.0.1"), me = tu_local(s);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    budp_error_event events[4];
    const budp_datagram *d;

    ck_assert_int_ge(ep, 0);
    ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, budp_poll_fd(s), &ev), 0);
    send_to(s, &gone, 1);
    ck_assert_int_eq(tu_epoll_wait(ep, &out, 2000), 1);
    /* As an event loop does before it sleeps again. */
    ck_assert_int_eq(budp_recv(s, &d, 8), 0);
    if (read_first)
        ck_assert_int_eq(budp_recv_errors(s, events, 4), 1);
    /* Drain what edges are left, then sleep: the datagram must wake. */
    while (tu_epoll_wait(ep, &out, 0) == 1)
        ;
    send_to(s, &me, 1);
    ck_assert_msg(tu_epoll_wait(ep, &out, 2000) == 1,
                  "an edge-triggered waiter was not woken by a datagram");
    ck_assert_int_eq(budp_recv(s, &d, 8), 1);
    if (!read_first)
        ck_assert_int_eq(budp_recv_errors(s, events, 4), 1);
    close(ep);
    budp_close(s);
}

START_TEST(edge_triggered_inline)   { edge_triggered_round(TU_INLINE, _i); }
END_TEST
START_TEST(edge_triggered_threaded) { edge_triggered_round(TU_THREADED, _i); }
END_TEST

START_TEST(bad_input)
{
    budp_socket *off = tu_bind("127.0.0.1", NULL);
    budp_socket *on = with_errors("127.0.0.1", TU_INLINE, BUDP_BACKEND_AUTO);
    budp_error_event ev;

    memset(&ev, 0x5a, sizeof ev);
    ck_assert_int_eq(budp_recv_errors(NULL, &ev, 1), -EINVAL);
    ck_assert_int_eq(budp_recv_errors(on, NULL, 1), -EINVAL);
    ck_assert_int_eq(budp_recv_errors(on, &ev, 0), -EINVAL);
    ck_assert_int_eq(budp_recv_errors(off, &ev, 1), -EINVAL);
    ck_assert_int_eq(ev.error, 0x5a5a5a5a);
    ck_assert_int_eq(budp_recv_errors(on, &ev, 1), 0);
    budp_shutdown(on);
    ck_assert_int_eq(budp_recv_errors(on, &ev, 1), -EBADF);
    budp_close(on);
    budp_close(off);
}
END_TEST

/* Without the option a connected socket still gets the kernel's pending
 * error on its next receive, as before. */
START_TEST(off_keeps_receive_errors)
{
    budp_socket *s = tu_bind("127.0.0.1", NULL);
    budp_addr gone = closed_port("127.0.0.1");
    const budp_datagram *d;
    double deadline = tu_now_ms() + 2000;
    int rc = 0;

    ck_assert_int_eq(budp_connect(s, "127.0.0.1", gone.port), 0);
    send_to(s, &gone, 1);
    while (rc == 0 && tu_now_ms() < deadline) {
        (void)budp_wait(s, 100);
        rc = budp_recv(s, &d, 8);
    }
    ck_assert_int_eq(rc, -ECONNREFUSED);
    budp_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("loopback");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, closed_port_v4_inline);
    tcase_add_test(tc, closed_port_v6_inline);
    tcase_add_test(tc, closed_port_loop_backend);
    tcase_add_test(tc, closed_port_threaded);
    tcase_add_test(tc, closed_port_v6_threaded);
    tcase_add_test(tc, closed_port_callback_thread);
    tcase_add_test(tc, closed_port_dual_stack);
    tcase_add_test(tc, wait_wakes_inline);
    tcase_add_test(tc, wait_wakes_threaded);
    tcase_add_test(tc, threaded_queue_overflow_counted);
    tcase_add_loop_test(tc, edge_triggered_inline, 0, 2);
    tcase_add_loop_test(tc, edge_triggered_threaded, 0, 2);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, off_keeps_receive_errors);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
