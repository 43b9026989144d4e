/* test_badinput.c - every call given what it must refuse: each returns its
 * exact error and changes nothing (out pointers untouched, no datagram sent
 * or consumed, counters unchanged). */
#include "config.h"

#include <check.h>
#include <net/if.h>
#include <stdio.h>
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
#define SENTINEL_SOCKET ((budp_socket *)(uintptr_t)0x5a5a5a5a)
#define SENTINEL_VIEWS  ((const budp_datagram *)(uintptr_t)0x6b6b6b6b)

static const uint8_t marker_payload[] = "marker";

/* Send one marker datagram from tx to dest and check it is the very next
 * datagram rx receives: nothing was sent before it. */
static void expect_only_marker(budp_socket *tx, budp_socket *rx)
{
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram(marker_payload, sizeof marker_payload, &dest);
    const budp_datagram *v;
    int n;

    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    n = budp_recv(rx, &v, 64);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(v[0].len, sizeof marker_payload);
    ck_assert_mem_eq(v[0].data, marker_payload, sizeof marker_payload);
}

/* ------------------------------------------------------------------ */
/* NULL pointers                                                       */
/* ------------------------------------------------------------------ */

START_TEST(null_socket_everywhere)
{
    const budp_datagram *views = SENTINEL_VIEWS;
    budp_datagram d = tu_datagram(marker_payload, 1, NULL);
    budp_addr a;
    budp_stats st;
    uint8_t buf[64];
    uint32_t lens[4];

    memset(&a, 0x77, sizeof a);
    memset(&st, 0x77, sizeof st);
    ck_assert_int_eq(budp_connect(NULL, "127.0.0.1", 9), -EINVAL);
    ck_assert_int_eq(budp_local_addr(NULL, &a), -EINVAL);
    ck_assert_int_eq(budp_socket_fd(NULL), -EINVAL);
    ck_assert_int_eq(budp_poll_fd(NULL), -EINVAL);
    ck_assert_ptr_nonnull(budp_backend_name(NULL));
    ck_assert_str_eq(budp_backend_name(NULL), "");
    ck_assert_int_eq(budp_recv(NULL, &views, 8), -EINVAL);
    ck_assert_ptr_eq(views, SENTINEL_VIEWS);
    ck_assert_int_eq(budp_recv_packed(NULL, buf, sizeof buf, lens, NULL, NULL, 4),
                     -EINVAL);
    ck_assert_int_eq(budp_wait(NULL, 0), -EINVAL);
    ck_assert_int_eq(budp_set_callback(NULL, NULL, NULL), -EINVAL);
    ck_assert_int_eq(budp_dispatch(NULL, 8), -EINVAL);
    ck_assert_int_eq(budp_send(NULL, &d, 1), -EINVAL);
    ck_assert_int_eq(budp_get_stats(NULL, &st, sizeof st), -EINVAL);
    for (size_t i = 0; i < sizeof a; i++)
        ck_assert_uint_eq(((uint8_t *)&a)[i], 0x77);
    for (size_t i = 0; i < sizeof st; i++)
        ck_assert_uint_eq(((uint8_t *)&st)[i], 0x77);
    budp_close(NULL);
}
END_TEST

