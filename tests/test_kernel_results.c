/* test_kernel_results.c - results no healthy kernel gives, crafted by the
 * fault shim: the library must neither overflow nor pass them on as
 * trustworthy.  Counts above what was asked, control messages cut short
 * (as Linux cuts them when control space runs out), GRO segment sizes that
 * cannot be; and truncation reported without MSG_TRUNC, as recent XNU
 * reports it, on each backend that reads with recvmsg or recvmmsg. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "faults/fault_shim.h"
#include "testutil.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

enum { BATCH = 4, SIZE = 1000 };

/* A plain sender: no GSO, so every datagram arrives on its own. */
static budp_socket *plain_sender(const char *host)
{
    budp_options *o = tu_options(BUDP_OPT_GSO, (int64_t)0, 0);
    budp_socket *s = tu_bind(host, o);

    budp_options_free(o);
    return s;
}

/* A receiver on host, batch BATCH, with GRO, PKTINFO and ECN as given, the
 * fault shim aimed at its fd. */
static budp_socket *receiver(const char *host, int gro, int pktinfo, int ecn)
{
    budp_options *o = tu_options(BUDP_OPT_BACKEND, (int64_t)BUDP_BACKEND_MMSG,
                                 BUDP_OPT_BATCH_SIZE, (int64_t)BATCH,
                                 BUDP_OPT_GRO, (int64_t)gro,
                                 BUDP_OPT_PKTINFO, (int64_t)pktinfo,
                                 BUDP_OPT_ECN, (int64_t)ecn, 0);
    budp_socket *s = tu_bind(host, o);

    budp_options_free(o);
    fault_reset();
    fault_target_fd(budp_socket_fd(s));
    return s;
}

/* Send n datagrams of SIZE bytes from tx to rx and wait until they are
 * queued at rx. */
static void send_n(budp_socket *tx, budp_socket *rx, unsigned n)
{
    budp_addr dest = tu_local(rx);

    tu_send_seq(tx, &dest, 1, 0, n, SIZE, n);
    ck_assert_int_eq(budp_wait(rx, 2000), 1);
    tu_sleep_ms(20); /* all n queued, so one receive sees them together */
}

/* Receive what is there in one call, with the views checked to be the
 * datagrams sent (in order from seq 0) wherever they are whole. */
static int recv_all(budp_socket *rx, const budp_datagram **v)
{
    int n = budp_recv(rx, v, 1024);

    ck_assert_msg(n >= 0, "budp_recv: %s", budp_strerror(n));
    return n;
}

static void check_payload(const budp_datagram *d, uint32_t want_seq)
{
    uint32_t sender, seq;

    ck_assert_uint_eq(d->len, SIZE);
    ck_assert_msg(tu_payload_check(d->data, d->len, &sender, &seq),
                  "payload corrupted");
    ck_assert_uint_eq(seq, want_seq);
}

START_TEST(recv_count_above_asked)
{
    budp_socket *rx = receiver("127.0.0.1", 0, 0, 0);
    budp_socket *tx = plain_sender("127.0.0.1");
    const budp_datagram *v;
    int n;

    send_n(tx, rx, BATCH);
    fault_recv_count_extra(1000);
    n = recv_all(rx, &v);
    ck_assert_int_eq(n, BATCH);
    for (int i = 0; i < n; i++)
        check_payload(&v[i], (uint32_t)i);
    ck_assert_uint_eq(tu_stats(rx).kernel_anomalies, 1);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, BATCH);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

