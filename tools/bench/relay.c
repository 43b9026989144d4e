/* relay.c - one sample of --mode relay: a relay receives batches and
 * forwards every datagram to another address, as a VPN or a QUIC proxy
 * does.
 *
 * Topology (netns.c): the sender and the sink in namespace A, the relay in
 * namespace B, one veth pair between them; the sender sends to the relay
 * over the veth, the relay forwards to the sink, back over the veth.
 *
 * A sample repeats three steps, one at a time, until --count datagrams
 * went through:
 *  1. the sender fills the relay's receive queue (as much as fits);
 *  2. the relay, on a thread of its own, forwards exactly what was queued:
 *     this is the timed part, the relay thread's CPU time
 *     (CLOCK_THREAD_CPUTIME_ID) and its wall time;
 *  3. the sink reads everything and checks it.
 * Why one at a time: veth hands a packet to the receiving namespace inside
 * the sending call (the softirq runs on the way out of it), so the
 * relay's receive work (IP, UDP, the kernel's splitting of GSO runs for a
 * relay without GRO) runs in the sender's thread, and the sink's in the
 * relay's.  The first is not the relay's to pay; the second is counted
 * for every row alike.  A sink reading while the relay runs would add its
 * wake-ups to the relay's time, and a sender sending meanwhile would make
 * the relay's batches depend on the two threads' timing.  The sink's
 * buffer is twice the relay's so that all the relay forwards in one go
 * fits in it.
 *
 * The relay thread runs on the CPU the fill ran on, where the kernel
 * queued its datagrams (as a relay would on the CPU that takes its NIC's
 * receive interrupts).  Left to the scheduler it lands on either CPU from
 * one fill to the next, and freeing buffers another CPU allocated, with
 * cold caches, made samples of relay-lib-gro differ by 2x. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "bench.h"
#include "netns.h"
#include "relay.h"

#define IDLE_MS 500
#define SINK_BUFFER_FACTOR 2

/* For the table's header: what the last sample set up. */
static char described_topology[300], described_sender[300];

void relay_describe(char *topology, size_t tsize, char *sender, size_t ssize)
{
    snprintf(topology, tsize, "%s", described_topology);
    snprintf(sender, ssize, "%s", described_sender);
}

static void describe(const struct netns_pair *p, const struct relay_socket *relay,
                     const struct relay_sink *k, const struct relay_sender *s,
                     unsigned size)
{
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &p->addr_a, a, sizeof a);
    inet_ntop(AF_INET, &p->addr_b, b, sizeof b);
    snprintf(described_topology, sizeof described_topology,
             "sender and sink in netns %s (%s), relay in %s (%s), veth MTU %u; "
             "receive buffers: relay %zu KiB, sink %zu KiB%s",
             p->a, a, p->b, b, p->mtu, relay->rcvbuf / 1024, k->sock.rcvbuf / 1024,
             relay->forced && k->sock.forced ? " (SO_RCVBUFFORCE)"
                                             : " (SO_RCVBUF: not permitted to force)");
    if (s->segs > 1)
        snprintf(described_sender, sizeof described_sender,
                 "UDP_SEGMENT runs of %u %u-byte datagrams, %u runs per sendmmsg, "
                 "filling the relay's queue before the relay runs (on the fill's CPU); "
                 "sink: the library, GRO on, reads after the relay", s->segs, size, s->nmsg);
    else
        snprintf(described_sender, sizeof described_sender,
                 "plain %u-byte datagrams, %u per sendmmsg (%s), filling the relay's "
                 "queue before the relay runs (on the fill's CPU); sink: the library, "
                 "GRO on, reads after the relay", size, s->nmsg,
                 s->gso_refused ? "no UDP_SEGMENT here" : "one datagram per run");
}

