/* test_msgx.c - the recvmsg_x/sendmsg_x backend, run on Linux against the
 * emulation in msgx_shim.c: round trips, short counts, truncation reported
 * without MSG_TRUNC, the 256-message cap, injected errors, EAGAIN, and
 * batched sends only on connected sockets. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchudp.h"
#include "msgx_shim.h"
#include "testutil.h"

static budp_socket *open_msgx(const char *host, int key, int64_t value,
                              int key2, int64_t value2)
{
    budp_options *o = NULL;
    budp_socket *s = NULL;
    int rc;

    ck_assert_int_eq(budp_options_new(&o), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_BACKEND, BUDP_BACKEND_MSGX), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RECV_BUFFER, 4 << 20), 0);
    if (key != 0)
        ck_assert_int_eq(budp_options_set(o, key, value), 0);
    if (key2 != 0)
        ck_assert_int_eq(budp_options_set(o, key2, value2), 0);
    rc = budp_bind(&s, host, 0, o);
    budp_options_free(o);
    ck_assert_msg(rc == 0, "budp_bind(msgx, %s): %s", host, budp_strerror(rc));
    ck_assert_str_eq(budp_backend_name(s), "msgx");
    return s;
}

static void setup(void)
{
    msgx_shim_reset();
}

/* ------------------------------------------------------------------ */

START_TEST(backend_selected)
{
    budp_socket *s = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_socket *a = tu_bind("127.0.0.1", NULL);

    /* AUTO prefers recvmmsg where the system has it. */
    ck_assert_str_eq(budp_backend_name(a), "mmsg");
    budp_close(a);
    budp_close(s);
}
END_TEST

/* Round trips, IPv4 (_i 0) and IPv6 (_i 1); unconnected sends go one by
 * one through sendmsg, never through sendmsg_x. */
START_TEST(round_trip)
{
    const char *host = _i ? "::1" : "127.0.0.1";
    budp_socket *rx = open_msgx(host, 0, 0, 0, 0), *tx = open_msgx(host, 0, 0, 0, 0);
    budp_addr dest = tu_local(rx), src = tu_local(tx);
    struct msgx_shim_stats sh;
    budp_stats ts, rs;
    unsigned got = 0;
    uint32_t next = 0;

    tu_send_seq(tx, &dest, 0, 0, 100, 300, 32);
    sh = msgx_shim_stats();
    ck_assert_uint_eq(sh.send_calls, 0);
    ts = tu_stats(tx);
    ck_assert_uint_eq(ts.tx_datagrams, 100);
    ck_assert_uint_eq(ts.tx_syscalls, 100);

    while (got < 100) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, 64);

        ck_assert_int_ge(n, 0);
        if (n == 0) {
            ck_assert_int_eq(budp_wait(rx, 5000), 1);
            continue;
        }
        for (int k = 0; k < n; k++) {
            uint32_t sender, seq;
            ck_assert_uint_eq(v[k].len, 300);
            ck_assert_uint_eq(v[k].flags & BUDP_DGRAM_TRUNCATED, 0);
            ck_assert(tu_payload_check(v[k].data, v[k].len, &sender, &seq));
            ck_assert_uint_eq(seq, next);
            ck_assert_mem_eq(&v[k].peer, &src, sizeof src);
            next++;
        }
        got += (unsigned)n;
    }
    sh = msgx_shim_stats();
    ck_assert_uint_ge(sh.recv_calls, 1);
    ck_assert_uint_eq(sh.recv_messages, 100);
    ck_assert_uint_eq(sh.recv_einval, 0);
    rs = tu_stats(rx);
    ck_assert_uint_eq(rs.rx_datagrams, 100);
    ck_assert_uint_eq(rs.rx_bytes, 30000);
    /* Batches: fewer receive calls than datagrams, each counted. */
    ck_assert_uint_lt(rs.rx_syscalls, 100);
    ck_assert_uint_eq(rs.rx_syscalls, sh.recv_with_data);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