START_TEST(send_count_above_given)
{
    budp_socket *rx = receiver("127.0.0.1", 0, 0, 0);
    budp_socket *tx = plain_sender("127.0.0.1");
    budp_addr dest = tu_local(rx);
    uint8_t payload[3][SIZE];
    budp_datagram d[3];
    const budp_datagram *v;
    int got = 0;

    for (unsigned i = 0; i < 3; i++) {
        tu_payload_fill(payload[i], SIZE, 1, i);
        d[i] = tu_datagram(payload[i], SIZE, &dest);
    }
    fault_target_fd(budp_socket_fd(tx));
    fault_send_count_extra(50);
    ck_assert_int_eq(budp_send(tx, d, 3), 3);
    ck_assert_uint_eq(tu_stats(tx).tx_datagrams, 3);
    ck_assert_uint_eq(tu_stats(tx).kernel_anomalies, 1);
    while (got < 3 && budp_wait(rx, 2000) == 1) {
        int n = recv_all(rx, &v);
        for (int i = 0; i < n; i++)
            check_payload(&v[i], (uint32_t)(got + i));
        got += n;
    }
    ck_assert_int_eq(got, 3);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* What one 1000-byte datagram becomes when the kernel claims a GRO
 * segment size: views, whether flagged truncated, anomalies counted. */
static const struct gro_case {
    int segment;
    int views;
    int truncated;
    int anomalies;
} gro_cases[] = {
    { 100, 10, 0, 0 },   /* ten segments: a real split */
    { 1000, 1, 0, 0 },   /* one segment of the whole length */
    { 1001, 1, 0, 1 },   /* above the length: one datagram */
    { 65535, 1, 0, 1 },
    { 0, 1, 1, 1 },      /* no kernel coalesces at 0 */
    { -5, 1, 1, 1 },
    { 1, 1, 1, 1 },      /* 1000 segments: never 1000 views */
    { 15, 1, 1, 1 },     /* 67 segments, over the kernel's 64 */
    { 16, 63, 0, 0 },    /* 63 segments: a kernel can */
};

START_TEST(gro_segment_sizes)
{
#ifdef UDP_GRO
    const struct gro_case *c = &gro_cases[_i];
    budp_socket *rx = receiver("127.0.0.1", 1, 0, 0);
    budp_socket *tx = plain_sender("127.0.0.1");
    const budp_datagram *v;
    uint32_t total = 0;
    int n;

    send_n(tx, rx, 1);
    fault_recv_gro_segment(c->segment);
    n = recv_all(rx, &v);
    ck_assert_msg(n == c->views, "segment %d: %d views, want %d", c->segment, n,
                  c->views);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(!!(v[i].flags & BUDP_DGRAM_TRUNCATED) == c->truncated,
                      "segment %d: view %d flags %#x", c->segment, i, v[i].flags);
        ck_assert_msg(!!(v[i].flags & BUDP_DGRAM_COALESCED) == (c->views > 1),
                      "segment %d: view %d flags %#x", c->segment, i, v[i].flags);
        total += v[i].len;
    }
    if (c->views == 1 && !c->truncated)
        check_payload(&v[0], 0);
    ck_assert_uint_eq(total, SIZE);
    ck_assert_uint_eq(tu_stats(rx).kernel_anomalies, (uint64_t)c->anomalies);
    budp_close(tx);
    budp_close(rx);
#else
    fprintf(stderr, "gro_segment_sizes: skipped: no UDP_GRO here\n");
#endif
}
END_TEST

/* A control message cut short: its partial value is never used. */
static const struct short_case {
    const char *host;
    int gro, pktinfo, ecn;
    int level, type;
    size_t kept;      /* bytes of value the shim leaves (fewer than needed) */
    int truncated;    /* the datagram is flagged TRUNCATED as well */
} short_cases[] = {
    { "127.0.0.1", 0, 1, 0, IPPROTO_IP, IP_PKTINFO, 8, 0 },
    { "::1", 0, 1, 0, IPPROTO_IPV6, IPV6_PKTINFO, 16, 0 },
    { "127.0.0.1", 0, 0, 1, IPPROTO_IP, IP_TOS, 0, 0 },
    { "::1", 0, 0, 1, IPPROTO_IPV6, IPV6_TCLASS, 0, 0 },
#ifdef UDP_GRO
    /* A lost segment size: the slot may hold several datagrams. */
    { "127.0.0.1", 1, 0, 0, SOL_UDP, UDP_GRO, 0, 1 },
    { "::1", 1, 1, 1, IPPROTO_IPV6, IPV6_PKTINFO, 0, 1 },
#endif
};

