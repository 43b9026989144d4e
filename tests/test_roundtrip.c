/* test_roundtrip.c - datagrams sent and received through every backend
 * (mmsg, loop; msgx has its own suite), IPv4 and IPv6 loopback, GRO and GSO
 * on and off: contents, lengths, sources, order, bursts past the batch size,
 * empty datagrams, truncation, the packed receive, dispatch, partial sends,
 * counters, ICMP-borne errors, connected sockets, IPv4 peers of an IPv6
 * socket. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "batchudp.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Combinations: loop index -> backend, family, GRO, GSO               */
/* ------------------------------------------------------------------ */

#define NCOMBOS 16

struct combo {
    int backend;
    const char *backend_name;
    const char *host;
    int family;
    int gro, gso;
};

static struct combo combo_of(int i)
{
    struct combo c;

    c.backend = (i & 1) ? BUDP_BACKEND_LOOP : BUDP_BACKEND_MMSG;
    c.backend_name = (i & 1) ? "loop" : "mmsg";
    c.host = (i & 2) ? "::1" : "127.0.0.1";
    c.family = (i & 2) ? BUDP_AF_INET6 : BUDP_AF_INET;
    c.gro = (i >> 2) & 1;
    c.gso = (i >> 3) & 1;
    return c;
}

static char combo_text[NCOMBOS][64];

static const char *describe(int i)
{
    struct combo c = combo_of(i);

    snprintf(combo_text[i], sizeof combo_text[i], "%s %s gro=%d gso=%d",
             c.backend_name, c.host, c.gro, c.gso);
    return combo_text[i];
}

/* Open a socket for combination i on host (NULL: the combination's), with
 * extra key/value pairs (ending with key 0). */
static budp_socket *open_combo(int i, const char *host, int key, int64_t value,
                               int key2, int64_t value2)
{
    struct combo c = combo_of(i);
    budp_options *o = NULL;
    budp_socket *s = NULL;
    int rc;

    ck_assert_int_eq(budp_options_new(&o), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_BACKEND, c.backend), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_GRO, c.gro), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_GSO, c.gso), 0);
    /* Room for a test's whole burst where the system allows it; the tests
     * send in chunks that fit what was granted (see chunk_for). */
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RECV_BUFFER, 4 << 20), 0);
    if (key != 0)
        ck_assert_int_eq(budp_options_set(o, key, value), 0);
    if (key2 != 0)
        ck_assert_int_eq(budp_options_set(o, key2, value2), 0);
    rc = budp_bind(&s, host != NULL ? host : c.host, 0, o);
    budp_options_free(o);
    ck_assert_msg(rc == 0, "[%s] budp_bind: %s", describe(i), budp_strerror(rc));
    ck_assert_str_eq(budp_backend_name(s), c.backend_name);
    return s;
}

static budp_socket *open_plain(int i)
{
    return open_combo(i, NULL, 0, 0, 0, 0);
}

/* A received datagram, copied out of the library's views. */
struct got {
    uint8_t *data;
    uint32_t len;
    uint32_t flags;
    budp_addr peer;
};

static void got_free(struct got *g, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(g[i].data);
}

static void copy_view(struct got *g, const budp_datagram *v)
{
    g->len = v->len;
    g->flags = v->flags;
    g->peer = v->peer;
    g->data = malloc(v->len ? v->len : 1);
    ck_assert_ptr_nonnull(g->data);
    if (v->len)
        memcpy(g->data, v->data, v->len);
}

/* Receive until count datagrams arrived or timeout_ms passes without any. */
static unsigned recv_copies(budp_socket *rx, struct got *g, unsigned count,
                            int timeout_ms)
{
    unsigned got = 0;

    while (got < count) {
        const budp_datagram *v;
        int n = budp_recv(rx, &v, count - got < 64 ? count - got : 64);

        ck_assert_msg(n >= 0, "budp_recv: %s", budp_strerror(n));
        if (n == 0) {
            int w = budp_wait(rx, timeout_ms);
            ck_assert_int_ge(w, 0);
            if (w == 0)
                break;
            continue;
        }
        for (int k = 0; k < n; k++)
            copy_view(&g[got + (unsigned)k], &v[k]);
        got += (unsigned)n;
    }
    return got;
}