START_TEST(null_out_pointers)
{
    budp_socket *s = SENTINEL_SOCKET, *tx;
    const budp_datagram *views = SENTINEL_VIEWS;
    budp_addr a;
    uint8_t buf[64];
    uint32_t lens[4];

    ck_assert_int_eq(budp_bind(NULL, "127.0.0.1", 0, NULL), -EINVAL);
    ck_assert_int_eq(budp_bind(&s, NULL, 0, NULL), -EINVAL);
    ck_assert_ptr_eq(s, SENTINEL_SOCKET);
    ck_assert_int_eq(budp_addr_from_string(NULL, "127.0.0.1", 1), -EINVAL);
    memset(&a, 0x77, sizeof a);
    ck_assert_int_eq(budp_addr_from_string(&a, NULL, 1), -EINVAL);
    for (size_t i = 0; i < sizeof a; i++)
        ck_assert_uint_eq(((uint8_t *)&a)[i], 0x77);
    ck_assert_int_eq(budp_addr_to_string(NULL, (char *)buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(budp_addr_from_string(&a, "127.0.0.1", 1), 0);
    ck_assert_int_eq(budp_addr_to_string(&a, NULL, 64), -EINVAL);

    s = tu_bind("127.0.0.1", NULL);
    tx = tu_bind("127.0.0.1", NULL);
    {
        int fd = budp_socket_fd(s);
        budp_socket *o = SENTINEL_SOCKET;
        ck_assert_int_eq(budp_open(NULL, fd, NULL), -EINVAL);
        ck_assert_ptr_eq(o, SENTINEL_SOCKET);
    }
    ck_assert_int_eq(budp_connect(s, NULL, 9), -EINVAL);
    ck_assert_int_eq(budp_local_addr(s, NULL), -EINVAL);
    ck_assert_int_eq(budp_send(tx, NULL, 1), -EINVAL);
    ck_assert_int_eq(budp_get_stats(s, NULL, sizeof(budp_stats)), -EINVAL);

    /* With a datagram queued: none of these consumes it. */
    {
        budp_addr dest = tu_local(s);
        budp_datagram d = tu_datagram(marker_payload, sizeof marker_payload, &dest);
        ck_assert_int_eq(budp_send(tx, &d, 1), 1);
        ck_assert_int_eq(budp_wait(s, 5000), 1);
    }
    ck_assert_int_eq(budp_recv(s, NULL, 8), -EINVAL);
    ck_assert_int_eq(budp_recv_packed(s, NULL, sizeof buf, lens, NULL, NULL, 4), -EINVAL);
    ck_assert_int_eq(budp_recv_packed(s, buf, sizeof buf, NULL, NULL, NULL, 4), -EINVAL);
    ck_assert_int_eq(budp_recv(s, &views, 8), 1);
    ck_assert_mem_eq(views[0].data, marker_payload, sizeof marker_payload);
    {
        budp_stats st = tu_stats(s);
        ck_assert_uint_eq(st.rx_datagrams, 1);
    }
    budp_close(s);
    budp_close(tx);
}
END_TEST

START_TEST(close_null_is_noop)
{
    budp_close(NULL);
    budp_options_free(NULL);
    ck_assert(1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* budp_open on fds that are not UDP sockets                           */
/* ------------------------------------------------------------------ */

static void expect_open_fails(int fd, int err)
{
    budp_socket *s = SENTINEL_SOCKET;
    int rc = budp_open(&s, fd, NULL);

    ck_assert_msg(rc == err, "budp_open(%d): %d (%s), expected %d (%s)", fd, rc,
                  budp_strerror(rc), err, budp_strerror(err));
    ck_assert_ptr_eq(s, SENTINEL_SOCKET);
}

START_TEST(open_closed_fd)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    close(fd);
    expect_open_fails(fd, -EBADF);
    expect_open_fails(-1, -EBADF);
    expect_open_fails(-12345, -EBADF);
}
END_TEST

START_TEST(open_tcp_socket)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int fd6 = socket(AF_INET6, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    expect_open_fails(fd, -EPROTOTYPE);
    ck_assert(tu_fd_open(fd));
    close(fd);
    if (fd6 >= 0) {
        expect_open_fails(fd6, -EPROTOTYPE);
        close(fd6);
    }
}
END_TEST

START_TEST(open_not_a_socket)
{
    int p[2];
    char path[] = "/tmp/budp-badinput-XXXXXX";
    int f;

    ck_assert_int_eq(pipe(p), 0);
    expect_open_fails(p[0], -ENOTSOCK);
    expect_open_fails(p[1], -ENOTSOCK);
    ck_assert(tu_fd_open(p[0]) && tu_fd_open(p[1]));
    close(p[0]);
    close(p[1]);
    f = mkstemp(path);
    ck_assert_int_ge(f, 0);
    unlink(path);
    expect_open_fails(f, -ENOTSOCK);
    ck_assert(tu_fd_open(f));
    close(f);
}
END_TEST

START_TEST(open_unix_datagram_socket)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    budp_socket *s = SENTINEL_SOCKET;
    int rc;

    ck_assert_int_ge(fd, 0);
    rc = budp_open(&s, fd, NULL);
    if (rc == 0)
        budp_close(s);
    ck_assert_msg(tu_fd_open(fd), "budp_open closed the fd");
    close(fd);
    ck_assert_msg(rc == -EAFNOSUPPORT, "budp_open(AF_UNIX datagram): %d (%s), "
                  "expected %d (%s)", rc, budp_strerror(rc), -EAFNOSUPPORT,
                  budp_strerror(-EAFNOSUPPORT));
    ck_assert_ptr_eq(s, SENTINEL_SOCKET);
}
END_TEST

/* A datagram socket that is not UDP (ICMP echo), where the system lets an
 * unprivileged process make one. */
START_TEST(open_icmp_datagram_socket)
{
    int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);

    if (fd < 0) {
        fprintf(stderr, "open_icmp_datagram_socket: skipped: no ICMP datagram "
                        "sockets here (%s)\n", budp_strerror(errno));
        return;
    }
    expect_open_fails(fd, -EPROTOTYPE);
    close(fd);
}
END_TEST

START_TEST(open_callback_thread_without_threaded)
{
    budp_options *o = tu_options(BUDP_OPT_CALLBACK_THREAD, (int64_t)1, 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    budp_socket *s = SENTINEL_SOCKET;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(budp_open(&s, fd, o), -EINVAL);
    ck_assert_ptr_eq(s, SENTINEL_SOCKET);
    ck_assert(tu_fd_open(fd));
    close(fd);
    budp_options_free(o);
}
END_TEST

/* budp_close leaves a budp_open'd fd open and usable. */
START_TEST(open_fd_survives_close)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin;
    budp_socket *s = NULL, *rx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    const budp_datagram *v;

    ck_assert_int_ge(fd, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(budp_open(&s, fd, NULL), 0);
    ck_assert_int_eq(budp_socket_fd(s), fd);
    budp_close(s);
    ck_assert_msg(tu_fd_open(fd), "budp_close closed a budp_open'd fd");
    sin.sin_port = htons(dest.port);
    ck_assert_int_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof sin), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_recv(rx, &v, 4), 1);
    ck_assert_uint_eq(v[0].len, 1);
    close(fd);
    budp_close(rx);
}
END_TEST

