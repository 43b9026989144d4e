/* test_msgx.c - the recvmsg_x/sendmsg_x backend, run on Linux against the
 * emulation in msgx_shim.c: round trips, short counts, truncation reported
 * without MSG_TRUNC, the 256-message cap, injected errors, EAGAIN, and
 * batched sends only on connected sockets; and XNU's known bugs, each
 * emulated (msgx_shim.h): msg_controllen left as it was (macOS 10.15),
 * sendmsg_x's partial sends and lost counts, the send buffer that refuses
 * datagrams just under its size for ever, EISCONN for a destination on a
 * connected socket, and the release number AUTO reads. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
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

/* Receive until n datagrams came or a second passed without one; the
 * count.  Payloads are checked, and their sequence numbers follow each
 * other from first (any order when first is NO_ORDER). */
#define NO_ORDER UINT32_MAX
static unsigned drain(budp_socket *rx, unsigned n, uint32_t first)
{
    unsigned got = 0;

    while (got < n) {
        const budp_datagram *v;
        int k = budp_recv(rx, &v, 64);

        ck_assert_int_ge(k, 0);
        if (k == 0) {
            if (budp_wait(rx, 1000) == 0)
                break;
            continue;
        }
        for (int i = 0; i < k; i++) {
            uint32_t sender, seq;
            ck_assert(tu_payload_check(v[i].data, v[i].len, &sender, &seq));
            if (first != NO_ORDER)
                ck_assert_msg(seq == first + got + (unsigned)i, "seq %u, expected %u",
                              seq, first + got + (unsigned)i);
        }
        got += (unsigned)k;
    }
    return got;
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

    msgx_shim_silent_truncation(_i == 0);
    tu_truncation_round(tx, rx);
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

/* Datagrams with a destination go one by one through sendmsg; on a
 * connected socket, those bound for the connected peer batch with the
 * plain ones (XNU refuses a destination there: EISCONN), and one bound
 * elsewhere goes alone. */
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

    /* Connected: 4 plain, 1 to the peer itself, 5 plain: one batch. */
    ck_assert_int_eq(budp_connect(tx, "127.0.0.1", dest.port), 0);
    for (unsigned k = 0; k < 10; k++) {
        tu_payload_fill(p[k], 64, 0, k);
        d[k] = tu_datagram(p[k], 64, k == 4 ? &dest : NULL);
    }
    ck_assert_int_eq(budp_send(tx, d, 10), 10);
    sh = msgx_shim_stats();
    ck_assert_uint_eq(sh.send_calls, 1);
    ck_assert_uint_eq(sh.send_messages, 10);
    ck_assert_uint_eq(tu_recv_seq(rx, 10, 5000), 10);

    /* 4 plain, 1 to another address (Linux sends it; XNU would say
     * EISCONN), 5 plain: two batches around one sendmsg. */
    {
        budp_socket *other = tu_bind("127.0.0.1", NULL);
        budp_addr elsewhere = tu_local(other);
        const budp_datagram *v;

        for (unsigned k = 0; k < 10; k++) {
            tu_payload_fill(p[k], 64, 0, k);
            d[k] = tu_datagram(p[k], 64, k == 4 ? &elsewhere : NULL);
        }
        ck_assert_int_eq(budp_send(tx, d, 10), 10);
        sh = msgx_shim_stats();
        ck_assert_uint_eq(sh.send_calls, 3);
        ck_assert_uint_eq(sh.send_messages, 19);
        ck_assert_int_eq(budp_wait(other, 5000), 1);
        ck_assert_int_eq(budp_recv(other, &v, 8), 1);
        budp_close(other);
        ck_assert_uint_eq(drain(rx, 9, NO_ORDER), 9);
    }
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

/* One datagram from a plain socket into a msgx socket with option key on;
 * the view it arrived as (its data gone with the socket: read the rest). */
static budp_datagram one_through_msgx(int key)
{
    budp_socket *rx = open_msgx("127.0.0.1", key, 1, 0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram((const uint8_t *)"where", 5, &dest);
    const budp_datagram *v;

    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 1);
    d = v[0];
    d.data = NULL;
    budp_close(rx);
    budp_close(tx);
    return d;
}

/* Control messages pass through recvmsg_x: the destination address. */
START_TEST(pktinfo_through_msgx)
{
    budp_datagram v = one_through_msgx(BUDP_OPT_PKTINFO);

    ck_assert(v.flags & BUDP_DGRAM_HAS_LOCAL);
    ck_assert_uint_eq(v.local.family, BUDP_AF_INET);
    ck_assert_mem_eq(v.local.bytes, "\x7f\x00\x00\x01", 4);
}
END_TEST

/* Receive times come through recvmsg_x's control messages too. */
START_TEST(timestamps_through_msgx)
{
    budp_datagram v = one_through_msgx(BUDP_OPT_TIMESTAMPS);

    ck_assert(v.flags & BUDP_DGRAM_HAS_TIME);
    ck_assert_uint_gt(v.time_ns, 1700000000ull * 1000000000ull);
}
END_TEST

/* sendmsg_x carries no departure time and XNU has no error queue: the
 * options are refused at open, with nothing left open. */
START_TEST(pacing_and_errors_refused)
{
    static const int keys[] = { BUDP_OPT_PACING, BUDP_OPT_ERRORS };

    for (unsigned i = 0; i < 2; i++) {
        budp_options *o = tu_options(BUDP_OPT_BACKEND, (int64_t)BUDP_BACKEND_MSGX,
                                     keys[i], (int64_t)1, 0);
        budp_socket *s = (budp_socket *)&o;   /* must stay as it is */
        int fds = tu_dir_entries("/proc/self/fd");

        ck_assert_int_eq(budp_bind(&s, "127.0.0.1", 0, o), -ENOTSUP);
        ck_assert_ptr_eq(s, (budp_socket *)&o);
        ck_assert_int_eq(tu_dir_entries("/proc/self/fd"), fds);
        budp_options_free(o);
    }
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

/* The release AUTO reads (emulated sysctlbyname), and what the socket says
 * of its backend. */
START_TEST(reason_names_the_release)
{
    budp_socket *s, *a;
    const char *why;

    msgx_shim_os_version("15.5", "24.5.0");
    s = open_msgx("127.0.0.1", 0, 0, 0, 0);
    why = budp_backend_reason(s);
    ck_assert_msg(strcmp(why, "msgx: asked for by BUDP_OPT_BACKEND (AUTO passes it over: "
                              "recvmsg_x avoided below macOS 15.6 (this is macOS 15.5))") == 0,
                  "reason: %s", why);
    /* Asked for, it works on the old release too. */
    {
        budp_socket *tx = tu_bind("127.0.0.1", NULL);
        budp_addr dest = tu_local(s);
        tu_send_seq(tx, &dest, 0, 0, 20, 100, 20);
        ck_assert_uint_eq(tu_recv_seq(s, 20, 5000), 20);
        ck_assert_uint_ge(msgx_shim_stats().recv_messages, 20);
        budp_close(tx);
    }
    budp_close(s);

    msgx_shim_os_version("26.1", "25.1.0");
    s = open_msgx("::1", 0, 0, 0, 0);
    ck_assert_str_eq(budp_backend_reason(s),
                     "msgx: asked for by BUDP_OPT_BACKEND (recvmsg_x/sendmsg_x, macOS 26.1)");
    a = tu_bind("127.0.0.1", NULL);
    ck_assert_str_eq(budp_backend_reason(a), "mmsg: recvmmsg/sendmmsg");
    /* Shut down, or no socket: "", as budp_backend_name. */
    ck_assert_int_eq(budp_shutdown(a), 0);
    ck_assert_str_eq(budp_backend_reason(a), "");
    ck_assert_str_eq(budp_backend_reason(NULL), "");
    budp_close(a);
    budp_close(s);
}
END_TEST

/* macOS 10.15: recvmsg_x does not update msg_controllen.  A dual-stack
 * socket receives IPv6 and IPv4 datagrams in turn, whose control messages
 * differ in size, so a buffer not zeroed would hold an earlier datagram's
 * IPV6_PKTINFO past a later one's messages.  Every datagram must report
 * its own destination and ECN mark, none flagged cut, and every control
 * buffer must reach the kernel zeroed. */
START_TEST(stale_controllen)
{
    budp_socket *rx = open_msgx("::", BUDP_OPT_PKTINFO, 1, BUDP_OPT_ECN, 1);
    budp_socket *tx6 = open_msgx("::1", BUDP_OPT_ECN, 1, 0, 0);
    budp_socket *tx4 = open_msgx("127.0.0.1", BUDP_OPT_ECN, 1, 0, 0);
    budp_addr port = tu_local(rx), to6, to4;
    unsigned got = 0;
    enum { ROUNDS = 12 };

    msgx_shim_keep_controllen(_i);
    ck_assert_int_eq(budp_addr_from_string(&to6, "::1", port.port), 0);
    ck_assert_int_eq(budp_addr_from_string(&to4, "127.0.0.1", port.port), 0);
    for (unsigned r = 0; r < ROUNDS; r++) {
        uint8_t p[2][32];
        budp_datagram d6, d4;

        tu_payload_fill(p[0], 32, 6, r);
        tu_payload_fill(p[1], 32, 4, r);
        d6 = tu_datagram(p[0], 32, &to6);
        d4 = tu_datagram(p[1], 32, &to4);
        d6.ecn = (uint8_t)(r % 3);       /* 0, ECT(1), ECT(0) */
        d4.ecn = (uint8_t)((r + 1) % 3);
        ck_assert_int_eq(budp_send(r % 2 ? tx4 : tx6, r % 2 ? &d4 : &d6, 1), 1);
        ck_assert_int_eq(budp_send(r % 2 ? tx6 : tx4, r % 2 ? &d6 : &d4, 1), 1);
    }
    while (got < 2 * ROUNDS) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, 3);

        ck_assert_int_ge(n, 0);
        if (n == 0) {
            ck_assert_int_eq(budp_wait(rx, 5000), 1);
            continue;
        }
        for (int k = 0; k < n; k++, got++) {
            uint32_t sender, seq;
            int v4;

            ck_assert(tu_payload_check(v[k].data, v[k].len, &sender, &seq));
            v4 = sender == 4;
            ck_assert_msg(!(v[k].flags & BUDP_DGRAM_CONTROL_TRUNCATED),
                          "datagram %u flagged cut", got);
            ck_assert(v[k].flags & BUDP_DGRAM_HAS_LOCAL);
            ck_assert(v[k].flags & BUDP_DGRAM_HAS_ECN);
            ck_assert_msg(v[k].ecn == (v4 ? (seq + 1) % 3 : seq % 3),
                          "IPv%d #%u: ECN %u", v4 ? 4 : 6, seq, v[k].ecn);
            if (v4)
                ck_assert_msg(memcmp(v[k].local.bytes, "\x7f\x00\x00\x01", 4) == 0 ||
                                  memcmp(v[k].local.bytes,
                                         "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01", 16) == 0,
                              "IPv4 #%u: destination of another datagram", seq);
            else
                ck_assert_msg(v[k].local.family == BUDP_AF_INET6 &&
                                  memcmp(v[k].local.bytes, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01",
                                         16) == 0,
                              "IPv6 #%u: destination of another datagram", seq);
        }
    }
    ck_assert_uint_eq(msgx_shim_stats().recv_control_dirty, 0);
    ck_assert_uint_eq(tu_stats(rx).rx_control_truncated, 0);
    budp_close(rx);
    budp_close(tx6);
    budp_close(tx4);
}
END_TEST

