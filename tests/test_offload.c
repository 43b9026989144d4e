/* test_offload.c - Linux offloads through the public API on loopback: GSO
 * sends split back into the datagrams that were sent, GRO receives split
 * into views, the GSO fallback, destination addresses, ECN, kernel drops. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#include "testutil.h"

static budp_socket *sock_with(const char *host, int gro, int gso, int pktinfo, int ecn)
{
    budp_options *o = tu_options(BUDP_OPT_GRO, (int64_t)gro, BUDP_OPT_GSO, (int64_t)gso,
                                 BUDP_OPT_PKTINFO, (int64_t)pktinfo,
                                 BUDP_OPT_ECN, (int64_t)ecn,
                                 BUDP_OPT_MAX_DATAGRAM, (int64_t)65535,
                                 BUDP_OPT_RECV_BUFFER, (int64_t)(4 << 20), 0);
    budp_socket *s = tu_bind(host, o);
    budp_options_free(o);
    return s;
}

/* A batch of n datagrams with the given lengths to dest, payloads from
 * tu_payload_fill with sender 0 and seq = index. */
struct batch {
    budp_datagram d[256];
    uint8_t *mem;
};

static void batch_make(struct batch *b, unsigned n, const uint32_t *lens,
                       const budp_addr *dest)
{
    size_t off = 0;

    b->mem = malloc(65536 * 4);
    ck_assert_ptr_nonnull(b->mem);
    memset(b->d, 0, sizeof b->d);
    for (unsigned i = 0; i < n; i++) {
        tu_payload_fill(b->mem + off, lens[i], 0, i);
        b->d[i].data = b->mem + off;
        b->d[i].len = lens[i];
        b->d[i].peer = dest[i % 1];
        off += lens[i];
    }
}

/* Receive n datagrams and compare each with what was sent, in order. */
static budp_stats expect_batch(budp_socket *rx, const struct batch *b, unsigned n)
{
    unsigned got = 0;

    while (got < n) {
        const budp_datagram *v;
        int k = budp_recv(rx, &v, 256);

        ck_assert_int_ge(k, 0);
        if (k == 0) {
            ck_assert_msg(budp_wait(rx, 2000) == 1, "only %u of %u arrived", got, n);
            continue;
        }
        for (int i = 0; i < k; i++, got++) {
            ck_assert_uint_lt(got, n);
            ck_assert_uint_eq(v[i].len, b->d[got].len);
            ck_assert_int_eq(memcmp(v[i].data, b->d[got].data, v[i].len), 0);
            ck_assert(!(v[i].flags & BUDP_DGRAM_TRUNCATED));
        }
    }
    return tu_stats(rx);
}

static void round_trip(unsigned n, const uint32_t *lens, int gro, int gso,
                       budp_stats *rx_st, budp_stats *tx_st)
{
    budp_socket *rx = sock_with("127.0.0.1", gro, 0, 0, 0);
    budp_socket *tx = sock_with("127.0.0.1", 0, gso, 0, 0);
    budp_addr dest = tu_local(rx);
    struct batch b;
    unsigned sent = 0;

    batch_make(&b, n, lens, &dest);
    while (sent < n) {
        int rc = budp_send(tx, b.d + sent, n - sent);
        ck_assert_msg(rc > 0, "send: %s", budp_strerror(rc));
        sent += (unsigned)rc;
    }
    *rx_st = expect_batch(rx, &b, n);
    *tx_st = tu_stats(tx);
    ck_assert_uint_eq(tx_st->tx_datagrams, n);
    ck_assert_uint_eq(rx_st->rx_datagrams, n);
    free(b.mem);
    budp_close(rx);
    budp_close(tx);
}

static void equal_lens(uint32_t *lens, unsigned n, uint32_t len)
{
    for (unsigned i = 0; i < n; i++)
        lens[i] = len;
}

START_TEST(test_gso_to_gro_sixty_four_segments)
{
    uint32_t lens[64];
    budp_stats rx, tx;

    equal_lens(lens, 64, 1000);
    round_trip(64, lens, 1, 1, &rx, &tx);
    /* One GSO send, one GRO receive, 64 datagrams out of it. */
    ck_assert_uint_eq(tx.tx_coalesced, 1);
    ck_assert_uint_eq(tx.tx_syscalls, 1);
    ck_assert_uint_eq(rx.rx_coalesced, 1);
    ck_assert_uint_eq(rx.rx_syscalls, 1);
}
END_TEST