/* budp_bind's own fd is closed by budp_close. */
START_TEST(bind_fd_closed_by_close)
{
    budp_socket *s = tu_bind("127.0.0.1", NULL);
    int fd = budp_socket_fd(s);

    ck_assert_int_ge(fd, 0);
    ck_assert(tu_fd_open(fd));
    budp_close(s);
    ck_assert(!tu_fd_open(fd));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hosts, options                                                      */
/* ------------------------------------------------------------------ */

START_TEST(bind_unparsable_hosts)
{
    static const char *const hosts[] = {
        "", "not-an-ip", "300.1.1.1", "localhost", "::1::2", "1.2.3.4.5",
        "127.0.0.1:80", "[::1]", "gggg::1",
        /* inet_aton's legacy spellings name other addresses than they
         * seem to: octal, short forms, hex, a bare number. */
        "017.0.0.1", "127.1", "0x7f.1", "0x7f.0.0.1", "1", "2130706433",
        "127.0.1", " 127.0.0.1", "127.0.0.1 ",
    };

    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        budp_socket *s = SENTINEL_SOCKET;
        budp_addr a;
        int rc = budp_bind(&s, hosts[i], 0, NULL);

        ck_assert_msg(rc == -EINVAL, "budp_bind(\"%s\"): %d (%s)", hosts[i], rc,
                      budp_strerror(rc));
        ck_assert_ptr_eq(s, SENTINEL_SOCKET);
        memset(&a, 0x77, sizeof a);
        ck_assert_int_eq(budp_addr_from_string(&a, hosts[i], 1), -EINVAL);
        for (size_t k = 0; k < sizeof a; k++)
            ck_assert_uint_eq(((uint8_t *)&a)[k], 0x77);
    }
}
END_TEST