START_TEST(short_counts)
{
    budp_socket *rx = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    unsigned got = 0;
    uint32_t next = 0;

    msgx_shim_cap_recv(3);
    tu_send_seq(tx, &dest, 0, 0, 40, 100, 40);
    while (got < 40) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, 32);

        ck_assert_int_ge(n, 0);
        ck_assert_int_le(n, 3);
        if (n == 0) {
            ck_assert_int_eq(budp_wait(rx, 5000), 1);
            continue;
        }
        for (int k = 0; k < n; k++) {
            uint32_t sender, seq;
            ck_assert(tu_payload_check(v[k].data, v[k].len, &sender, &seq));
            ck_assert_uint_eq(seq, next);
            next++;
        }
        got += (unsigned)n;
    }
    ck_assert_uint_ge(msgx_shim_stats().recv_calls, 14);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, 40);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* Truncation: _i 0 with the shim hiding MSG_TRUNC (recent XNU), _i 1 with
 * MSG_TRUNC set.  Either way every datagram over 100 bytes is flagged. */
START_TEST(truncation)
{
    budp_socket *rx = open_msgx("127.0.0.1", BUDP_OPT_MAX_DATAGRAM, 100, 0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    static const uint32_t lens[] = { 101, 200, 50, 1000, 100, 102, 99, 5000 };
    enum { N = sizeof lens / sizeof lens[0] };
    static uint8_t bufs[N][5000];
    budp_datagram d[N];
    unsigned got = 0, want_trunc = 0;

    msgx_shim_silent_truncation(_i == 0);
    for (unsigned k = 0; k < N; k++) {
        tu_payload_fill(bufs[k], lens[k], 1, k);
        d[k] = tu_datagram(bufs[k], lens[k], &dest);
        want_trunc += lens[k] > 100;
    }
    ck_assert_int_eq(budp_send(tx, d, N), N);
    while (got < N) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, 32);

        ck_assert_int_ge(n, 0);
        if (n == 0) {
            ck_assert_int_eq(budp_wait(rx, 5000), 1);
            continue;
        }
        for (int k = 0; k < n; k++, got++) {
            uint32_t want = lens[got] > 100 ? 100 : lens[got];
            ck_assert_msg(v[k].len == want, "#%u (%u bytes): len %u", got,
                          lens[got], v[k].len);
            ck_assert_mem_eq(v[k].data, bufs[got], want);
            if (lens[got] > 100)
                ck_assert_msg(v[k].flags & BUDP_DGRAM_TRUNCATED,
                              "#%u (%u bytes) not flagged", got, lens[got]);
            else
                ck_assert_msg(!(v[k].flags & BUDP_DGRAM_TRUNCATED),
                              "#%u (%u bytes) flagged", got, lens[got]);
        }
    }
    ck_assert_uint_eq(tu_stats(rx).rx_truncated, want_trunc);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, N);
    /* The kernel cut the ones over 101 bytes (the slot keeps one byte past
     * the limit), and each cut ended a batch. */
    ck_assert_uint_eq(msgx_shim_stats().recv_truncated, 4);
    ck_assert_uint_ge(msgx_shim_stats().recv_calls, 4);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* A batch size over 256 is capped: recvmsg_x never sees more. */
