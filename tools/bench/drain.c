/* drain.c - fill the receive queue, then time the receive side alone.
 *
 * A sample is one or more rounds: a sender socket fills the receiver's
 * queue with sendmmsg until the queue is nearly full (or holds what is
 * left to send), then the clocks start and the method receives exactly
 * what was queued.  Only the receiving is timed, in process CPU time (all
 * threads: the library's receiver thread counts) and in wall time. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "net.h"
#include "rx.h"

#define IDLE_MS 500

struct drain_totals {
    uint64_t cpu_ns, wall_ns, datagrams, expected, syscalls;
    uint64_t bad_lengths, coalesced, drops;
    unsigned rounds;
};

/* Wait until the socket's queue is empty (the library's receiver thread
 * has taken it into the ring), or 5 s pass, and 50 ms more for the thread
 * to commit its last batch.  Then the consumer's calls do not depend on
 * how the two threads interleave. */
static void settle(int rfd)
{
    struct net_meminfo mi;

    for (int i = 0; i < 5000; i++) {
        if (net_meminfo(rfd, &mi) != 0 || mi.rmem == 0)
            break;
        sleep_ns(1000000);
    }
    sleep_ns(50000000);
}

static int drain_round(const struct bench_config *c, const struct method *m,
                       int rfd, int sfd, struct net_sendbuf *b, size_t rcvbuf,
                       unsigned long want, struct drain_totals *t,
                       struct run_info *info)
{
    /* The threaded receiver starts reading as soon as it exists, so it is
     * created after the fill; the others before it (GRO must be on before
     * the datagrams are queued). */
    int open_after = m->kind == KIND_LIB && m->threading == LIB_THREADED;
    uint64_t cpu0, wall0, cpu1, wall1, drops, queued, sys = 0, coal = 0, kd;
    struct rx r;
    long sent;
    int err;

    if (!open_after && (err = rx_open(&r, m, rfd, c, info)) < 0)
        return err;
    sent = net_fill_queue(b, sfd, rfd, want, rcvbuf, &drops);
    if (sent <= 0) {
        if (!open_after)
            rx_close(&r);
        snprintf(info->note, sizeof info->note, "fill failed: %s",
                 sent < 0 ? strerror((int)-sent) : "nothing queued");
        return sent < 0 ? (int)sent : -EIO;
    }
    queued = (uint64_t)sent > drops ? (uint64_t)sent - drops : 0;
    if (open_after && (err = rx_open(&r, m, rfd, c, info)) < 0)
        return err;
    if (open_after && c->settle)
        settle(rfd);

    cpu0 = clock_cpu_ns();
    wall0 = clock_wall_ns();
    err = rx_start(&r, queued);
    if (err == 0)
        err = rx_wait_count(&r, queued, IDLE_MS);
    wall1 = clock_wall_ns();
    cpu1 = clock_cpu_ns();

    if (rx_lib_stats(&r, &sys, &coal, &kd) != 0)
        sys = r.calls;
    rx_close(&r);
    if (err < 0 && err != -ETIMEDOUT) {
        snprintf(info->note, sizeof info->note, "receive failed: %s",
                 budp_strerror(err));
        return err;
    }
    /* A drop of a GSO run may count once for many datagrams. */
    if (r.datagrams > queued)
        queued = r.datagrams;
    t->cpu_ns += cpu1 - cpu0;
    t->wall_ns += wall1 - wall0;
    t->datagrams += r.datagrams;
    t->expected += queued;
    t->syscalls += sys;
    t->bad_lengths += r.bad_lengths;
    t->coalesced += coal;
    t->drops += drops;
    t->rounds++;
    return 0;
}

int drain_sample(const struct bench_config *c, const struct method *m,
                 int warmup, struct sample *out, struct run_info *info)
{
    unsigned long total = c->count, done = 0;
    unsigned segs = m->gso_sender ? net_gso_segments(c->size) : 1;
    struct drain_totals t;
    struct net_sendbuf b;
    struct sockaddr_in addr;
    size_t actual;
    int rfd, sfd, forced, err = 0;

    if (warmup)
        total = total / 10 > 1000 ? total / 10 : (total < 1000 ? total : 1000);
    memset(&t, 0, sizeof t);
    rfd = net_receiver(c->rcvbuf, &addr, &forced, &actual);
    if (rfd < 0) {
        snprintf(info->note, sizeof info->note, "receiver socket: %s",
                 strerror(-rfd));
        return rfd;
    }
    sfd = net_sender(&addr, segs > 1 ? c->size : 0);
    if (sfd < 0) {
        snprintf(info->note, sizeof info->note, "sender socket: %s%s",
                 strerror(-sfd), sfd == -ENOTSUP ? " (no UDP_SEGMENT)" : "");
        close(rfd);
        return sfd;
    }
    err = net_sendbuf_init(&b, c->size, segs, segs > 1 ? 8 : 64);
    while (err == 0 && done < total) {
        uint64_t before = t.expected;

        err = drain_round(c, m, rfd, sfd, &b, actual, total - done, &t, info);
        if (t.expected == before && err == 0)
            err = -EIO;
        done += (unsigned long)(t.expected - before);
        if (t.datagrams < t.expected)
            break;   /* lost datagrams: stop, and report them */
    }
    net_sendbuf_free(&b);
    close(sfd);
    close(rfd);
    if (err < 0)
        return err;

    memset(out, 0, sizeof *out);
    out->datagrams = t.datagrams;
    out->expected = t.expected;
    out->lost = t.expected - t.datagrams;
    out->kernel_drops = t.drops;
    out->bad_lengths = t.bad_lengths;
    out->coalesced = t.coalesced;
    out->rounds = t.rounds;
    if (t.datagrams > 0) {
        out->cpu_ns = (double)t.cpu_ns / (double)t.datagrams;
        out->wall_ns = (double)t.wall_ns / (double)t.datagrams;
        out->rate = (double)t.datagrams * 1e9 / (double)(t.wall_ns ? t.wall_ns : 1);
    }
    if (t.syscalls > 0)
        out->per_call = (double)t.datagrams / (double)t.syscalls;
    return 0;
}
