/* test_send_errors.c - the sending side and errors through every backend,
 * IPv4 and IPv6, GRO and GSO on and off: partial sends, ICMP-borne errors
 * (reported once, socket still usable), connected sockets, IPv4 peers of a
 * dual-stack IPv6 socket. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "batchudp.h"
#include "combo.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Partial sends                                                       */
/* ------------------------------------------------------------------ */

/* The kernel refuses the third datagram (too long for UDP over IP, yet
 * well formed for the library): the first two are sent, the count says
 * so, and the next call on the rest fails on the refused one alone. */
START_TEST(partial_send_kernel_refusal)
{
    int i = _i;
    budp_socket *rx = open_plain(i), *tx = open_plain(i);
    budp_addr dest = tu_local(rx);
    static uint8_t big[65535];
    uint8_t p[4][64];
    budp_datagram d[5];
    struct got g[4];
    budp_stats ts;
    int rc;
    unsigned n;

    for (unsigned k = 0; k < 4; k++)
        tu_payload_fill(p[k], 64, 8, k);
    d[0] = tu_datagram(p[0], 64, &dest);
    d[1] = tu_datagram(p[1], 64, &dest);
    d[2] = tu_datagram(big, sizeof big, &dest);
    d[3] = tu_datagram(p[2], 64, &dest);
    d[4] = tu_datagram(p[3], 64, &dest);
    rc = budp_send(tx, d, 5);
    ck_assert_msg(rc == 2, "[%s] budp_send: %d (%s)", describe(i), rc,
                  rc < 0 ? budp_strerror(rc) : "count");
    rc = budp_send(tx, d + 2, 3);
    ck_assert_msg(rc == -EMSGSIZE, "[%s] resend: %d", describe(i), rc);
    ts = tu_stats(tx);
    ck_assert_uint_eq(ts.tx_datagrams, 2);
    ck_assert_uint_eq(ts.tx_bytes, 128);
    ck_assert_uint_eq(ts.tx_errors, 1);
    rc = budp_send(tx, d + 3, 2);
    ck_assert_int_eq(rc, 2);
    n = recv_copies(rx, g, 4, 5000);
    ck_assert_uint_eq(n, 4);
    for (unsigned k = 0; k < 4; k++) {
        ck_assert_uint_eq(g[k].len, 64);
        ck_assert_mem_eq(g[k].data, p[k], 64);
    }
    got_free(g, n);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* A malformed datagram in the middle: the well-formed ones before it are
 * sent, the count stops there, and a call starting at it fails. */
START_TEST(partial_send_malformed)
{
    int i = _i;
    budp_socket *rx = open_plain(i), *tx = open_plain(i);
    budp_addr dest = tu_local(rx);
    uint8_t p[5][32];
    budp_datagram d[5];
    struct got g[5];
    unsigned n;
    int rc;

    for (unsigned k = 0; k < 5; k++) {
        tu_payload_fill(p[k], 32, 9, k);
        d[k] = tu_datagram(p[k], 32, &dest);
    }
    d[3].flags = 1;
    rc = budp_send(tx, d, 5);
    ck_assert_int_eq(rc, 3);
    ck_assert_int_eq(budp_send(tx, d + 3, 2), -EINVAL);
    ck_assert_uint_eq(tu_stats(tx).tx_datagrams, 3);
    d[3].flags = 0;
    ck_assert_int_eq(budp_send(tx, d + 3, 2), 2);
    n = recv_copies(rx, g, 5, 5000);
    ck_assert_uint_eq(n, 5);
    for (unsigned k = 0; k < 5; k++)
        ck_assert_mem_eq(g[k].data, p[k], 32);
    got_free(g, n);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* ICMP-borne errors                                                   */
/* ------------------------------------------------------------------ */

START_TEST(icmp_refused_once)
{
    int i = _i;
    struct combo c = combo_of(i);
    budp_socket *gone = open_plain(i), *s = open_plain(i), *peer = open_plain(i);
    budp_addr closed = tu_local(gone), live = tu_local(peer), me;
    budp_datagram d = tu_datagram((const uint8_t *)"ping", 4, NULL);
    const budp_datagram *v;
    budp_stats st;
    int rc, n;

    budp_close(gone);
    ck_assert_int_eq(budp_connect(s, c.host, closed.port), 0);
    ck_assert_int_eq(budp_send(s, &d, 1), 1);
    /* The error makes the socket readable. */
    ck_assert_int_eq(budp_wait(s, 5000), 1);
    rc = budp_recv(s, &v, 8);
    ck_assert_msg(rc == -ECONNREFUSED, "[%s] budp_recv: %d (%s)", describe(i), rc,
                  budp_strerror(rc));
    st = tu_stats(s);
    ck_assert_uint_eq(st.rx_errors, 1);
    /* Once only. */
    ck_assert_int_eq(budp_recv(s, &v, 8), 0);
    ck_assert_uint_eq(tu_stats(s).rx_errors, 1);

    /* Still usable: connect to a live peer and receive from it. */
    ck_assert_int_eq(budp_connect(s, c.host, live.port), 0);
    me = tu_local(s);
    {
        budp_datagram back = tu_datagram((const uint8_t *)"pong", 4, &me);
        ck_assert_int_eq(budp_send(peer, &back, 1), 1);
    }
    ck_assert_int_eq(budp_wait(s, 5000), 1);
    n = budp_recv(s, &v, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(v[0].len, 4);
    ck_assert_mem_eq(v[0].data, "pong", 4);
    assert_peer(&v[0].peer, &live, describe(i));
    ck_assert_int_eq(budp_send(s, &d, 1), 1);
    ck_assert_uint_eq(tu_recv_seq(peer, 1, 5000), 1);
    budp_close(s);
    budp_close(peer);
}
END_TEST

/* Datagrams queued around an ICMP error: the error is reported exactly
 * once (Linux reports a pending socket error before queued data) and no
 * datagram is lost to it. */
START_TEST(icmp_error_with_data)
{
    int i = _i;
    struct combo c = combo_of(i);
    budp_socket *s = open_plain(i), *peer = open_plain(i);
    budp_addr me = tu_local(s), there = tu_local(peer);
    budp_datagram d = tu_datagram((const uint8_t *)"ping", 4, NULL);
    uint8_t p[3][16];
    budp_datagram in[3];
    const budp_datagram *v;
    unsigned got = 0, errors = 0;
    int n, rounds = 0;

    ck_assert_int_eq(budp_connect(s, c.host, there.port), 0);
    for (unsigned k = 0; k < 3; k++) {
        tu_payload_fill(p[k], 16, 11, k);
        in[k] = tu_datagram(p[k], 16, &me);
    }
    send_all(peer, in, 3);
    budp_close(peer);
    /* The peer is gone: this send draws the ICMP error. */
    ck_assert_int_eq(budp_send(s, &d, 1), 1);
    while (rounds++ < 20) {
        n = budp_recv(s, &v, 32);
        if (n == -ECONNREFUSED) {
            errors++;
            continue;
        }
        ck_assert_msg(n >= 0, "[%s] budp_recv: %d (%s) after %u datagrams",
                      describe(i), n, budp_strerror(n), got);
        for (int k = 0; k < n; k++)
            ck_assert_mem_eq(v[k].data, p[got + (unsigned)k], 16);
        got += (unsigned)n;
        if (n == 0 && budp_wait(s, got == 3 && errors == 1 ? 0 : 5000) == 0)
            break;
    }
    ck_assert_msg(got == 3, "[%s] %u of 3 datagrams", describe(i), got);
    ck_assert_msg(errors == 1, "[%s] ECONNREFUSED reported %u times", describe(i),
                  errors);
    ck_assert_uint_eq(tu_stats(s).rx_errors, 1);
    ck_assert_uint_eq(tu_stats(s).rx_datagrams, 3);
    budp_close(s);
}
END_TEST

/* Through budp_dispatch too: the error is returned, no callback made. */
static int count_cb(void *user, const budp_datagram *d, unsigned n)
{
    (void)d;
    *(unsigned *)user += n;
    return BUDP_CALLBACK_CONTINUE;
}

START_TEST(icmp_refused_dispatch)
{
    int i = _i;
    struct combo c = combo_of(i);
    budp_socket *gone = open_plain(i), *s = open_plain(i);
    budp_addr closed = tu_local(gone);
    budp_datagram d = tu_datagram((const uint8_t *)"ping", 4, NULL);
    unsigned seen = 0;
    int rc;

    budp_close(gone);
    ck_assert_int_eq(budp_set_callback(s, count_cb, &seen), 0);
    ck_assert_int_eq(budp_connect(s, c.host, closed.port), 0);
    ck_assert_int_eq(budp_send(s, &d, 1), 1);
    ck_assert_int_eq(budp_wait(s, 5000), 1);
    rc = budp_dispatch(s, 8);
    ck_assert_msg(rc == -ECONNREFUSED, "[%s] budp_dispatch: %d", describe(i), rc);
    ck_assert_uint_eq(seen, 0);
    ck_assert_int_eq(budp_dispatch(s, 8), 0);
    ck_assert_uint_eq(tu_stats(s).rx_errors, 1);
    budp_close(s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Connected sockets                                                   */
/* ------------------------------------------------------------------ */

START_TEST(connected_unspec_peer)
{
    int i = _i;
    struct combo c = combo_of(i);
    budp_socket *rx = open_plain(i), *tx = open_plain(i), *other = open_plain(i);
    budp_addr dest = tu_local(rx), src = tu_local(tx);
    enum { N = 50 };
    uint8_t p[N][256];
    budp_datagram d[N];
    struct got g[N];
    unsigned n;

    /* Connect both ways: rx then hears only tx. */
    ck_assert_int_eq(budp_connect(tx, c.host, dest.port), 0);
    ck_assert_int_eq(budp_connect(rx, c.host, src.port), 0);
    /* A stranger's datagram does not arrive. */
    {
        budp_datagram s = tu_datagram((const uint8_t *)"stranger", 8, &dest);
        ck_assert_int_eq(budp_send(other, &s, 1), 1);
    }
    for (unsigned k = 0; k < N; k++) {
        tu_payload_fill(p[k], 256, 10, k);
        d[k] = tu_datagram(p[k], 256, NULL); /* BUDP_AF_UNSPEC */
    }
    n = exchange(tx, rx, d, N, g, 256);
    ck_assert_msg(n == N, "[%s] received %u of %u", describe(i), n, (unsigned)N);
    for (unsigned k = 0; k < N; k++) {
        ck_assert_uint_eq(g[k].len, 256);
        ck_assert_mem_eq(g[k].data, p[k], 256);
        assert_peer(&g[k].peer, &src, describe(i));
    }
    ck_assert_uint_eq(tu_stats(tx).tx_datagrams, N);
    /* An explicit destination equal to the connected peer works as well. */
    d[0].peer = dest;
    ck_assert_int_eq(budp_send(tx, d, 1), 1);
    got_free(g, n);
    n = recv_copies(rx, g, 1, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_mem_eq(g[0].data, p[0], 256);
    got_free(g, n);
    budp_close(rx);
    budp_close(tx);
    budp_close(other);
}
END_TEST

/* ------------------------------------------------------------------ */
/* IPv4 peers of a dual-stack IPv6 socket                              */
/* ------------------------------------------------------------------ */

static int same_v4_peer(const budp_addr *got, const budp_addr *v4)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (got->port != v4->port)
        return 0;
    if (got->family == BUDP_AF_INET)
        return memcmp(got->bytes, v4->bytes, 4) == 0;
    return got->family == BUDP_AF_INET6 && memcmp(got->bytes, mapped, 12) == 0 &&
           memcmp(got->bytes + 12, v4->bytes, 4) == 0;
}

START_TEST(v4_peer_on_v6_socket)
{
    int i = _i; /* the IPv4 combinations: family bit clear */
    budp_socket *s6 = open_combo(i, "::", 0, 0, 0, 0);
    budp_socket *s4 = open_plain(i);
    budp_addr a6 = tu_local(s6), a4 = tu_local(s4), to6;
    budp_datagram d;
    struct got g[2];
    unsigned n;

    ck_assert_uint_eq(a6.family, BUDP_AF_INET6);
    ck_assert_uint_eq(a4.family, BUDP_AF_INET);
    /* IPv6 socket -> IPv4 socket, destination given as family 4. */
    d = tu_datagram((const uint8_t *)"six-to-four", 11, &a4);
    ck_assert_int_eq(budp_send(s6, &d, 1), 1);
    n = recv_copies(s4, g, 1, 5000);
    ck_assert_msg(n == 1, "[%s] IPv4 socket got nothing from the IPv6 one", describe(i));
    ck_assert_uint_eq(g[0].len, 11);
    ck_assert_mem_eq(g[0].data, "six-to-four", 11);
    ck_assert_uint_eq(g[0].peer.family, BUDP_AF_INET);
    ck_assert_uint_eq(g[0].peer.port, a6.port);
    ck_assert_mem_eq(g[0].peer.bytes, "\x7f\x00\x00\x01", 4);
    got_free(g, n);

    /* IPv4 socket -> IPv6 socket at 127.0.0.1. */
    ck_assert_int_eq(budp_addr_from_string(&to6, "127.0.0.1", a6.port), 0);
    d = tu_datagram((const uint8_t *)"four-to-six", 11, &to6);
    ck_assert_int_eq(budp_send(s4, &d, 1), 1);
    n = recv_copies(s6, g, 1, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_mem_eq(g[0].data, "four-to-six", 11);
    ck_assert_msg(same_v4_peer(&g[0].peer, &a4), "[%s] peer family %u port %u",
                  describe(i), g[0].peer.family, g[0].peer.port);
    /* And the reported peer, as given, is a destination that works. */
    d = tu_datagram((const uint8_t *)"reply", 5, &g[0].peer);
    ck_assert_int_eq(budp_send(s6, &d, 1), 1);
    got_free(g, n);
    n = recv_copies(s4, g, 1, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_mem_eq(g[0].data, "reply", 5);
    got_free(g, n);

    /* budp_connect of the IPv6 socket to an IPv4 peer. */
    ck_assert_int_eq(budp_connect(s6, "127.0.0.1", a4.port), 0);
    d = tu_datagram((const uint8_t *)"connected", 9, NULL);
    ck_assert_int_eq(budp_send(s6, &d, 1), 1);
    n = recv_copies(s4, g, 1, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_mem_eq(g[0].data, "connected", 9);
    got_free(g, n);
    budp_close(s6);
    budp_close(s4);
}
END_TEST

static Suite *send_errors_suite(void)
{
    Suite *s = suite_create("send_errors");
    int combos = combos_here();
    TCase *tc;

    tc = tcase_create("partial_send");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, partial_send_kernel_refusal, 0, combos);
    tcase_add_loop_test(tc, partial_send_malformed, 0, combos);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors_connect");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, icmp_refused_once, 0, combos);
    tcase_add_loop_test(tc, icmp_refused_dispatch, 0, combos);
    tcase_add_loop_test(tc, icmp_error_with_data, 0, combos);
    tcase_add_loop_test(tc, connected_unspec_peer, 0, combos);
    suite_add_tcase(s, tc);

    tc = tcase_create("dual_stack");
    tcase_set_timeout(tc, 60);
    /* IPv4 combinations only. */
    for (int i = 0; i < combos; i++)
        if (combo_of(i).family == BUDP_AF_INET)
            tcase_add_loop_test(tc, v4_peer_on_v6_socket, i, i + 1);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(send_errors_suite());
}