/* A connected msgx sender and a plain receiver. */
struct pair {
    budp_socket *rx, *tx;
    uint8_t p[32][256];
    budp_datagram d[32];
};

static void pair_open(struct pair *pr, int key, int64_t value)
{
    budp_addr dest;

    pr->rx = tu_bind("127.0.0.1", NULL);
    pr->tx = open_msgx("127.0.0.1", BUDP_OPT_BATCH_SIZE, 32, key, value);
    dest = tu_local(pr->rx);
    ck_assert_int_eq(budp_connect(pr->tx, "127.0.0.1", dest.port), 0);
}

/* Datagrams first..first+n-1 of sender 0, bound for the connected peer. */
static budp_datagram *pair_fill(struct pair *pr, uint32_t first, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        tu_payload_fill(pr->p[k], 256, 0, first + k);
        pr->d[k] = tu_datagram(pr->p[k], 256, NULL);
    }
    return pr->d;
}

static void pair_close(struct pair *pr)
{
    budp_close(pr->rx);
    budp_close(pr->tx);
}

/* sendmsg_x stops partway with an error XNU swallows: budp_send returns
 * the exact count, and sending the rest duplicates nothing. */
START_TEST(partial_send_exact)
{
    static const int errs[] = { ENOBUFS, EWOULDBLOCK, EMSGSIZE, EINTR };
    struct pair pr;
    budp_datagram *d;
    int rc;

    pair_open(&pr, 0, 0);
    d = pair_fill(&pr, 0, 10);
    msgx_shim_send_fail_after(3, errs[_i]);
    rc = budp_send(pr.tx, d, 10);
    ck_assert_msg(rc == 3, "%s after 3: budp_send %d", strerror(errs[_i]), rc);
    ck_assert_int_eq(budp_send(pr.tx, d + 3, 7), 7);
    ck_assert_uint_eq(drain(pr.rx, 10, 0), 10);
    ck_assert_uint_eq(drain(pr.rx, 1, NO_ORDER), 0);
    ck_assert_uint_eq(tu_stats(pr.tx).tx_datagrams, 10);
    ck_assert_uint_eq(tu_stats(pr.tx).tx_unconfirmed, 0);
    ck_assert_uint_eq(tu_stats(pr.tx).tx_errors, 0);
    ck_assert_uint_eq(msgx_shim_stats().send_messages, 10);
    pair_close(&pr);
}
END_TEST