START_TEST(batch_capped_at_256)
{
    budp_socket *rx = open_msgx("127.0.0.1", BUDP_OPT_BATCH_SIZE, 1024, 0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    const budp_datagram *v;
    struct msgx_shim_stats sh;
    unsigned got;
    int n;

    tu_send_seq(tx, &dest, 0, 0, 300, 32, 64);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    n = budp_recv(rx, &v, 1024);
    ck_assert_msg(n == 256, "first receive: %d (%s)", n,
                  n < 0 ? budp_strerror(n) : "count");
    sh = msgx_shim_stats();
    ck_assert_uint_eq(sh.recv_einval, 0);
    ck_assert_uint_le(sh.recv_max_cnt, 256);
    ck_assert_uint_ge(sh.recv_max_cnt, 1);
    for (int k = 0; k < n; k++) {
        uint32_t sender, seq;
        ck_assert(tu_payload_check(v[k].data, v[k].len, &sender, &seq));
        ck_assert_uint_eq(seq, (uint32_t)k);
    }
    got = (unsigned)n;
    while (got < 300) {
        n = budp_recv(rx, &v, 1024);
        ck_assert_int_ge(n, 0);
        ck_assert_int_le(n, 256);
        if (n == 0) {
            ck_assert_int_eq(budp_wait(rx, 5000), 1);
            continue;
        }
        for (int k = 0; k < n; k++, got++) {
            uint32_t sender, seq;
            ck_assert(tu_payload_check(v[k].data, v[k].len, &sender, &seq));
            ck_assert_uint_eq(seq, got);
        }
    }
    ck_assert_uint_eq(got, 300);
    ck_assert_uint_eq(msgx_shim_stats().recv_einval, 0);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* An injected transient error is returned once, counted, and the queued
 * datagrams come with the next call. */
START_TEST(injected_error_once)
{
    static const int errs[] = { ECONNREFUSED, ENOBUFS, EHOSTUNREACH, ENOMEM };
    budp_socket *rx = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    const budp_datagram *v;
    int n;

    for (unsigned e = 0; e < sizeof errs / sizeof errs[0]; e++) {
        tu_send_seq(tx, &dest, 0, 0, 5, 64, 5);
        ck_assert_int_eq(budp_wait(rx, 5000), 1);
        msgx_shim_fail_next_recv(errs[e]);
        n = budp_recv(rx, &v, 32);
        ck_assert_msg(n == -errs[e], "injected %d: budp_recv %d", errs[e], n);
        ck_assert_uint_eq(tu_stats(rx).rx_errors, e + 1);
        ck_assert_uint_eq(tu_recv_seq(rx, 5, 5000), 5);
    }
    ck_assert_uint_eq(msgx_shim_stats().injected, 4);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, 20);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* EINTR is retried inside the call; EAGAIN ends it quietly. */
START_TEST(eintr_retried_eagain_quiet)
{
    budp_socket *rx = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    const budp_datagram *v;
    int n;

    /* Empty socket: EAGAIN from the kernel. */
    ck_assert_int_eq(budp_recv(rx, &v, 32), 0);
    /* Data queued but the call says EAGAIN: nothing, no error. */
    tu_send_seq(tx, &dest, 0, 0, 3, 64, 3);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    msgx_shim_fail_next_recv(EAGAIN);
    ck_assert_int_eq(budp_recv(rx, &v, 32), 0);
    /* EINTR: retried, the datagrams arrive in the same call. */
    msgx_shim_fail_next_recv(EINTR);
    n = budp_recv(rx, &v, 32);
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(tu_stats(rx).rx_errors, 0);
    ck_assert_uint_eq(msgx_shim_stats().injected, 2);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* EBADF is fatal: returned from then on, even with data queued. */
START_TEST(fatal_error_sticks)
{
    budp_socket *rx = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    const budp_datagram *v;

    tu_send_seq(tx, &dest, 0, 0, 2, 64, 2);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    msgx_shim_fail_next_recv(EBADF);
    ck_assert_int_eq(budp_recv(rx, &v, 32), -EBADF);
    ck_assert_int_eq(budp_recv(rx, &v, 32), -EBADF);
    ck_assert_int_eq(budp_wait(rx, 0), -EBADF);
    ck_assert_uint_eq(msgx_shim_stats().injected, 1);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* A real ICMP-borne error through recvmsg_x. */
START_TEST(icmp_refused)
{
    budp_socket *gone = tu_bind("127.0.0.1", NULL);
    budp_socket *s = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_addr closed = tu_local(gone);
    budp_datagram d = tu_datagram((const uint8_t *)"x", 1, NULL);
    const budp_datagram *v;

    budp_close(gone);
    ck_assert_int_eq(budp_connect(s, "127.0.0.1", closed.port), 0);
    ck_assert_int_eq(budp_send(s, &d, 1), 1);
    ck_assert_int_eq(budp_wait(s, 5000), 1);
    ck_assert_int_eq(budp_recv(s, &v, 8), -ECONNREFUSED);
    ck_assert_int_eq(budp_recv(s, &v, 8), 0);
    ck_assert_uint_eq(tu_stats(s).rx_errors, 1);
    budp_close(s);
}
END_TEST

/* Connected socket, no destinations: sendmsg_x carries batches. */
START_TEST(connected_send_batches)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL);
    budp_socket *tx = open_msgx("127.0.0.1", BUDP_OPT_BATCH_SIZE, 32, 0, 0);
    budp_addr dest = tu_local(rx);
    struct msgx_shim_stats sh;
    budp_stats ts;

    ck_assert_int_eq(budp_connect(tx, "127.0.0.1", dest.port), 0);
    tu_send_seq(tx, NULL, 0, 0, 100, 200, 100);
    sh = msgx_shim_stats();
    ck_assert_uint_eq(sh.send_einval, 0);
    ck_assert_uint_eq(sh.send_messages, 100);
    ck_assert_uint_lt(sh.send_calls, 100);
    ck_assert_uint_ge(sh.send_calls, 4);   /* 100 / 32, rounded up */
    ck_assert_uint_le(sh.send_max_cnt, 32);
    ts = tu_stats(tx);
    ck_assert_uint_eq(ts.tx_datagrams, 100);
    ck_assert_uint_eq(ts.tx_bytes, 20000);
    ck_assert_uint_eq(ts.tx_syscalls, sh.send_calls);
    ck_assert_uint_eq(tu_recv_seq(rx, 100, 5000), 100);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* Datagrams with a destination go one by one through sendmsg, even on a
 * connected socket; plain ones around them still batch. */
START_TEST(addressed_send_one_by_one)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL);
    budp_socket *tx = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_addr dest = tu_local(rx);
    uint8_t p[10][64];
    budp_datagram d[10];
    struct msgx_shim_stats sh;

    for (unsigned k = 0; k < 10; k++) {
        tu_payload_fill(p[k], 64, 0, k);
        d[k] = tu_datagram(p[k], 64, &dest);
    }
    ck_assert_int_eq(budp_send(tx, d, 10), 10);
    sh = msgx_shim_stats();
    ck_assert_uint_eq(sh.send_calls, 0);
    ck_assert_uint_eq(tu_stats(tx).tx_syscalls, 10);
    ck_assert_uint_eq(tu_recv_seq(rx, 10, 5000), 10);

    /* Connected: 4 plain, 1 addressed, 5 plain. */
    ck_assert_int_eq(budp_connect(tx, "127.0.0.1", dest.port), 0);
    for (unsigned k = 0; k < 10; k++) {
        tu_payload_fill(p[k], 64, 0, k);
        d[k] = tu_datagram(p[k], 64, k == 4 ? &dest : NULL);
    }
    ck_assert_int_eq(budp_send(tx, d, 10), 10);
    sh = msgx_shim_stats();
    ck_assert_uint_eq(sh.send_calls, 2);
    ck_assert_uint_eq(sh.send_messages, 9);
    ck_assert_uint_eq(tu_recv_seq(rx, 10, 5000), 10);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* sendmsg_x taking fewer than asked: budp_send reports the count. */
START_TEST(send_short_count)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL);
    budp_socket *tx = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_addr dest = tu_local(rx);
    uint8_t p[20][64];
    budp_datagram d[20];
    unsigned sent = 0;
    int calls = 0;

    ck_assert_int_eq(budp_connect(tx, "127.0.0.1", dest.port), 0);
    for (unsigned k = 0; k < 20; k++) {
        tu_payload_fill(p[k], 64, 0, k);
        d[k] = tu_datagram(p[k], 64, NULL);
    }
    msgx_shim_cap_send(5);
    while (sent < 20) {
        int rc = budp_send(tx, d + sent, 20 - sent);
        ck_assert_int_gt(rc, 0);
        ck_assert_int_le(rc, 5);
        sent += (unsigned)rc;
        calls++;
    }
    ck_assert_int_ge(calls, 4);
    ck_assert_uint_eq(tu_stats(tx).tx_datagrams, 20);
    ck_assert_uint_eq(tu_recv_seq(rx, 20, 5000), 20);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* An error from sendmsg_x on the first message is returned; EAGAIN is not
 * counted as an error. */
START_TEST(send_injected_errors)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL);
    budp_socket *tx = open_msgx("127.0.0.1", 0, 0, 0, 0);
    budp_addr dest = tu_local(rx);
    uint8_t p[4][64];
    budp_datagram d[4];

    ck_assert_int_eq(budp_connect(tx, "127.0.0.1", dest.port), 0);
    for (unsigned k = 0; k < 4; k++) {
        tu_payload_fill(p[k], 64, 0, k);
        d[k] = tu_datagram(p[k], 64, NULL);
    }
    msgx_shim_fail_next_send(ENOBUFS);
    ck_assert_int_eq(budp_send(tx, d, 4), -ENOBUFS);
    ck_assert_uint_eq(tu_stats(tx).tx_errors, 1);
    msgx_shim_fail_next_send(EAGAIN);
    ck_assert_int_eq(budp_send(tx, d, 4), -EAGAIN);
    ck_assert_uint_eq(tu_stats(tx).tx_errors, 1);
    ck_assert_uint_eq(tu_stats(tx).tx_datagrams, 0);
    ck_assert_int_eq(budp_send(tx, d, 4), 4);
    ck_assert_uint_eq(tu_recv_seq(rx, 4, 5000), 4);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* Control messages pass through recvmsg_x: the destination address. */