START_TEST(test_gro_last_segment_shorter)
{
    uint32_t lens[10];
    budp_stats rx, tx;

    equal_lens(lens, 10, 1400);
    lens[9] = 77;
    round_trip(10, lens, 1, 1, &rx, &tx);
    ck_assert_uint_eq(tx.tx_coalesced, 1);
    ck_assert_uint_eq(rx.rx_coalesced, 1);
}
END_TEST

START_TEST(test_gro_one_segment)
{
    uint32_t lens[1] = { 1400 };
    budp_stats rx, tx;

    round_trip(1, lens, 1, 1, &rx, &tx);
    ck_assert_uint_eq(tx.tx_coalesced, 0);
    ck_assert_uint_eq(rx.rx_coalesced, 0);
}
END_TEST

START_TEST(test_gro_segment_size_one)
{
    uint32_t lens[64];
    budp_stats rx, tx;

    equal_lens(lens, 64, 1);
    round_trip(64, lens, 1, 1, &rx, &tx);
    ck_assert_uint_eq(tx.tx_coalesced, 1);
}
END_TEST

START_TEST(test_gro_largest_coalesced_size)
{
    uint32_t lens[44];
    budp_stats rx, tx;

    /* 44 x 1472 = 64768 bytes: the most one GSO send carries at this size. */
    equal_lens(lens, 44, 1472);
    round_trip(44, lens, 1, 1, &rx, &tx);
    ck_assert_uint_eq(tx.tx_coalesced, 1);
    ck_assert_uint_eq(rx.rx_coalesced, 1);
}
END_TEST

START_TEST(test_gso_sixty_five_without_gro)
{
    uint32_t lens[65];
    budp_stats rx, tx;

    /* The receiver without GRO gets the kernel's segments one by one. */
    equal_lens(lens, 65, 500);
    round_trip(65, lens, 0, 1, &rx, &tx);
    ck_assert_uint_eq(tx.tx_coalesced, 1); /* 64 segments and a lone one */
    ck_assert_uint_eq(tx.tx_syscalls, 1);
    ck_assert_uint_eq(rx.rx_coalesced, 0);
}
END_TEST

START_TEST(test_gso_mixed_sizes_and_zero_length)
{
    uint32_t lens[12] = { 300, 300, 300, 0, 300, 1200, 1200, 5, 1200, 1200, 1200, 0 };
    budp_stats rx, tx;

    round_trip(12, lens, 1, 1, &rx, &tx);
    ck_assert_uint_ge(tx.tx_coalesced, 2);
    round_trip(12, lens, 0, 1, &rx, &tx);
}
END_TEST

START_TEST(test_gso_mixed_destinations)
{
    budp_socket *a = sock_with("127.0.0.1", 1, 0, 0, 0), *b = sock_with("127.0.0.1", 1, 0, 0, 0);
    budp_socket *tx = sock_with("127.0.0.1", 0, 1, 0, 0);
    budp_addr da = tu_local(a), db = tu_local(b);
    struct batch ba, bb;
    budp_datagram mixed[40];
    uint32_t lens[20];
    int sent = 0;

    equal_lens(lens, 20, 700);
    batch_make(&ba, 20, lens, &da);
    batch_make(&bb, 20, lens, &db);
    /* a a a a b b b b a a a a ... : runs of four per destination */
    for (int i = 0; i < 40; i++)
        mixed[i] = (i / 4) % 2 == 0 ? ba.d[(i / 8) * 4 + i % 4] : bb.d[(i / 8) * 4 + i % 4];
    while (sent < 40) {
        int rc = budp_send(tx, mixed + sent, (unsigned)(40 - sent));
        ck_assert_int_gt(rc, 0);
        sent += rc;
    }
    expect_batch(a, &ba, 20);
    expect_batch(b, &bb, 20);
    ck_assert_uint_eq(tu_stats(tx).tx_coalesced, 10);
    free(ba.mem);
    free(bb.mem);
    budp_close(a);
    budp_close(b);
    budp_close(tx);
}
END_TEST

START_TEST(test_gso_refused_falls_back)
{
    budp_socket *rx = sock_with("127.0.0.1", 1, 0, 0, 0), *tx;
    budp_addr dest = tu_local(rx);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    budp_options *o = tu_options(BUDP_OPT_GSO, (int64_t)1, 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
    uint32_t lens[16];
    struct batch b;
    budp_stats st;

    /* Without UDP checksums the kernel refuses segmentation (EINVAL). */
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one), 0);
    ck_assert_int_eq(budp_open(&tx, fd, o), 0);
    equal_lens(lens, 16, 1000);
    batch_make(&b, 16, lens, &dest);
    ck_assert_int_eq(budp_send(tx, b.d, 16), 16);
    expect_batch(rx, &b, 16);
    st = tu_stats(tx);
    ck_assert_uint_eq(st.tx_gso_fallbacks, 1);
    ck_assert_uint_eq(st.tx_coalesced, 0);
    ck_assert_uint_eq(st.tx_datagrams, 16);
    /* GSO stays off: a second batch goes without another refusal. */
    ck_assert_int_eq(budp_send(tx, b.d, 16), 16);
    ck_assert_uint_eq(tu_stats(tx).tx_gso_fallbacks, 1);
    expect_batch(rx, &b, 16);
    free(b.mem);
    budp_close(tx);
    budp_close(rx);
    close(fd);
    budp_options_free(o);
}
END_TEST