START_TEST(short_control_messages)
{
    const struct short_case *c = &short_cases[_i];
    budp_socket *rx = receiver(c->host, c->gro, c->pktinfo, c->ecn);
    budp_socket *tx = plain_sender(c->host);
    const budp_datagram *v;
    budp_stats st;
    int n;

    /* A full batch: the last message's control buffer is the last bytes
     * of the library's scratch, where a read past a short message leaves
     * the allocation (and ASan sees it). */
    send_n(tx, rx, BATCH);
    fault_recv_short_cmsg(c->level, c->type, c->kept);
    n = recv_all(rx, &v);
    ck_assert_int_eq(n, BATCH);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(v[i].flags & BUDP_DGRAM_CONTROL_TRUNCATED,
                      "case %d view %d: flags %#x", _i, i, v[i].flags);
        ck_assert_msg(!(v[i].flags & (BUDP_DGRAM_HAS_LOCAL | BUDP_DGRAM_HAS_ECN |
                                      BUDP_DGRAM_COALESCED)),
                      "case %d view %d: a partial value was used (flags %#x)",
                      _i, i, v[i].flags);
        ck_assert_int_eq(!!(v[i].flags & BUDP_DGRAM_TRUNCATED), c->truncated);
        ck_assert_uint_eq(v[i].segment_size, 0);
        if (!c->truncated)
            check_payload(&v[i], (uint32_t)i);
    }
    st = tu_stats(rx);
    ck_assert_uint_eq(st.rx_control_truncated, BATCH);
    ck_assert_uint_eq(st.rx_truncated, c->truncated ? BATCH : 0);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* A datagram cut without MSG_TRUNC (XNU's recvmsg_x does so; here the
 * flag is taken off what recvmmsg or recvmsg returned): a slot one byte
 * larger than the largest datagram accepted shows the cut anyway.  _i 0:
 * mmsg, 1: loop. */
START_TEST(truncation_without_msg_trunc)
{
    int backend = _i ? BUDP_BACKEND_LOOP : BUDP_BACKEND_MMSG;
    enum fault_call call = _i ? FAULT_RECVMSG : FAULT_RECVMMSG;
    struct fault_spec hide = { .every = 1, .count = -1, .craft = CRAFT_HIDE_TRUNC };
    budp_options *o = tu_options(BUDP_OPT_BACKEND, (int64_t)backend,
                                 BUDP_OPT_MAX_DATAGRAM, (int64_t)100,
                                 BUDP_OPT_GRO, (int64_t)0, 0);
    budp_socket *rx = tu_bind("127.0.0.1", o);
    budp_socket *tx = plain_sender("127.0.0.1");

    budp_options_free(o);
    fault_reset();
    fault_target_fd(budp_socket_fd(rx));
    fault_rule(call, &hide);
    tu_truncation_round(tx, rx);
    ck_assert_uint_gt(fault_injected(call), 0);
    budp_close(tx);
    budp_close(rx);
}
END_TEST

static Suite *kernel_results_suite(void)
{
    Suite *s = suite_create("kernel_results");
    TCase *tc = tcase_create("crafted");

    tcase_set_timeout(tc, 60);
    /* No fault outlives its test (CK_FORK=no runs them in one process). */
    tcase_add_checked_fixture(tc, fault_reset, fault_reset);
    tcase_add_test(tc, recv_count_above_asked);
    tcase_add_test(tc, send_count_above_given);
    tcase_add_loop_test(tc, gro_segment_sizes, 0,
                        (int)(sizeof gro_cases / sizeof gro_cases[0]));
    tcase_add_loop_test(tc, short_control_messages, 0,
                        (int)(sizeof short_cases / sizeof short_cases[0]));
    tcase_add_loop_test(tc, truncation_without_msg_trunc, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(kernel_results_suite());
}
