/* test_roundtrip.c - datagrams sent and received through every backend
 * (mmsg, loop; msgx has its own suite), IPv4 and IPv6 loopback, GRO and GSO
 * on and off: contents, lengths, sources, order, bursts past the batch size,
 * empty datagrams, truncation, the packed receive, dispatch, counters. */
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
/* Contents, lengths, sources, order; counters                         */
/* ------------------------------------------------------------------ */

/* Lengths chosen to mix runs of equal sizes (GSO/GRO material) with odd
 * ones, short ones (under the 8-byte header of the payload) and a full
 * default slot. */
static uint32_t mixed_len(unsigned k)
{
    static const uint32_t lens[] = { 1, 7, 8, 9, 100, 100, 100, 100, 99, 1400,
                                     1400, 1400, 1400, 1400, 700, 2048, 2048,
                                     2047, 3, 64 };
    return lens[k % (sizeof lens / sizeof lens[0])];
}

START_TEST(mixed_sizes)
{
    int i = _i;
    budp_socket *rx = open_plain(i), *tx = open_plain(i);
    budp_addr dest = tu_local(rx), src = tu_local(tx);
    enum { N = 200 };
    static uint8_t bufs[N][2048];
    budp_datagram d[N];
    struct got g[N];
    uint64_t bytes = 0;
    budp_stats rs, ts;
    unsigned n;

    ck_assert_uint_eq(dest.family, combo_of(i).family);
    for (unsigned k = 0; k < N; k++) {
        uint32_t len = mixed_len(k);
        tu_payload_fill(bufs[k], len, 3, k);
        /* Short payloads carry the sequence number in their first byte. */
        if (len < 8)
            bufs[k][0] = (uint8_t)k;
        d[k] = tu_datagram(bufs[k], len, &dest);
        bytes += len;
    }
    n = exchange(tx, rx, d, N, g, 2048);
    ck_assert_msg(n == N, "[%s] received %u of %u (kernel drops %llu)", describe(i),
                  n, N, (unsigned long long)tu_stats(rx).rx_kernel_drops);
    for (unsigned k = 0; k < N; k++) {
        ck_assert_msg(g[k].len == d[k].len, "[%s] #%u: len %u, sent %u",
                      describe(i), k, g[k].len, d[k].len);
        ck_assert_msg(memcmp(g[k].data, bufs[k], g[k].len) == 0,
                      "[%s] #%u: contents differ (order or corruption)", describe(i), k);
        ck_assert_uint_eq(g[k].flags & BUDP_DGRAM_TRUNCATED, 0);
        assert_peer(&g[k].peer, &src, describe(i));
    }
    rs = tu_stats(rx);
    ts = tu_stats(tx);
    ck_assert_uint_eq(ts.tx_datagrams, N);
    ck_assert_uint_eq(ts.tx_bytes, bytes);
    ck_assert_uint_ge(ts.tx_syscalls, 1);
    ck_assert_uint_le(ts.tx_syscalls, N);
    ck_assert_uint_eq(ts.tx_errors, 0);
    ck_assert_uint_eq(rs.rx_datagrams, N);
    ck_assert_uint_eq(rs.rx_bytes, bytes);
    ck_assert_uint_ge(rs.rx_syscalls, 1);
    ck_assert_uint_le(rs.rx_syscalls, N);
    ck_assert_uint_eq(rs.rx_truncated, 0);
    ck_assert_uint_eq(rs.rx_kernel_drops, 0);
    ck_assert_uint_eq(rs.rx_errors, 0);
    ck_assert_uint_eq(rs.rx_dropped, 0);
    /* Offload counters move only where the offload is on. */
    if (!combo_of(i).gro || combo_of(i).backend == BUDP_BACKEND_LOOP)
        ck_assert_uint_eq(rs.rx_coalesced, 0);
    if (!combo_of(i).gso || combo_of(i).backend == BUDP_BACKEND_LOOP)
        ck_assert_uint_eq(ts.tx_coalesced, 0);
    /* Nothing was received by the sender, nothing sent by the receiver. */
    ck_assert_uint_eq(ts.rx_datagrams, 0);
    ck_assert_uint_eq(rs.tx_datagrams, 0);
    got_free(g, n);
    budp_close(rx);
    budp_close(tx);
    /* recvmsg/sendmsg carry one datagram per call: the loop backend makes
     * one system call per datagram each way. */
    if (combo_of(i).backend == BUDP_BACKEND_LOOP) {
        ck_assert_msg(ts.tx_syscalls == N, "[%s] tx_syscalls %llu for %u sendmsg calls",
                      describe(i), (unsigned long long)ts.tx_syscalls, N);
        ck_assert_msg(rs.rx_syscalls == N, "[%s] rx_syscalls %llu for %u recvmsg calls",
                      describe(i), (unsigned long long)rs.rx_syscalls, N);
    }
}
END_TEST