/* ---- a caller's fd ------------------------------------------------------ */

static int get_int(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;

    ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
    return v;
}

static int set_one(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof v);
}

/* The caller's fd has UDP_GRO on; opened with GRO off, the library turns it
 * off (a coalesced receive it does not split would merge datagrams), and
 * puts it back on at close, as it does every option it changed. */
START_TEST(test_open_fd_with_gro_on_keeps_boundaries)
{
    budp_socket *rx, *tx = sock_with("127.0.0.1", 0, 1, 0, 0);
    budp_options *o = tu_options(BUDP_OPT_GRO, (int64_t)0, BUDP_OPT_PKTINFO, (int64_t)1, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    uint32_t lens[10];
    struct batch b;
    budp_addr dest;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(set_one(fd, SOL_UDP, UDP_GRO, 1), 0);
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_PKTINFO), 0);
    ck_assert_int_eq(budp_open(&rx, fd, o), 0);
    ck_assert_int_eq(get_int(fd, SOL_UDP, UDP_GRO), 0);
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_PKTINFO), 1);
    dest = tu_local(rx);
    equal_lens(lens, 10, 1000);
    batch_make(&b, 10, lens, &dest);
    ck_assert_int_eq(budp_send(tx, b.d, 10), 10);
    expect_batch(rx, &b, 10);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, 10);
    budp_close(rx);
    /* The fd is the caller's again, as it was. */
    ck_assert_int_eq(get_int(fd, SOL_UDP, UDP_GRO), 1);
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_PKTINFO), 0);
    free(b.mem);
    close(fd);
    budp_close(tx);
    budp_options_free(o);
}
END_TEST

/* ---- destination address ------------------------------------------------ */

static void send_one_to(budp_socket *tx, const char *host, uint16_t port, uint8_t ecn)
{
    budp_datagram d;

    memset(&d, 0, sizeof d);
    d.data = (const uint8_t *)"hello";
    d.len = 5;
    d.ecn = ecn;
    ck_assert_int_eq(budp_addr_from_string(&d.peer, host, port), 0);
    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
}

static budp_datagram recv_one(budp_socket *rx)
{
    const budp_datagram *v;
    int n;

    while ((n = budp_recv(rx, &v, 1)) == 0)
        ck_assert_int_eq(budp_wait(rx, 2000), 1);
    ck_assert_int_eq(n, 1);
    return v[0];
}

START_TEST(test_pktinfo_wildcard_two_addresses)
{
    budp_socket *rx = sock_with("0.0.0.0", 0, 0, 1, 0), *tx = tu_bind("127.0.0.1", NULL);
    uint16_t port = tu_local(rx).port;
    const char *to[2] = { "127.0.0.1", "127.0.0.2" };
    char text[64];

    for (int i = 0; i < 2; i++) {
        budp_datagram d;
        send_one_to(tx, to[i], port, 0);
        d = recv_one(rx);
        ck_assert(d.flags & BUDP_DGRAM_HAS_LOCAL);
        ck_assert_int_eq(d.local.family, BUDP_AF_INET);
        ck_assert_int_ge(budp_addr_to_string(&d.local, text, sizeof text), 0);
        ck_assert_str_eq(text, to[i]);
    }
    budp_close(rx);
    budp_close(tx);
}
END_TEST

START_TEST(test_pktinfo_ipv6_and_mapped)
{
    budp_socket *rx = sock_with("::", 0, 0, 1, 0), *tx6 = tu_bind("::1", NULL);
    budp_socket *tx4 = tu_bind("127.0.0.1", NULL);
    uint16_t port = tu_local(rx).port;
    char text[64];
    budp_datagram d;

    send_one_to(tx6, "::1", port, 0);
    d = recv_one(rx);
    ck_assert(d.flags & BUDP_DGRAM_HAS_LOCAL);
    ck_assert_int_eq(d.local.family, BUDP_AF_INET6);
    budp_addr_to_string(&d.local, text, sizeof text);
    ck_assert_str_eq(text, "::1");
    /* An IPv4 datagram on the dual-stack socket. */
    send_one_to(tx4, "127.0.0.1", port, 0);
    d = recv_one(rx);
    ck_assert(d.flags & BUDP_DGRAM_HAS_LOCAL);
    budp_addr_to_string(&d.local, text, sizeof text);
    ck_assert_msg(strcmp(text, "127.0.0.1") == 0 || strcmp(text, "::ffff:127.0.0.1") == 0,
                  "local %s", text);
    budp_close(rx);
    budp_close(tx6);
    budp_close(tx4);
}
END_TEST