/* The standard numeric forms still parse, IPv6 zone ids included. */
START_TEST(numeric_hosts_parse)
{
    budp_addr a;
    char text[64];
    unsigned lo = if_nametoindex("lo");

    ck_assert_int_eq(budp_addr_from_string(&a, "10.1.2.3", 9), 0);
    ck_assert_uint_eq(a.family, BUDP_AF_INET);
    ck_assert_uint_eq(a.port, 9);
    ck_assert_int_eq(a.bytes[0], 10);
    ck_assert_int_eq(a.bytes[3], 3);
    ck_assert_int_eq(budp_addr_from_string(&a, "::ffff:127.0.0.1", 9), 0);
    ck_assert_uint_eq(a.family, BUDP_AF_INET6);
    ck_assert_int_eq(budp_addr_from_string(&a, "2001:db8::1", 9), 0);
    ck_assert_int_ge(budp_addr_to_string(&a, text, sizeof text), 0);
    ck_assert_str_eq(text, "2001:db8::1");
    if (lo == 0) {
        fprintf(stderr, "numeric_hosts_parse: zone ids skipped: no interface lo\n");
        return;
    }
    ck_assert_int_eq(budp_addr_from_string(&a, "fe80::1%lo", 9), 0);
    ck_assert_uint_eq(a.scope_id, lo);
    snprintf(text, sizeof text, "fe80::1%%%u", lo);
    ck_assert_int_eq(budp_addr_from_string(&a, text, 9), 0);
    ck_assert_uint_eq(a.scope_id, lo);
}
END_TEST

START_TEST(bind_port_in_use)
{
    budp_socket *a = tu_bind("127.0.0.1", NULL), *b = SENTINEL_SOCKET;
    budp_addr la = tu_local(a);

    ck_assert_int_eq(budp_bind(&b, "127.0.0.1", la.port, NULL), -EADDRINUSE);
    ck_assert_ptr_eq(b, SENTINEL_SOCKET);
    budp_close(a);
}
END_TEST

START_TEST(connect_unparsable_host)
{
    budp_socket *s = tu_bind("127.0.0.1", NULL);

    ck_assert_int_eq(budp_connect(s, "localhost", 9), -EINVAL);
    ck_assert_int_eq(budp_connect(s, "", 9), -EINVAL);
    ck_assert_int_eq(budp_connect(s, "300.1.1.1", 9), -EINVAL);
    /* Still unconnected: a send without destination is refused. */
    {
        budp_datagram d = tu_datagram(marker_payload, 1, NULL);
        ck_assert_int_eq(budp_send(s, &d, 1), -EDESTADDRREQ);
    }
    budp_close(s);
}
END_TEST

START_TEST(bind_callback_thread_without_threaded)
{
    budp_options *o = tu_options(BUDP_OPT_CALLBACK_THREAD, (int64_t)1,
                                 BUDP_OPT_THREADED, (int64_t)0, 0);
    budp_socket *s = SENTINEL_SOCKET;

    ck_assert_int_eq(budp_bind(&s, "127.0.0.1", 0, o), -EINVAL);
    ck_assert_ptr_eq(s, SENTINEL_SOCKET);
    budp_options_free(o);
}
END_TEST

START_TEST(addr_to_string_buffers)
{
    budp_addr a4, a6, bad;
    char buf[64];

    ck_assert_int_eq(budp_addr_from_string(&a4, "127.0.0.1", 80), 0);
    ck_assert_int_eq(budp_addr_from_string(&a6, "::1", 80), 0);
    memset(buf, 'Z', sizeof buf);
    ck_assert_int_eq(budp_addr_to_string(&a4, buf, 9), -ENOSPC);
    ck_assert_int_eq(budp_addr_to_string(&a4, buf, 1), -ENOSPC);
    ck_assert_int_eq(budp_addr_to_string(&a4, buf, 0), -ENOSPC);
    ck_assert_int_eq(budp_addr_to_string(&a6, buf, 3), -ENOSPC);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_msg(buf[i] == 'Z', "byte %zu written by a failed call", i);
    ck_assert_int_eq(budp_addr_to_string(&a4, buf, 10), 9);
    ck_assert_str_eq(buf, "127.0.0.1");
    ck_assert_int_eq(budp_addr_to_string(&a6, buf, 4), 3);
    ck_assert_str_eq(buf, "::1");

    memset(&bad, 0, sizeof bad);
    ck_assert_int_eq(budp_addr_to_string(&bad, buf, sizeof buf), -EINVAL);
    bad.family = 5;
    ck_assert_int_eq(budp_addr_to_string(&bad, buf, sizeof buf), -EINVAL);
    ck_assert_str_eq(buf, "::1");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Receiving                                                           */
/* ------------------------------------------------------------------ */

START_TEST(recv_max_zero)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram(marker_payload, sizeof marker_payload, &dest);
    const budp_datagram *v = SENTINEL_VIEWS;
    uint8_t buf[64];
    uint32_t lens[4];
    budp_stats before, after;

    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    before = tu_stats(rx);
    ck_assert_int_eq(budp_recv(rx, &v, 0), -EINVAL);
    ck_assert_ptr_eq(v, SENTINEL_VIEWS);
    ck_assert_int_eq(budp_recv_packed(rx, buf, sizeof buf, lens, NULL, NULL, 0), -EINVAL);
    ck_assert_int_eq(budp_set_callback(rx, tu_ignore_batch, NULL), 0);
    ck_assert_int_eq(budp_dispatch(rx, 0), -EINVAL);
    ck_assert_int_eq(budp_set_callback(rx, NULL, NULL), 0);
    after = tu_stats(rx);
    ck_assert_mem_eq(&before, &after, sizeof before);
    /* The datagram is still there. */
    ck_assert_int_eq(budp_recv(rx, &v, 8), 1);
    ck_assert_mem_eq(v[0].data, marker_payload, sizeof marker_payload);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

START_TEST(dispatch_without_callback)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram(marker_payload, sizeof marker_payload, &dest);
    const budp_datagram *v;

    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_dispatch(rx, 8), -EINVAL);
    /* Set then cleared: no callback again. */
    ck_assert_int_eq(budp_set_callback(rx, tu_ignore_batch, NULL), 0);
    ck_assert_int_eq(budp_set_callback(rx, NULL, NULL), 0);
    ck_assert_int_eq(budp_dispatch(rx, 8), -EINVAL);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 1);
    ck_assert_mem_eq(v[0].data, marker_payload, sizeof marker_payload);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

