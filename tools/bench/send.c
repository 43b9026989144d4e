/* send.c - time the sending side alone.
 *
 * A sample sends --count datagrams to one loopback socket that has UDP GRO
 * on, in rounds: each round sends what fits in the receiver's queue, timed
 * (process CPU and wall time around the send calls only), then the
 * receiver is drained, untimed, and its datagrams counted and checked.  On
 * loopback the receiving kernel work (IP and UDP input, queueing to the
 * socket) runs in the sending thread's system calls, so it is part of the
 * time: it is also what GSO saves, one GSO packet crossing the stack once
 * for all its datagrams and reaching the GRO socket whole. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "gro_sink.h"
#include "net.h"
#include "tx.h"

#define IDLE_MS 200
/* Rounds fill at most this share of the receive buffer. */
#define FILL_NUM 1
#define FILL_DEN 2
/* Queue memory per datagram assumed before the first round measured it. */
#define FIRST_GUESS_OVERHEAD 2048u

/* The receiving socket: the bench's, wrapped by the library with GRO on. */
struct sink {
    int fd;
    struct sockaddr_in addr;
    size_t rcvbuf;
    struct gro_sink rx;
};

static int sink_open(struct sink *k, const struct bench_config *c,
                     struct run_info *info)
{
    int forced, err;

    memset(k, 0, sizeof *k);
    k->fd = net_receiver(c->rcvbuf, &k->addr, &forced, &k->rcvbuf);
    if (k->fd < 0) {
        snprintf(info->note, sizeof info->note, "receiver socket: %s",
                 budp_strerror(k->fd));
        return k->fd;
    }
    err = gro_sink_open(&k->rx, k->fd, c->size, info->note, sizeof info->note);
    if (err < 0) {
        close(k->fd);
        k->fd = -1;
    }
    return err;
}

static void sink_close(struct sink *k)
{
    gro_sink_close(&k->rx);
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
}

/* Datagrams for the next round: what fills FILL_NUM/FILL_DEN of the
 * receive buffer at per_dgram bytes each, in whole batches. */
static unsigned long round_size(const struct sink *k, unsigned batch,
                                double per_dgram, unsigned long left)
{
    double room = (double)k->rcvbuf * FILL_NUM / FILL_DEN;
    unsigned long n = (unsigned long)(room / per_dgram);

    n -= n % batch;
    if (n < batch)
        n = batch;
    return n < left ? n : left;
}

struct send_totals {
    uint64_t cpu_ns, wall_ns, sent, drops;
    unsigned rounds;
    double per_dgram;           /* most receive queue bytes per datagram
                                   seen in a round, 0 before the first */
};

static int send_round(struct tx *t, struct sink *k, unsigned long n,
                      struct send_totals *s, struct run_info *info)
{
    struct net_meminfo m0, m1;
    uint64_t cpu0, wall0, cpu1, wall1;
    int have, err;

    have = net_meminfo(k->fd, &m0) == 0;
    cpu0 = clock_cpu_ns();
    wall0 = clock_wall_ns();
    err = tx_send(t, n);
    wall1 = clock_wall_ns();
    cpu1 = clock_cpu_ns();
    if (err < 0) {
        snprintf(info->note, sizeof info->note, "send failed: %s", strerror(-err));
        return err;
    }
    s->cpu_ns += cpu1 - cpu0;
    s->wall_ns += wall1 - wall0;
    s->sent += n;
    s->rounds++;
    if (have && net_meminfo(k->fd, &m1) == 0) {
        double per = (double)(m1.rmem > m0.rmem ? m1.rmem - m0.rmem : 0) / (double)n;

        s->drops += m1.drops - m0.drops;
        if (per > s->per_dgram)
            s->per_dgram = per;
    }
    if ((err = gro_sink_drain(&k->rx, s->sent, IDLE_MS)) < 0)
        snprintf(info->note, sizeof info->note, "receive failed: %s",
                 budp_strerror(err));
    return err;
}

static void fill_sample(struct sample *out, const struct send_totals *s,
                        const struct sink *k, const struct tx_counters *tc)
{
    memset(out, 0, sizeof *out);
    gro_sink_account(&k->rx, s->sent, out);
    out->kernel_drops = s->drops;
    out->rounds = s->rounds;
    out->coalesced = tc->gso_sends;
    if (s->sent > 0) {
        out->cpu_ns = (double)s->cpu_ns / (double)s->sent;
        out->wall_ns = (double)s->wall_ns / (double)s->sent;
        out->rate = (double)s->sent * 1e9 / (double)(s->wall_ns ? s->wall_ns : 1);
    }
    if (out->cpu_ns > 0)
        out->cpu_rate = 1e9 / out->cpu_ns;
    if (tc->syscalls > 0) {
        out->per_call = (double)tc->datagrams / (double)tc->syscalls;
        out->gso_per_call = (double)tc->gso_sends / (double)tc->syscalls;
    }
}

int send_sample(const struct bench_config *c, const struct method *m,
                int warmup, struct sample *out, struct run_info *info)
{
    unsigned long total = c->count;
    struct send_totals s;
    struct tx_counters tc;
    struct sink k;
    struct tx t;
    int err;

    if (warmup)
        total = total / 10 > 1000 ? total / 10 : (total < 1000 ? total : 1000);
    memset(&s, 0, sizeof s);
    if ((err = sink_open(&k, c, info)) < 0)
        return err;
    if ((err = tx_open(&t, m, &k.addr, c, info)) < 0) {
        sink_close(&k);
        return err;
    }
    while (s.sent < total) {
        double per = s.per_dgram > 0 ? s.per_dgram
                                     : (double)c->size + FIRST_GUESS_OVERHEAD;
        unsigned long n = round_size(&k, t.batch, per, total - s.sent);

        if ((err = send_round(&t, &k, n, &s, info)) < 0)
            break;
        if (k.rx.got < s.sent)
            break;   /* lost datagrams: stop, and report them */
    }
    tx_counters(&t, &tc);
    if (err == 0 && m->kind == KIND_LIB_SEND && tc.datagrams != t.sent)
        snprintf(info->note, sizeof info->note,
                 "library counted %llu datagrams sent, the bench %llu",
                 (unsigned long long)tc.datagrams, (unsigned long long)t.sent);
    else if (err == 0 && tc.gso_fallbacks > 0)
        snprintf(info->note, sizeof info->note, "%llu GSO fallbacks",
                 (unsigned long long)tc.gso_fallbacks);
    else if (err == 0 && t.stalls > 0)
        snprintf(info->note, sizeof info->note, "send buffer full %llu times",
                 (unsigned long long)t.stalls);
    tx_close(&t);
    sink_close(&k);
    if (err < 0)
        return err;
    fill_sample(out, &s, &k, &tc);
    return 0;
}