START_TEST(test_no_pktinfo_no_local)
{
    budp_socket *rx = sock_with("127.0.0.1", 0, 0, 0, 0), *tx = tu_bind("127.0.0.1", NULL);
    budp_datagram d;

    send_one_to(tx, "127.0.0.1", tu_local(rx).port, 0);
    d = recv_one(rx);
    ck_assert(!(d.flags & (BUDP_DGRAM_HAS_LOCAL | BUDP_DGRAM_HAS_ECN)));
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* ---- ECN -------------------------------------------------------------- */

static void ecn_round_trip(const char *host)
{
    budp_socket *rx = sock_with(host, 0, 0, 0, 1), *tx = sock_with(host, 0, 0, 0, 1);
    uint16_t port = tu_local(rx).port;

    for (uint8_t mark = 0; mark <= 3; mark++) {
        budp_datagram d;
        send_one_to(tx, host, port, mark);
        d = recv_one(rx);
        ck_assert(d.flags & BUDP_DGRAM_HAS_ECN);
        ck_assert_uint_eq(d.ecn, mark);
    }
    budp_close(rx);
    budp_close(tx);
}

START_TEST(test_ecn_ipv4)
{
    ecn_round_trip("127.0.0.1");
}
END_TEST

START_TEST(test_ecn_ipv6)
{
    ecn_round_trip("::1");
}
END_TEST

/* ---- kernel drops ------------------------------------------------------- */

START_TEST(test_kernel_drops_counted)
{
    budp_options *o = tu_options(BUDP_OPT_GSO, (int64_t)0, 0);
    budp_socket *tx = tu_bind("127.0.0.1", o), *rx;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), small = 4096;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    budp_addr dest;
    unsigned got;
    budp_stats st;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    ck_assert_int_eq(budp_open(&rx, fd, NULL), 0);
    dest = tu_local(rx);
    tu_send_seq(tx, &dest, 0, 0, 2000, 64, 64);
    got = 0;
    /* Until every datagram is received or dropped: on a busy machine the
     * last may still be on their way through loopback when the socket
     * first runs dry.  A lost one runs this into the deadline. */
    for (int idle = 0; idle < 20;) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, 64);
        ck_assert_int_ge(n, 0);
        got += (unsigned)n;
        st = tu_stats(rx);
        if (got + st.rx_kernel_drops >= 2000)
            break;
        if (n == 0 && budp_wait(rx, 100) == 0)
            idle++;
    }
    st = tu_stats(rx);
    ck_assert_uint_gt(st.rx_kernel_drops, 0);
    ck_assert_uint_eq(got + st.rx_kernel_drops, 2000);
    budp_close(rx);
    budp_close(tx);
    close(fd);
    budp_options_free(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("offload");
    TCase *gso = tcase_create("gro_gso");
    TCase *meta = tcase_create("metadata");

    tcase_set_timeout(gso, 60);
    tcase_add_test(gso, test_gso_to_gro_sixty_four_segments);
    tcase_add_test(gso, test_gro_last_segment_shorter);
    tcase_add_test(gso, test_gro_one_segment);
    tcase_add_test(gso, test_gro_segment_size_one);
    tcase_add_test(gso, test_gro_largest_coalesced_size);
    tcase_add_test(gso, test_gso_sixty_five_without_gro);
    tcase_add_test(gso, test_gso_mixed_sizes_and_zero_length);
    tcase_add_test(gso, test_gso_mixed_destinations);
    tcase_add_test(gso, test_gso_refused_falls_back);
    tcase_add_test(gso, test_open_fd_with_gro_on_keeps_boundaries);
    tcase_set_timeout(meta, 60);
    tcase_add_test(meta, test_pktinfo_wildcard_two_addresses);
    tcase_add_test(meta, test_pktinfo_ipv6_and_mapped);
    tcase_add_test(meta, test_no_pktinfo_no_local);
    tcase_add_test(meta, test_ecn_ipv4);
    tcase_add_test(meta, test_ecn_ipv6);
    tcase_add_test(meta, test_kernel_drops_counted);
    suite_add_tcase(s, gso);
    suite_add_tcase(s, meta);
    return tu_run(s);
}