START_TEST(wait_bad_timeout)
{
    budp_socket *s = tu_bind("127.0.0.1", NULL);

    ck_assert_int_eq(budp_wait(s, -2), -EINVAL);
    ck_assert_int_eq(budp_wait(s, -1000), -EINVAL);
    ck_assert_int_eq(budp_wait(s, -2147483647 - 1), -EINVAL);
    ck_assert_int_eq(budp_wait(s, 0), 0);
    budp_close(s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

START_TEST(send_n_zero)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram((const uint8_t *)"zz", 2, &dest);
    budp_stats before = tu_stats(tx), after;

    ck_assert_int_eq(budp_send(tx, &d, 0), -EINVAL);
    after = tu_stats(tx);
    ck_assert_mem_eq(&before, &after, sizeof before);
    expect_only_marker(tx, rx);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* Each malformation of a datagram, alone and as the first of a batch. */
START_TEST(send_malformed)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    static uint8_t big[65536 + 16];
    budp_stats before = tu_stats(tx), after;
    enum { CASES = 14 };

    for (int c = 0; c < CASES; c++) {
        budp_datagram d[2];
        const char *what = "";

        d[0] = tu_datagram((const uint8_t *)"abc", 3, &dest);
        d[1] = tu_datagram((const uint8_t *)"def", 3, &dest);
        switch (c) {
        case 0: d[0].flags = BUDP_DGRAM_TRUNCATED; what = "flags 1"; break;
        case 1: d[0].flags = 0x80000000u; what = "flags high bit"; break;
        case 2: d[0].peer.family = 5; what = "peer family 5"; break;
        case 3: d[0].peer.family = 2; what = "peer family AF_INET"; break;
        case 4: d[0].reserved[0] = 1; what = "reserved[0]"; break;
        case 5: d[0].reserved[4] = 0x80; what = "reserved[4]"; break;
        case 6: d[0].data = big; d[0].len = 65536; what = "len 65536"; break;
        case 7: d[0].data = big; d[0].len = 0xffffffffu; what = "len 2^32-1"; break;
        case 8: d[0].data = NULL; d[0].len = 1; what = "data NULL"; break;
        case 9: d[0].segment_size = 10; what = "segment_size"; break;
        case 10: d[0].local.family = 5; what = "local family 5"; break;
        case 11: d[0].ecn = 4; what = "ecn 4"; break;
        case 12: d[0].reserved[20] = 1; what = "reserved[20]"; break;
        case 13: d[0].time_ns = 1; what = "time_ns without pacing"; break;
        }
        ck_assert_msg(budp_send(tx, d, 1) == -EINVAL, "alone: %s accepted", what);
        ck_assert_msg(budp_send(tx, d, 2) == -EINVAL, "first of two: %s accepted", what);
    }
    after = tu_stats(tx);
    ck_assert_mem_eq(&before, &after, sizeof before);
    expect_only_marker(tx, rx);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* A zero-length datagram with data NULL is well formed. */
START_TEST(send_empty_null_data_ok)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram(NULL, 0, &dest);
    const budp_datagram *v;

    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 1);
    ck_assert_uint_eq(v[0].len, 0);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

START_TEST(send_without_destination)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_datagram d = tu_datagram((const uint8_t *)"abc", 3, NULL);
    budp_stats st;

    ck_assert_int_eq(budp_send(tx, &d, 1), -EDESTADDRREQ);
    st = tu_stats(tx);
    ck_assert_uint_eq(st.tx_datagrams, 0);
    ck_assert_uint_eq(st.tx_bytes, 0);
    expect_only_marker(tx, rx);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Stats sizes                                                         */
/* ------------------------------------------------------------------ */

START_TEST(stats_sizes)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d = tu_datagram(marker_payload, sizeof marker_payload, &dest);
    _Alignas(uint64_t) uint8_t raw[2 * sizeof(budp_stats)];
    const budp_datagram *v;
    uint64_t first;

    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 1);

    memset(raw, 0xab, sizeof raw);
    ck_assert_int_eq(budp_get_stats(rx, (budp_stats *)raw, 0), -EINVAL);
    ck_assert_int_eq(budp_get_stats(rx, (budp_stats *)raw, 7), -EINVAL);
    ck_assert_int_eq(budp_get_stats(rx, (budp_stats *)raw, 9), -EINVAL);
    ck_assert_int_eq(budp_get_stats(rx, (budp_stats *)raw, sizeof(budp_stats) - 1),
                     -EINVAL);
    for (size_t i = 0; i < sizeof raw; i++)
        ck_assert_uint_eq(raw[i], 0xab);

    /* An older caller that knows one field gets exactly that field. */
    ck_assert_int_eq(budp_get_stats(rx, (budp_stats *)raw, 8), 8);
    memcpy(&first, raw, 8);
    ck_assert_uint_eq(first, 1); /* rx_datagrams */
    for (size_t i = 8; i < sizeof raw; i++)
        ck_assert_msg(raw[i] == 0xab, "byte %zu written past the size given", i);

    /* A newer caller with a longer struct gets what the library has. */
    memset(raw, 0xab, sizeof raw);
    ck_assert_int_eq(budp_get_stats(rx, (budp_stats *)raw, sizeof raw),
                     (int)sizeof(budp_stats));
    for (size_t i = sizeof(budp_stats); i < sizeof raw; i++)
        ck_assert_msg(raw[i] == 0xab, "byte %zu written past the library's struct", i);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