/* Bursts much larger than the batch size, in chunks that fit the receive
 * buffer the system granted. */
START_TEST(burst_past_batch)
{
    int i = _i;
    budp_socket *rx = open_combo(i, NULL, BUDP_OPT_BATCH_SIZE, 8,
                                 BUDP_OPT_RECV_BUFFER, 4 << 20);
    budp_socket *tx = open_combo(i, NULL, BUDP_OPT_BATCH_SIZE, 8, 0, 0);
    budp_addr dest = tu_local(rx);
    unsigned total = 1000, chunk = chunk_for(rx, 200), done = 0;
    budp_stats rs, ts;

    /* Each chunk is still far larger than the batch. */
    if (chunk < 32)
        chunk = 32;
    while (done < total) {
        unsigned n = total - done < chunk ? total - done : chunk;
        unsigned got;

        tu_send_seq(tx, &dest, 0, done, n, 200, 64);
        /* tu_recv_seq checks order from sequence 0 per call, so check the
         * chunk's sequence numbers here. */
        {
            struct got *g = calloc(n, sizeof *g);
            ck_assert_ptr_nonnull(g);
            got = recv_copies(rx, g, n, 5000);
            ck_assert_msg(got == n, "[%s] chunk at %u: received %u of %u",
                          describe(i), done, got, n);
            for (unsigned k = 0; k < n; k++) {
                uint32_t sender = 99, seq = 0;
                ck_assert_uint_eq(g[k].len, 200);
                ck_assert(tu_payload_check(g[k].data, g[k].len, &sender, &seq));
                ck_assert_uint_eq(sender, 0);
                ck_assert_msg(seq == done + k, "[%s] seq %u, expected %u",
                              describe(i), seq, done + k);
            }
            got_free(g, n);
            free(g);
        }
        done += n;
    }
    rs = tu_stats(rx);
    ts = tu_stats(tx);
    ck_assert_uint_eq(ts.tx_datagrams, total);
    ck_assert_uint_eq(ts.tx_bytes, (uint64_t)total * 200);
    ck_assert_uint_eq(rs.rx_datagrams, total);
    ck_assert_uint_eq(rs.rx_bytes, (uint64_t)total * 200);
    ck_assert_uint_eq(rs.rx_kernel_drops, 0);
    /* Batches of at most 8 datagrams per receive call; GRO may pack more
     * into one receive, so only bound it without GRO. */
    if (!combo_of(i).gro || combo_of(i).backend == BUDP_BACKEND_LOOP)
        ck_assert_uint_ge(rs.rx_syscalls, total / 8);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* budp_recv never returns more than max views, nor more than asked. */
START_TEST(recv_respects_max)
{
    int i = _i;
    budp_socket *rx = open_combo(i, NULL, BUDP_OPT_BATCH_SIZE, 16, 0, 0);
    budp_socket *tx = open_plain(i);
    budp_addr dest = tu_local(rx);
    unsigned got = 0;
    uint32_t next = 0;

    tu_send_seq(tx, &dest, 1, 0, 40, 300, 32);
    while (got < 40) {
        const budp_datagram *v;
        unsigned max = 1 + got % 5;
        int n = budp_recv(rx, &v, max);

        ck_assert_int_ge(n, 0);
        ck_assert_uint_le((unsigned)n, max);
        if (n == 0) {
            ck_assert_msg(budp_wait(rx, 5000) == 1, "[%s] %u of 40", describe(i), got);
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
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Empty datagrams                                                     */
/* ------------------------------------------------------------------ */

START_TEST(zero_length)
{
    int i = _i;
    budp_socket *rx = open_plain(i), *tx = open_plain(i);
    budp_addr dest = tu_local(rx), src = tu_local(tx);
    static const uint8_t one[1] = { 0x42 };
    uint8_t five[5] = { 1, 2, 3, 4, 5 };
    budp_datagram d[8];
    struct got g[8];
    unsigned n;
    budp_stats rs;

    /* Empty ones alone, in a run, between non-empty ones, data NULL too. */
    d[0] = tu_datagram(NULL, 0, &dest);
    d[1] = tu_datagram(one, 0, &dest);
    d[2] = tu_datagram(one, 1, &dest);
    d[3] = tu_datagram(NULL, 0, &dest);
    d[4] = tu_datagram(five, 5, &dest);
    d[5] = tu_datagram(five, 5, &dest);
    d[6] = tu_datagram(NULL, 0, &dest);
    d[7] = tu_datagram(five, 0, &dest);
    send_all(tx, d, 8);
    n = recv_copies(rx, g, 8, 5000);
    ck_assert_msg(n == 8, "[%s] received %u of 8", describe(i), n);
    for (unsigned k = 0; k < 8; k++) {
        ck_assert_msg(g[k].len == d[k].len, "[%s] #%u len %u, sent %u",
                      describe(i), k, g[k].len, d[k].len);
        ck_assert_uint_eq(g[k].flags & BUDP_DGRAM_TRUNCATED, 0);
        assert_peer(&g[k].peer, &src, describe(i));
        if (g[k].len)
            ck_assert_mem_eq(g[k].data, d[k].data, g[k].len);
    }
    rs = tu_stats(rx);
    ck_assert_uint_eq(rs.rx_datagrams, 8);
    ck_assert_uint_eq(rs.rx_bytes, 11);
    got_free(g, n);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Truncation                                                          */
/* ------------------------------------------------------------------ */

START_TEST(truncation)
{
    int i = _i;
    budp_socket *rx = open_combo(i, NULL, BUDP_OPT_MAX_DATAGRAM, 100, 0, 0);
    budp_socket *tx = open_plain(i);
    budp_addr dest = tu_local(rx), src = tu_local(tx);
    static const uint32_t lens[] = { 101, 200, 1000, 100, 99, 0, 65000, 100, 101 };
    enum { N = sizeof lens / sizeof lens[0] };
    static uint8_t bufs[N][65000];
    budp_datagram d[N];
    struct got g[N];
    unsigned n, want_trunc = 0;
    budp_stats rs;

    for (unsigned k = 0; k < N; k++) {
        tu_payload_fill(bufs[k], lens[k], 4, k);
        d[k] = tu_datagram(bufs[k], lens[k], &dest);
        if (lens[k] > 100)
            want_trunc++;
    }
    n = exchange(tx, rx, d, N, g, 65000);
    ck_assert_msg(n == N, "[%s] received %u of %u", describe(i), n, (unsigned)N);
    for (unsigned k = 0; k < N; k++) {
        uint32_t want = lens[k] > 100 ? 100 : lens[k];
        ck_assert_msg(g[k].len == want, "[%s] #%u (%u bytes): len %u", describe(i),
                      k, lens[k], g[k].len);
        ck_assert_mem_eq(g[k].data, bufs[k], want);
        if (lens[k] > 100)
            ck_assert_msg(g[k].flags & BUDP_DGRAM_TRUNCATED,
                          "[%s] #%u (%u bytes) not flagged", describe(i), k, lens[k]);
        else
            ck_assert_msg(!(g[k].flags & BUDP_DGRAM_TRUNCATED),
                          "[%s] #%u (%u bytes) flagged", describe(i), k, lens[k]);
        assert_peer(&g[k].peer, &src, describe(i));
    }
    rs = tu_stats(rx);
    ck_assert_uint_eq(rs.rx_truncated, want_trunc);
    ck_assert_uint_eq(rs.rx_datagrams, N);
    got_free(g, n);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* Runs of equal oversized datagrams: with GSO and GRO on they travel
 * coalesced, and every segment must still be clipped and flagged. */
START_TEST(truncation_runs)
{
    int i = _i;
    budp_socket *rx = open_combo(i, NULL, BUDP_OPT_MAX_DATAGRAM, 100, 0, 0);
    budp_socket *tx = open_plain(i);
    budp_addr dest = tu_local(rx);
    enum { N = 40 };
    static uint8_t bufs[N][300];
    budp_datagram d[N];
    struct got g[N];
    unsigned n;

    for (unsigned k = 0; k < N; k++) {
        tu_payload_fill(bufs[k], 300, 5, k);
        d[k] = tu_datagram(bufs[k], 300, &dest);
    }
    n = exchange(tx, rx, d, N, g, 300);
    ck_assert_msg(n == N, "[%s] received %u of %u", describe(i), n, (unsigned)N);
    for (unsigned k = 0; k < N; k++) {
        ck_assert_uint_eq(g[k].len, 100);
        ck_assert(g[k].flags & BUDP_DGRAM_TRUNCATED);
        ck_assert_mem_eq(g[k].data, bufs[k], 100);
    }
    ck_assert_uint_eq(tu_stats(rx).rx_truncated, N);
    ck_assert_uint_eq(tu_stats(rx).rx_bytes, N * 100);
    got_free(g, n);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* budp_recv_packed                                                    */
/* ------------------------------------------------------------------ */

static void wait_readable(budp_socket *rx)
{
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
}

START_TEST(recv_packed)
{
    int i = _i;
    budp_socket *rx = open_plain(i), *tx = open_plain(i);
    budp_addr dest = tu_local(rx), src = tu_local(tx);
    uint8_t p[5][120], buf[512];
    uint32_t lens[8], flags[8];
    budp_addr peers[8];
    budp_datagram d[5];
    static const uint32_t sizes[5] = { 50, 60, 70, 100, 20 };
    unsigned have = 0;
    int n;
    budp_stats rs;

    for (unsigned k = 0; k < 5; k++) {
        tu_payload_fill(p[k], sizes[k], 6, k);
        d[k] = tu_datagram(p[k], sizes[k], &dest);
    }
    /* Three that fit exactly: 50 + 60 + 70 = 180.  One call may see fewer
     * if they arrive across calls; collect until three. */
    send_all(tx, d, 3);
    while (have < 3) {
        size_t room = 0;

        /* Exactly the bytes still to come. */
        for (unsigned k = have; k < 3; k++)
            room += sizes[k];
        memset(lens, 0, sizeof lens);
        n = budp_recv_packed(rx, buf, room, lens, flags, peers, 8);
        ck_assert_int_ge(n, 0);
        if (n == 0) {
            wait_readable(rx);
            continue;
        }
        for (int k = 0; k < n; k++) {
            unsigned idx = have + (unsigned)k;
            size_t off = 0;
            for (int j = 0; j < k; j++)
                off += lens[j];
            ck_assert_uint_eq(lens[k], sizes[idx]);
            ck_assert_mem_eq(buf + off, p[idx], sizes[idx]);
            ck_assert_uint_eq(flags[k], 0);
            assert_peer(&peers[k], &src, describe(i));
        }
        have += (unsigned)n;
    }
    ck_assert_uint_eq(have, 3);

    /* 100 bytes into a 99-byte buffer: -EMSGSIZE, and it stays queued. */
    send_all(tx, &d[3], 1);
    wait_readable(rx);
    n = budp_recv_packed(rx, buf, 99, lens, NULL, NULL, 8);
    ck_assert_msg(n == -EMSGSIZE, "[%s] %d", describe(i), n);
    n = budp_recv_packed(rx, buf, 0, lens, NULL, NULL, 8);
    ck_assert_int_eq(n, -EMSGSIZE);
    /* peers and flags may be NULL. */
    n = budp_recv_packed(rx, buf, 100, lens, NULL, NULL, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(lens[0], 100);
    ck_assert_mem_eq(buf, p[3], 100);

    /* 100 then 20 into 110 bytes: one now, the other next time. */
    send_all(tx, &d[3], 2);
    have = 0;
    while (have < 2) {
        wait_readable(rx);
        n = budp_recv_packed(rx, buf, 110, lens, flags, NULL, 8);
        ck_assert_int_ge(n, 0);
        if (n == 0)
            continue;
        ck_assert_int_eq(n, 1);
        ck_assert_uint_eq(lens[0], sizes[3 + have]);
        ck_assert_mem_eq(buf, p[3 + have], lens[0]);
        have++;
    }
    /* Nothing left. */
    ck_assert_int_eq(budp_recv_packed(rx, buf, sizeof buf, lens, NULL, NULL, 8), 0);

    rs = tu_stats(rx);
    ck_assert_uint_eq(rs.rx_datagrams, 6);
    ck_assert_uint_eq(rs.rx_bytes, 50 + 60 + 70 + 100 + 100 + 20);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* Truncated datagrams through the packed receive: flagged, counted. */
START_TEST(recv_packed_truncated)
{
    int i = _i;
    budp_socket *rx = open_combo(i, NULL, BUDP_OPT_MAX_DATAGRAM, 64, 0, 0);
    budp_socket *tx = open_plain(i);
    budp_addr dest = tu_local(rx);
    uint8_t p[200], buf[256];
    uint32_t lens[4], flags[4];
    budp_datagram d = tu_datagram(p, sizeof p, &dest);
    int n;

    tu_payload_fill(p, sizeof p, 7, 0);
    send_all(tx, &d, 1);
    wait_readable(rx);
    n = budp_recv_packed(rx, buf, sizeof buf, lens, flags, NULL, 4);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(lens[0], 64);
    ck_assert(flags[0] & BUDP_DGRAM_TRUNCATED);
    ck_assert_mem_eq(buf, p, 64);
    ck_assert_uint_eq(tu_stats(rx).rx_truncated, 1);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* budp_dispatch                                                       */
/* ------------------------------------------------------------------ */

struct order {
    uint32_t next;
    unsigned calls;
    unsigned bad;
    unsigned max_batch;
    budp_addr src;
    unsigned bad_peer;
};

static int order_cb(void *user, const budp_datagram *d, unsigned n)
{
    struct order *o = user;

    o->calls++;
    if (n > o->max_batch)
        o->max_batch = n;
    for (unsigned k = 0; k < n; k++) {
        uint32_t sender, seq;
        if (!tu_payload_check(d[k].data, d[k].len, &sender, &seq) || seq != o->next)
            o->bad++;
        if (memcmp(&d[k].peer, &o->src, sizeof o->src) != 0)
            o->bad_peer++;
        o->next++;
    }
    return BUDP_CALLBACK_CONTINUE;
}

START_TEST(dispatch_in_order)
{
    int i = _i;
    budp_socket *rx = open_combo(i, NULL, BUDP_OPT_BATCH_SIZE, 16, 0, 0);
    budp_socket *tx = open_plain(i);
    budp_addr dest = tu_local(rx);
    struct order o;
    unsigned total = 0;

    memset(&o, 0, sizeof o);
    o.src = tu_local(tx);
    ck_assert_int_eq(budp_set_callback(rx, order_cb, &o), 0);
    while (total < 300) {
        unsigned chunk = chunk_for(rx, 500), target;

        if (chunk > 300 - total)
            chunk = 300 - total;
        target = total + chunk;
        tu_send_seq(tx, &dest, 2, total, chunk, 500, 64);
        while (total < target) {
            int n = budp_dispatch(rx, 10);
            ck_assert_int_ge(n, 0);
            ck_assert_int_le(n, 10);
            if (n == 0) {
                ck_assert_msg(budp_wait(rx, 5000) == 1, "[%s] %u of 300", describe(i),
                              total);
                continue;
            }
            total += (unsigned)n;
            ck_assert_uint_eq(o.next, total);
        }
    }
    ck_assert_uint_eq(o.bad, 0);
    ck_assert_uint_eq(o.bad_peer, 0);
    ck_assert_uint_le(o.max_batch, 10);
    ck_assert_uint_ge(o.calls, 30);
    ck_assert_uint_eq(tu_stats(rx).rx_datagrams, 300);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

static Suite *roundtrip_suite(void)
{
    Suite *s = suite_create("roundtrip");
    int combos = combos_here();
    TCase *tc;

    tc = tcase_create("data");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, mixed_sizes, 0, combos);
    tcase_add_loop_test(tc, burst_past_batch, 0, combos);
    tcase_add_loop_test(tc, recv_respects_max, 0, combos);
    tcase_add_loop_test(tc, zero_length, 0, combos);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncation");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, truncation, 0, combos);
    tcase_add_loop_test(tc, truncation_runs, 0, combos);
    tcase_add_loop_test(tc, recv_packed_truncated, 0, combos);
    suite_add_tcase(s, tc);

    tc = tcase_create("packed_dispatch");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, recv_packed, 0, combos);
    tcase_add_loop_test(tc, dispatch_in_order, 0, combos);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(roundtrip_suite());
}