START_TEST(pktinfo_through_msgx)
{
    budp_socket *rx = open_msgx("127.0.0.1", BUDP_OPT_PKTINFO, 1, 0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram((const uint8_t *)"where", 5, &dest);
    const budp_datagram *v;

    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 1);
    ck_assert(v[0].flags & BUDP_DGRAM_HAS_LOCAL);
    ck_assert_uint_eq(v[0].local.family, BUDP_AF_INET);
    ck_assert_mem_eq(v[0].local.bytes, "\x7f\x00\x00\x01", 4);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* The receiver thread runs the msgx backend too. */
START_TEST(threaded_round_trip)
{
    budp_socket *rx = open_msgx("::1", BUDP_OPT_THREADED, 1, 0, 0);
    budp_socket *tx = open_msgx("::1", 0, 0, 0, 0);
    budp_addr dest = tu_local(rx);

    ck_assert_int_eq(budp_connect(tx, "::1", dest.port), 0);
    tu_send_seq(tx, NULL, 0, 0, 200, 500, 32);
    ck_assert_uint_eq(tu_recv_seq(rx, 200, 5000), 200);
    ck_assert_uint_ge(msgx_shim_stats().recv_calls, 1);
    ck_assert_uint_ge(msgx_shim_stats().send_calls, 1);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, 200);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

static Suite *msgx_suite(void)
{
    Suite *s = suite_create("msgx");
    TCase *tc = tcase_create("msgx");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, backend_selected);
    tcase_add_loop_test(tc, round_trip, 0, 2);
    tcase_add_test(tc, short_counts);
    tcase_add_loop_test(tc, truncation, 0, 2);
    tcase_add_test(tc, batch_capped_at_256);
    tcase_add_test(tc, injected_error_once);
    tcase_add_test(tc, eintr_retried_eagain_quiet);
    tcase_add_test(tc, fatal_error_sticks);
    tcase_add_test(tc, icmp_refused);
    tcase_add_test(tc, connected_send_batches);
    tcase_add_test(tc, addressed_send_one_by_one);
    tcase_add_test(tc, send_short_count);
    tcase_add_test(tc, send_injected_errors);
    tcase_add_test(tc, pktinfo_through_msgx);
    tcase_add_test(tc, threaded_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(msgx_suite());
}