/* Send all of d[0..n), retrying on EAGAIN/ENOBUFS and partial sends. */
static void send_all(budp_socket *tx, const budp_datagram *d, unsigned n)
{
    unsigned sent = 0;
    unsigned spins = 0;

    while (sent < n) {
        int rc = budp_send(tx, d + sent, n - sent);
        if (rc == -EAGAIN || rc == -ENOBUFS) {
            ck_assert_uint_lt(++spins, 100000);
            (void)budp_wait(tx, 1);
            continue;
        }
        ck_assert_msg(rc > 0, "budp_send: %s", budp_strerror(rc));
        sent += (unsigned)rc;
    }
}

/* How many datagrams of up to size bytes rx's receive buffer holds for
 * sure (the kernel charges a buffer's true size, a few kilobytes for a
 * small datagram), at least 8. */
static unsigned chunk_for(budp_socket *rx, size_t size)
{
    int rcvbuf = 0;
    socklen_t len = sizeof rcvbuf;
    size_t per = size + 4096;
    unsigned chunk;

    ck_assert_int_eq(getsockopt(budp_socket_fd(rx), SOL_SOCKET, SO_RCVBUF,
                                &rcvbuf, &len), 0);
    chunk = (unsigned)((size_t)rcvbuf / 2 / per);
    return chunk < 8 ? 8 : chunk;
}

/* Send d[0..n) from tx and receive them all on rx into g, a chunk at a
 * time so that the receive buffer never overflows.  Returns the number
 * received. */
static unsigned exchange(budp_socket *tx, budp_socket *rx, const budp_datagram *d,
                         unsigned n, struct got *g, size_t max_size)
{
    unsigned chunk = chunk_for(rx, max_size), done = 0;

    while (done < n) {
        unsigned k = n - done < chunk ? n - done : chunk;
        unsigned got;

        send_all(tx, d + done, k);
        got = recv_copies(rx, g + done, k, 5000);
        done += got;
        if (got < k)
            break;
    }
    return done;
}

static void assert_peer(const budp_addr *got, const budp_addr *want, const char *ctx)
{
    char a[64] = "?", b[64] = "?";

    if (memcmp(got, want, sizeof *got) == 0)
        return;
    (void)budp_addr_to_string(got, a, sizeof a);
    (void)budp_addr_to_string(want, b, sizeof b);
    ck_abort_msg("[%s] peer %s port %u family %u, expected %s port %u family %u",
                 ctx, a, got->port, got->family, b, want->port, want->family);
}

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

static void order_cb(void *user, const budp_datagram *d, unsigned n)
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
static void count_cb(void *user, const budp_datagram *d, unsigned n)
{
    (void)d;
    *(unsigned *)user += n;
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

/* ------------------------------------------------------------------ */

static Suite *roundtrip_suite(void)
{
    Suite *s = suite_create("roundtrip");
    TCase *tc;

    tc = tcase_create("data");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, mixed_sizes, 0, NCOMBOS);
    tcase_add_loop_test(tc, burst_past_batch, 0, NCOMBOS);
    tcase_add_loop_test(tc, recv_respects_max, 0, NCOMBOS);
    tcase_add_loop_test(tc, zero_length, 0, NCOMBOS);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncation");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, truncation, 0, NCOMBOS);
    tcase_add_loop_test(tc, truncation_runs, 0, NCOMBOS);
    tcase_add_loop_test(tc, recv_packed_truncated, 0, NCOMBOS);
    suite_add_tcase(s, tc);

    tc = tcase_create("packed_dispatch");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, recv_packed, 0, NCOMBOS);
    tcase_add_loop_test(tc, dispatch_in_order, 0, NCOMBOS);
    suite_add_tcase(s, tc);

    tc = tcase_create("partial_send");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, partial_send_kernel_refusal, 0, NCOMBOS);
    tcase_add_loop_test(tc, partial_send_malformed, 0, NCOMBOS);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors_connect");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, icmp_refused_once, 0, NCOMBOS);
    tcase_add_loop_test(tc, icmp_refused_dispatch, 0, NCOMBOS);
    tcase_add_loop_test(tc, icmp_error_with_data, 0, NCOMBOS);
    tcase_add_loop_test(tc, connected_unspec_peer, 0, NCOMBOS);
    suite_add_tcase(s, tc);

    tc = tcase_create("dual_stack");
    tcase_set_timeout(tc, 60);
    /* IPv4 combinations only (family bit 2 clear). */
    for (int i = 0; i < NCOMBOS; i++)
        if (!(i & 2))
            tcase_add_loop_test(tc, v4_peer_on_v6_socket, i, i + 1);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(roundtrip_suite());
}