static Suite *badinput_suite(void)
{
    Suite *s = suite_create("badinput");
    TCase *tc;

    tc = tcase_create("null");
    tcase_add_test(tc, null_socket_everywhere);
    tcase_add_test(tc, null_out_pointers);
    tcase_add_test(tc, close_null_is_noop);
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_add_test(tc, open_closed_fd);
    tcase_add_test(tc, open_tcp_socket);
    tcase_add_test(tc, open_not_a_socket);
    tcase_add_test(tc, open_unix_datagram_socket);
    tcase_add_test(tc, open_icmp_datagram_socket);
    tcase_add_test(tc, open_callback_thread_without_threaded);
    tcase_add_test(tc, open_fd_survives_close);
    tcase_add_test(tc, bind_fd_closed_by_close);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_test(tc, bind_unparsable_hosts);
    tcase_add_test(tc, numeric_hosts_parse);
    tcase_add_test(tc, bind_port_in_use);
    tcase_add_test(tc, connect_unparsable_host);
    tcase_add_test(tc, bind_callback_thread_without_threaded);
    tcase_add_test(tc, addr_to_string_buffers);
    suite_add_tcase(s, tc);

    tc = tcase_create("recv");
    tcase_add_test(tc, recv_max_zero);
    tcase_add_test(tc, dispatch_without_callback);
    tcase_add_test(tc, wait_bad_timeout);
    suite_add_tcase(s, tc);

    tc = tcase_create("send");
    tcase_add_test(tc, send_n_zero);
    tcase_add_test(tc, send_malformed);
    tcase_add_test(tc, send_empty_null_data_ok);
    tcase_add_test(tc, send_without_destination);
    suite_add_tcase(s, tc);

    tc = tcase_create("stats");
    tcase_add_test(tc, stats_sizes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(badinput_suite());
}