/* sendmsg_x fails with an error that loses the count (ENOSPC after 3 of
 * 10 went).  budp_send counts the batch as sent, so nothing is sent twice,
 * and says so in tx_unconfirmed and tx_errors; the next send confirms the
 * socket with one datagram alone, which returns a lasting error exactly. */
START_TEST(hidden_count_no_duplicates)
{
    struct pair pr;
    budp_datagram *d;
    budp_stats st;
    struct msgx_shim_stats sh;

    pair_open(&pr, 0, 0);
    d = pair_fill(&pr, 0, 10);
    msgx_shim_send_fail_after(3, ENOSPC);
    ck_assert_int_eq(budp_send(pr.tx, d, 10), 10);
    st = tu_stats(pr.tx);
    ck_assert_uint_eq(st.tx_datagrams, 10);
    ck_assert_uint_eq(st.tx_unconfirmed, 10);
    ck_assert_uint_eq(st.tx_errors, 1);
    /* Only the 3 the kernel took arrive, once each. */
    ck_assert_uint_eq(drain(pr.rx, 3, 0), 3);
    ck_assert_uint_eq(drain(pr.rx, 1, NO_ORDER), 0);

    /* The error lasts: the next send's first datagram goes alone and
     * fails, exactly, with nothing sent. */
    d = pair_fill(&pr, 3, 5);
    sh = msgx_shim_stats();
    msgx_shim_fail_next_sendmsg(ENOSPC);
    ck_assert_int_eq(budp_send(pr.tx, d, 5), -ENOSPC);
    ck_assert_uint_eq(msgx_shim_stats().send_calls, sh.send_calls);
    ck_assert_uint_eq(tu_stats(pr.tx).tx_errors, 2);
    /* Then it clears: one datagram alone, the other four batched. */
    ck_assert_int_eq(budp_send(pr.tx, d, 5), 5);
    ck_assert_uint_eq(msgx_shim_stats().send_calls, sh.send_calls + 1);
    ck_assert_uint_eq(msgx_shim_stats().send_messages, sh.send_messages + 4);
    ck_assert_uint_eq(drain(pr.rx, 5, 3), 5);
    ck_assert_uint_eq(drain(pr.rx, 1, NO_ORDER), 0);
    /* And batches again from the first datagram. */
    d = pair_fill(&pr, 8, 6);
    ck_assert_int_eq(budp_send(pr.tx, d, 6), 6);
    ck_assert_uint_eq(msgx_shim_stats().send_calls, sh.send_calls + 2);
    ck_assert_uint_eq(tu_stats(pr.tx).tx_unconfirmed, 10);
    ck_assert_uint_eq(drain(pr.rx, 6, 8), 6);
    pair_close(&pr);
}
END_TEST

