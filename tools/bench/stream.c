/* stream.c - sender threads blast for a fixed time while the method
 * receives: datagrams per second, kernel drops, and the receive side's CPU
 * (the whole process minus the sender threads).  Afterwards the senders
 * stop, the receiver takes what is left, and every datagram sent must have
 * been received or dropped by the kernel at the receiving socket.  Socket
 * groups are in stream_group.c. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "net.h"
#include "rx.h"
#include "stream.h"

/* After the senders stop, the receiver takes what is queued until nothing
 * came for this long, or DRAIN_MAX_MS passed. */
#define DRAIN_QUIET_MS 50
#define DRAIN_MAX_MS 5000

static void *sender_main(void *arg)
{
    struct stream_sender *s = arg;
    uint64_t cpu0;
    unsigned flow = 0;
    long n;

    pthread_mutex_lock(&s->gate->mu);
    while (!s->gate->open)
        pthread_cond_wait(&s->gate->cv, &s->gate->mu);
    pthread_mutex_unlock(&s->gate->mu);
    cpu0 = clock_thread_ns();
    while (!atomic_load_explicit(&s->gate->stop, memory_order_relaxed)) {
        n = net_send(&s->b, s->fd[flow], ULONG_MAX);
        if (n == -EAGAIN) {
            net_wait_writable(s->fd[flow], 1);
            continue;
        }
        if (n < 0) {
            s->err = (int)n;
            break;
        }
        atomic_fetch_add_explicit(&s->sent, (uint64_t)n, memory_order_relaxed);
        if (++flow == s->nfd)
            flow = 0;
    }
    s->cpu_ns = clock_thread_ns() - cpu0;
    return NULL;
}

int senders_init(struct stream_senders *ss, unsigned n, unsigned size, int gso)
{
    unsigned i, f;
    int err;

    memset(ss, 0, sizeof *ss);
    pthread_mutex_init(&ss->gate.mu, NULL);
    pthread_cond_init(&ss->gate.cv, NULL);
    atomic_init(&ss->gate.stop, 0);
    ss->segs = gso ? net_gso_segments(size) : 1;
    ss->s = calloc(n, sizeof *ss->s);
    if (ss->s == NULL)
        return -ENOMEM;
    ss->n = n;
    for (i = 0; i < n; i++) {
        ss->s[i].gate = &ss->gate;
        atomic_init(&ss->s[i].sent, 0);
        for (f = 0; f < STREAM_MAX_FLOWS; f++)
            ss->s[i].fd[f] = -1;
        err = net_sendbuf_init(&ss->s[i].b, size, ss->segs, ss->segs > 1 ? 8 : 64);
        if (err < 0)
            return err;
    }
    return 0;
}

int senders_add_flow(struct stream_senders *ss, unsigned i, int fd)
{
    struct stream_sender *s = &ss->s[i];

    if (s->nfd == STREAM_MAX_FLOWS)
        return -E2BIG;
    s->fd[s->nfd++] = fd;
    return 0;
}

int senders_open_flows(struct stream_senders *ss, unsigned flows,
                       const struct sockaddr_in *to, unsigned size,
                       struct run_info *info)
{
    unsigned i, f;
    int fd, err;

    for (i = 0; i < ss->n; i++)
        for (f = 0; f < flows; f++) {
            fd = net_sender(to, ss->segs > 1 ? size : 0);
            if (fd < 0) {
                snprintf(info->note, sizeof info->note, "sender socket: %s",
                         strerror(-fd));
                return fd;
            }
            if ((err = senders_add_flow(ss, i, fd)) < 0) {
                close(fd);
                return err;
            }
        }
    return 0;
}

/* The k-th CPU (mod their count) of those this process may use, in set;
 * 0 when the process's CPUs are unknown. */
static int nth_cpu(unsigned k, void *set)
{
#ifdef __linux__
    cpu_set_t allowed, *out = set;
    int c, count;

    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 ||
        (count = CPU_COUNT(&allowed)) == 0)
        return 0;
    k %= (unsigned)count;
    for (c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed) && k-- == 0) {
            CPU_ZERO(out);
            CPU_SET(c, out);
            return 1;
        }
#else
    (void)k;
    (void)set;
#endif
    return 0;
}

int senders_start(struct stream_senders *ss, int pin)
{
    pthread_attr_t attr;
    unsigned i;
    int err;

    for (i = 0; i < ss->n; i++) {
        int pinned = 0;

        if (ss->s[i].nfd == 0)
            return -EINVAL;
        if ((err = pthread_attr_init(&attr)) != 0)
            return -err;
#ifdef __linux__
        if (pin) {
            cpu_set_t cpu;

            pinned = nth_cpu(i, &cpu) &&
                     pthread_attr_setaffinity_np(&attr, sizeof cpu, &cpu) == 0;
        }
#endif
        if (pin && !pinned) {
            pthread_attr_destroy(&attr);
            return -ENOTSUP;
        }
        err = pthread_create(&ss->s[i].th, &attr, sender_main, &ss->s[i]);
        pthread_attr_destroy(&attr);
        if (err != 0)
            return -err;
        ss->s[i].started = 1;
    }
    return 0;
}