/* The row's note; a long reason is cut to fit. */
static void set_note(struct run_info *info, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_note(struct run_info *info, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(info->note, sizeof info->note, fmt, ap);
    va_end(ap);
}

/* Step 2: the relay's thread. */
struct relay_job {
    struct fwd *f;
    uint64_t target;
    uint64_t cpu_ns, wall_ns;
    int err;
};

static void *relay_main(void *arg)
{
    struct relay_job *j = arg;
    uint64_t cpu0 = clock_thread_ns(), wall0 = clock_wall_ns();

    j->err = fwd_run(j->f, j->target, IDLE_MS);
    j->wall_ns = clock_wall_ns() - wall0;
    j->cpu_ns = clock_thread_ns() - cpu0;
    return NULL;
}

struct totals {
    uint64_t cpu_ns, wall_ns;    /* the relay thread's, summed */
    uint64_t expected;           /* sent less the kernel's drops */
    uint64_t drops;              /* at the relay's and the sink's sockets */
    unsigned passes;             /* fill, forward, read */
};

/* Start the relay thread on the calling thread's CPU, where it can run
 * (else anywhere). */
static int start_relay(pthread_t *th, struct relay_job *job)
{
    int err = EINVAL;
#ifdef __linux__
    pthread_attr_t attr;
    cpu_set_t cpus;
    int cpu = sched_getcpu();

    if (cpu >= 0 && pthread_attr_init(&attr) == 0) {
        CPU_ZERO(&cpus);
        CPU_SET(cpu, &cpus);
        if (pthread_attr_setaffinity_np(&attr, sizeof cpus, &cpus) == 0)
            err = pthread_create(th, &attr, relay_main, job);
        pthread_attr_destroy(&attr);
    }
#endif
    if (err != 0)
        err = pthread_create(th, NULL, relay_main, job);
    return err;
}

/* One fill, forward, read.  Returns 0 or -errno (the reason in note). */
static int one_pass(struct relay_sender *snd, struct relay_socket *relay,
                     struct fwd *f, struct relay_sink *k, unsigned long want,
                     struct totals *t, struct run_info *info)
{
    struct net_meminfo k0, k1;
    struct relay_job job;
    pthread_t th;
    uint64_t rdrops = 0, kdrops = 0, queued;
    long sent;
    int have_k, err;

    have_k = net_meminfo(k->sock.fd, &k0) == 0;
    sent = relay_sender_fill(snd, relay->fd, relay->rcvbuf, want, &rdrops);
    if (sent <= 0) {
        set_note(info, "fill failed: %s",
                 sent < 0 ? strerror((int)-sent) : "nothing queued");
        return sent < 0 ? (int)sent : -EIO;
    }
    queued = (uint64_t)sent > rdrops ? (uint64_t)sent - rdrops : 0;

    memset(&job, 0, sizeof job);
    job.f = f;
    job.target = f->forwarded + queued;
    if ((err = start_relay(&th, &job)) != 0) {
        set_note(info, "relay thread: %s", strerror(err));
        return -err;
    }
    pthread_join(th, NULL);
    if (job.err < 0 && job.err != -ETIMEDOUT) {
        set_note(info, "relay failed: %s",
                 budp_strerror(job.err));
        return job.err;
    }

    /* The sink has not read yet: whatever it dropped, it dropped while the
     * relay ran.  What the kernel dropped at a socket is counted, not
     * lost; the rest of what was sent must reach the sink. */
    if (have_k && net_meminfo(k->sock.fd, &k1) == 0)
        kdrops = k1.drops - k0.drops;
    t->expected += queued > kdrops ? queued - kdrops : 0;
    err = relay_sink_drain(k, t->expected, IDLE_MS);
    if (err < 0) {
        set_note(info, "sink failed: %s", budp_strerror(err));
        return err;
    }
    t->cpu_ns += job.cpu_ns;
    t->wall_ns += job.wall_ns;
    t->drops += rdrops + kdrops;
    t->passes++;
    return 0;
}

static void fill_sample(struct sample *out, const struct totals *t,
                        const struct fwd *f, const struct relay_sink *k)
{
    struct fwd_counters fc;

    fwd_counters(f, &fc);
    memset(out, 0, sizeof *out);
    gro_sink_account(&k->rx, t->expected, out);
    out->kernel_drops = t->drops;
    out->rounds = t->passes;
    out->coalesced = fc.coalesced;
    if (f->forwarded > 0) {
        out->cpu_ns = (double)t->cpu_ns / (double)f->forwarded;
        out->wall_ns = (double)t->wall_ns / (double)f->forwarded;
        out->rate = (double)f->forwarded * 1e9 / (double)(t->wall_ns ? t->wall_ns : 1);
    }
    if (out->cpu_ns > 0)
        out->cpu_rate = 1e9 / out->cpu_ns;
    if (fc.rx_calls > 0)
        out->per_call = (double)f->received / (double)fc.rx_calls;
    if (fc.tx_calls > 0) {
        out->tx_per_call = (double)f->forwarded / (double)fc.tx_calls;
        out->gso_per_call = (double)fc.gso_sends / (double)fc.tx_calls;
    }
}

int relay_sample(const struct bench_config *c, const struct method *m,
                 int warmup, struct sample *out, struct run_info *info)
{
    const struct netns_pair *p;
    struct relay_socket relay;
    struct relay_sender snd;
    struct relay_sink k;
    struct fwd f;
    struct fwd_counters fc;
    struct totals t;
    unsigned long total = c->count;
    char why[256];
    int err;

    if (warmup)
        total = total / 10 > 1000 ? total / 10 : (total < 1000 ? total : 1000);
    snprintf(info->backend, sizeof info->backend, "-");
    err = netns_pair_get(&p, why, sizeof why);
    if (err < 0) {
        /* Not this machine's fault to fail: the row is "n/a". */
        set_note(info, "cannot make network namespaces: %s", why);
        return -ENOTSUP;
    }

    memset(&t, 0, sizeof t);
    relay.fd = snd.fd = k.sock.fd = -1;
    k.rx.s = NULL;
    snd.b.payload = NULL;
    if ((err = relay_socket_open(&relay, p->b, p->addr_b, c->rcvbuf, why, sizeof why)) < 0) {
        set_note(info, "relay socket in %s: %s", p->b, why);
        return err == -EPERM ? -ENOTSUP : err;
    }
    if ((err = relay_sink_open(&k, p->a, p->addr_a, SINK_BUFFER_FACTOR * c->rcvbuf,
                               c->size, why, sizeof why)) < 0) {
        set_note(info, "sink in %s: %s", p->a, why);
        goto out_relay;
    }
    if ((err = relay_sender_open(&snd, p->a, &relay.addr, c->size, why, sizeof why)) < 0) {
        set_note(info, "sender in %s: %s", p->a, why);
        goto out_sink;
    }
    if ((err = fwd_open(&f, m, relay.fd, &k.sock.addr, c, info)) < 0)
        goto out_sender;
    describe(p, &relay, &k, &snd, c->size);

    while (t.expected < total) {
        uint64_t before = t.expected;

        err = one_pass(&snd, &relay, &f, &k, total - t.expected, &t, info);
        if (err < 0)
            break;
        if (k.rx.got < t.expected || t.expected == before)
            break;   /* lost datagrams (or none queued): stop, report them */
    }
    fill_sample(out, &t, &f, &k);
    fwd_counters(&f, &fc);
    if (err == 0 && fc.gso_fallbacks > 0)
        set_note(info, "%llu GSO fallbacks",
                 (unsigned long long)fc.gso_fallbacks);
    else if (err == 0 && f.full_waits > 0)
        set_note(info, "send buffer full %llu times",
                 (unsigned long long)f.full_waits);
    fwd_close(&f);
out_sender:
    relay_sender_close(&snd);
out_sink:
    relay_sink_close(&k);
out_relay:
    close(relay.fd);
    return err;
}