static int sndbuf_of(int fd)
{
    int v = 0;
    socklen_t len = sizeof v;

    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    return v;
}

/* FB23671230: XNU refuses, at every try, a datagram within a few bytes
 * under SO_SNDBUF (emulated with a 2 KiB margin), and its 9216-byte
 * default refuses larger ones.  The backend keeps SO_SNDBUF at
 * BUDP_APPLE_SEND_BUFFER or more (a wrapped fd gets its own value back), so
 * datagrams up to 64 KiB go. */
START_TEST(send_buffer_kept_large)
{
    static uint8_t big[2][60000];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int small = 4608, before;   /* Linux doubles it: 9216, macOS's default */
    budp_options *ro = tu_options(BUDP_OPT_RECV_BUFFER, (int64_t)(4 << 20), 0);
    budp_socket *rx = tu_bind("127.0.0.1", ro);
    budp_addr dest = tu_local(rx);
    struct sockaddr_in sin;
    budp_options *o = tu_options(BUDP_OPT_BACKEND, BUDP_BACKEND_MSGX, 0);
    budp_socket *tx = NULL;
    budp_datagram d[2];
    uint32_t lens[] = { 9216 - 100, 60000 };

    budp_options_free(ro);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    before = sndbuf_of(fd);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(dest.port);
    memcpy(&sin.sin_addr, dest.bytes, 4);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(budp_open(&tx, fd, o), 0);
    budp_options_free(o);
    ck_assert_int_ge(sndbuf_of(fd), BUDP_APPLE_SEND_BUFFER);

    msgx_shim_xnu_send_buffer(1);
    for (unsigned r = 0; r < 2; r++) {
        for (unsigned k = 0; k < 2; k++) {
            tu_payload_fill(big[k], lens[r], 0, 2 * r + k);
            d[k] = tu_datagram(big[k], lens[r], NULL);
        }
        ck_assert_msg(budp_send(tx, d, 2) == 2, "%u bytes refused", lens[r]);
    }
    ck_assert_uint_eq(msgx_shim_stats().send_refused, 0);
    ck_assert_uint_eq(msgx_shim_stats().send_messages, 4);
    ck_assert_uint_eq(tu_recv_seq(rx, 4, 5000), 4);
    budp_close(tx);
    ck_assert_int_eq(sndbuf_of(fd), before);

    /* The emulation does refuse: on the small buffer as it was. */
    {
        uint8_t p[2][9216 - 100];
        ssize_t n;
        struct msghdr_x x[2];
        struct iovec iov[2];

        memset(x, 0, sizeof x);
        for (unsigned k = 0; k < 2; k++) {
            iov[k].iov_base = p[k];
            iov[k].iov_len = sizeof p[k];
            x[k].msg_iov = &iov[k];
            x[k].msg_iovlen = 1;
        }
        memset(p, 0, sizeof p);
        n = sendmsg_x(fd, x, 2, MSG_DONTWAIT);
        ck_assert_int_eq(n, -1);
        ck_assert_int_eq(errno, EWOULDBLOCK);
    }
    close(fd);
    budp_close(rx);
}
END_TEST