static void open_gate(struct stream_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

void senders_go(struct stream_senders *ss)
{
    open_gate(&ss->gate);
}

uint64_t senders_sent(struct stream_senders *ss)
{
    uint64_t sent = 0;
    unsigned i;

    for (i = 0; i < ss->n; i++)
        sent += atomic_load_explicit(&ss->s[i].sent, memory_order_relaxed);
    return sent;
}

void senders_stop(struct stream_senders *ss)
{
    unsigned i;

    if (ss->stopped)
        return;
    ss->stopped = 1;
    atomic_store(&ss->gate.stop, 1);
    open_gate(&ss->gate);
    for (i = 0; i < ss->n; i++)
        if (ss->s[i].started)
            pthread_join(ss->s[i].th, NULL);
}

uint64_t senders_cpu(const struct stream_senders *ss)
{
    uint64_t ns = 0;
    unsigned i;

    for (i = 0; i < ss->n; i++)
        ns += ss->s[i].cpu_ns;
    return ns;
}

int senders_error(const struct stream_senders *ss, struct run_info *info)
{
    unsigned i;

    for (i = 0; i < ss->n; i++)
        if (ss->s[i].err < 0) {
            snprintf(info->note, sizeof info->note, "send failed: %s",
                     strerror(-ss->s[i].err));
            return ss->s[i].err;
        }
    return 0;
}

void senders_free(struct stream_senders *ss)
{
    unsigned i, f;

    if (ss->s != NULL) {
        senders_stop(ss);
        for (i = 0; i < ss->n; i++) {
            for (f = 0; f < ss->s[i].nfd; f++)
                close(ss->s[i].fd[f]);
            net_sendbuf_free(&ss->s[i].b);
        }
        free(ss->s);
        ss->s = NULL;
    }
    pthread_mutex_destroy(&ss->gate.mu);
    pthread_cond_destroy(&ss->gate.cv);
}

void stream_progress(const char *label, double secs, uint64_t got,
                     uint64_t prev, uint64_t drops)
{
    if (label == NULL)
        return;
    fprintf(stderr, "  %s %4.1fs: %9.0f datagrams/s received, %llu kernel drops\n",
            label, secs, (double)(got - prev), (unsigned long long)drops);
}

void stream_rates(struct sample *out, uint64_t got, uint64_t sent,
                  uint64_t t0, uint64_t t1, uint64_t cpu0, uint64_t cpu1,
                  uint64_t send_cpu, uint64_t total, uint64_t sys)
{
    if (got > 0 && t1 > t0) {
        double rx_cpu = (double)(cpu1 - cpu0) - (double)send_cpu;

        out->rate = (double)got * 1e9 / (double)(t1 - t0);
        out->sent_rate = (double)sent * 1e9 / (double)(t1 - t0);
        out->wall_ns = (double)(t1 - t0) / (double)got;
        out->cpu_ns = (rx_cpu > 0 ? rx_cpu : 0) / (double)got;
        if (out->cpu_ns > 0)
            out->cpu_rate = 1e9 / out->cpu_ns;
    }
    if (sys > 0)
        out->per_call = (double)total / (double)sys;
}

int stream_account(struct sample *out, uint64_t sent, uint64_t received,
                   uint64_t drops, int have_drops, int gro,
                   struct run_info *info)
{
    uint64_t counted = received + drops;

    out->expected = sent;
    out->received_all = received;
    out->drops_all = drops;
    out->lost = 0;
    if (counted > sent) {
        snprintf(info->note, sizeof info->note,
                 "counts do not add up: %llu received and %llu dropped of %llu sent",
                 (unsigned long long)received, (unsigned long long)drops,
                 (unsigned long long)sent);
        return -EPROTO;
    }
    if (!have_drops)
        return 0;   /* no drop counter here: nothing to check against */
    /* A dropped GRO packet held up to 64 datagrams. */
    if (gro && drops > 0 && received + 64 * drops >= sent)
        return 0;
    out->lost = sent - counted;
    return 0;
}

/* Receive until deadline, printing progress once a second. */
static int receive_until(struct rx *r, int rfd, uint64_t t0, uint64_t deadline,
                         const char *label, uint64_t drops0)
{
    int cb = r->m->kind == KIND_LIB && r->m->threading == LIB_CALLBACK;
    uint64_t now = t0, next = t0 + 1000000000u, prev = 0;
    struct net_meminfo mi;
    unsigned iter = 0;
    long n = 0;

    while (now < deadline) {
        if (cb) {
            uint64_t left = deadline - now;

            sleep_ns(left < 50000000u ? left : 50000000u);
        } else {
            n = rx_recv(r);
            if (n < 0)
                return (int)n;
            if (n == 0) {
                int w = rx_wait(r, 10);

                if (w < 0)
                    return w;
            }
            /* Reading the clock per datagram would tax recvfrom. */
            if (n > 0 && (++iter & 15) != 0)
                continue;
        }
        now = clock_wall_ns();
        if (now >= next && now < deadline) {
            uint64_t got = rx_count(r);

            if (net_meminfo(rfd, &mi) != 0)
                mi.drops = drops0;
            stream_progress(label, (double)(now - t0) / 1e9, got, prev,
                            mi.drops - drops0);
            prev = got;
            next += 1000000000u;
        }
    }
    return 0;
}

/* The senders have stopped: take what is left (in the kernel's queue, and
 * in the library's ring or callback thread), until nothing came for
 * DRAIN_QUIET_MS. */
static int receive_rest(struct rx *r)
{
    int cb = r->m->kind == KIND_LIB && r->m->threading == LIB_CALLBACK;
    uint64_t start = clock_wall_ns(), last = rx_count(r), now;
    long n;
    int w;

    while ((now = clock_wall_ns()) - start < (uint64_t)DRAIN_MAX_MS * 1000000u) {
        if (cb) {
            uint64_t count;

            sleep_ns((uint64_t)DRAIN_QUIET_MS * 1000000u);
            count = rx_count(r);
            if (count == last)
                return 0;
            last = count;
            continue;
        }
        n = rx_recv(r);
        if (n < 0)
            return (int)n;
        if (n > 0)
            continue;
        w = rx_wait(r, DRAIN_QUIET_MS);
        if (w < 0)
            return w;
        if (w == 0)
            return 0;
    }
    return 0;
}

int stream_sample(const struct bench_config *c, const struct method *m,
                  int warmup, const char *progress_label,
                  struct sample *out, struct run_info *info)
{
    const struct group_method *gm = method_group(m);
    double secs = warmup ? c->duration / 4 : c->duration;
    unsigned nsend = c->senders ? c->senders : 1;
    unsigned flows = c->flows ? c->flows : 1;
    struct stream_senders ss;
    struct sockaddr_in addr;
    struct net_meminfo m0, m1, m2;
    struct rx r;
    uint64_t t0, t1, cpu0, cpu1, got, sent, sent_all, send_cpu, total;
    uint64_t sys = 0, coal = 0, kd;
    size_t actual;
    int rfd, forced, err, have_drops;

    if (gm != NULL)
        return group_stream_sample(c, gm, warmup, progress_label, out, info);
    memset(out, 0, sizeof *out);
    rfd = net_receiver(c->rcvbuf, &addr, &forced, &actual);
    if (rfd < 0)
        return rfd;
    if ((err = rx_open(&r, m, rfd, c, info)) < 0) {
        close(rfd);
        return err;
    }
    err = senders_init(&ss, nsend, c->size, m->gso_sender);
    if (err == 0)
        err = senders_open_flows(&ss, flows, &addr, c->size, info);
    if (err == 0 && (err = senders_start(&ss, c->pin_senders)) == -ENOTSUP)
        snprintf(info->note, sizeof info->note, "cannot pin the sender threads here");
    if (err == 0)
        err = rx_start(&r, UINT64_MAX);
    if (err < 0)
        goto out;
    have_drops = net_meminfo(rfd, &m0) == 0;
    if (!have_drops)
        memset(&m0, 0, sizeof m0);

    cpu0 = clock_cpu_ns();
    t0 = clock_wall_ns();
    senders_go(&ss);
    err = receive_until(&r, rfd, t0, t0 + (uint64_t)(secs * 1e9),
                        warmup ? NULL : progress_label, m0.drops);
    got = rx_count(&r);
    t1 = clock_wall_ns();
    cpu1 = clock_cpu_ns();
    if (net_meminfo(rfd, &m1) != 0)
        m1 = m0;
    sent = senders_sent(&ss);
    senders_stop(&ss);
    sent_all = senders_sent(&ss);
    send_cpu = senders_cpu(&ss);
    if (err == 0)
        err = senders_error(&ss, info);
    else if (info->note[0] == '\0')
        snprintf(info->note, sizeof info->note, "receive failed: %s",
                 budp_strerror(err));
    if (err == 0 && (err = receive_rest(&r)) < 0)
        snprintf(info->note, sizeof info->note, "receive failed: %s",
                 budp_strerror(err));
    total = rx_count(&r);
    if (net_meminfo(rfd, &m2) != 0)
        m2 = m1;
    if (rx_lib_stats(&r, &sys, &coal, &kd) != 0)
        sys = r.calls;

    out->datagrams = got;
    out->kernel_drops = m1.drops - m0.drops;
    out->coalesced = coal;
    out->members = 1;
    out->share_min = out->share_max = 1.0;
    stream_rates(out, got, sent, t0, t1, cpu0, cpu1, send_cpu, total, sys);
    if (err == 0)
        err = stream_account(out, sent_all, total, m2.drops - m0.drops,
                             have_drops, m->gso_sender && m->gro != 0, info);
out:
    senders_free(&ss);
    rx_close(&r);
    out->bad_lengths = r.bad_lengths;
    close(rfd);
    return err;
}