/* A socket already given a larger SO_SNDBUF keeps it. */
START_TEST(send_buffer_left_when_larger)
{
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    int large = 1 << 20, before;
    budp_options *o = tu_options(BUDP_OPT_BACKEND, BUDP_BACKEND_MSGX, 0);
    budp_socket *s = NULL;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &large, sizeof large), 0);
    before = sndbuf_of(fd);
    ck_assert_int_eq(budp_open(&s, fd, o), 0);
    ck_assert_int_eq(sndbuf_of(fd), before);
    budp_close(s);
    ck_assert_int_eq(sndbuf_of(fd), before);
    budp_options_free(o);
    close(fd);
}
END_TEST

/* With XNU's rule (a destination on a connected socket: EISCONN), an
 * echo that sends received datagrams back to their peer still works: the
 * peer's own address is left out.  _i 0: msgx, which batches them; 1:
 * loop, which AUTO takes below macOS 15.6. */
START_TEST(echo_to_connected_peer)
{
    budp_socket *client = tu_bind("127.0.0.1", NULL);
    budp_options *o = tu_options(BUDP_OPT_BACKEND,
                                 (int64_t)(_i ? BUDP_BACKEND_LOOP : BUDP_BACKEND_MSGX), 0);
    budp_socket *server = tu_bind("127.0.0.1", o);
    budp_addr caddr = tu_local(client), saddr = tu_local(server);
    const budp_datagram *v;
    struct msgx_shim_stats sh;
    unsigned echoed = 0;

    msgx_shim_xnu_sendmsg(1);
    ck_assert_int_eq(budp_connect(server, "127.0.0.1", caddr.port), 0);
    tu_send_seq(client, &saddr, 0, 0, 16, 64, 16);
    while (echoed < 16) {
        int n = budp_recv(server, &v, 64);

        ck_assert_int_ge(n, 0);
        if (n == 0) {
            ck_assert_int_eq(budp_wait(server, 5000), 1);
            continue;
        }
        ck_assert_int_eq(budp_send(server, v, (unsigned)n), n);
        echoed += (unsigned)n;
    }
    ck_assert_uint_eq(tu_recv_seq(client, 16, 5000), 16);
    sh = msgx_shim_stats();
    ck_assert_uint_eq(msgx_shim_eisconn_count(), 0);
    ck_assert_uint_eq(sh.send_einval, 0);
    if (_i == 0)
        ck_assert_uint_ge(sh.send_messages, 1);
    else
        ck_assert_uint_eq(sh.send_calls, 0);
    /* Elsewhere is refused, as XNU refuses it. */
    {
        budp_socket *other = tu_bind("127.0.0.1", NULL);
        budp_addr o = tu_local(other);
        budp_datagram d = tu_datagram((const uint8_t *)"x", 1, &o);
        ck_assert_int_eq(budp_send(server, &d, 1), -EISCONN);
        ck_assert_uint_eq(msgx_shim_eisconn_count(), 1);
        budp_close(other);
    }
    budp_options_free(o);
    budp_close(server);
    budp_close(client);
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
    tcase_add_test(tc, timestamps_through_msgx);
    tcase_add_test(tc, pacing_and_errors_refused);
    tcase_add_test(tc, threaded_round_trip);
    tcase_add_test(tc, reason_names_the_release);
    tcase_add_loop_test(tc, stale_controllen, 0, 2);
    tcase_add_loop_test(tc, partial_send_exact, 0, 4);
    tcase_add_test(tc, hidden_count_no_duplicates);
    tcase_add_test(tc, send_buffer_kept_large);
    tcase_add_test(tc, send_buffer_left_when_larger);
    tcase_add_loop_test(tc, echo_to_connected_peer, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(msgx_suite());
}
