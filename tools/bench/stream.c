/* stream.c - sender threads blast for a fixed time while the method
 * receives: datagrams per second, kernel drops, and the receive side's CPU
 * (the whole process minus the sender threads). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "net.h"
#include "rx.h"

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    atomic_int stop;
};

struct sender {
    pthread_t th;
    struct gate *gate;
    struct net_sendbuf b;
    int fd;
    int started;
    int err;
    _Atomic uint64_t sent;
    uint64_t cpu_ns;
};

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    uint64_t cpu0;
    long n;

    pthread_mutex_lock(&s->gate->mu);
    while (!s->gate->open)
        pthread_cond_wait(&s->gate->cv, &s->gate->mu);
    pthread_mutex_unlock(&s->gate->mu);
    cpu0 = clock_thread_ns();
    while (!atomic_load_explicit(&s->gate->stop, memory_order_relaxed)) {
        n = net_send(&s->b, s->fd, ULONG_MAX);
        if (n == -EAGAIN) {
            net_wait_writable(s->fd, 1);
            continue;
        }
        if (n < 0) {
            s->err = (int)n;
            break;
        }
        atomic_fetch_add_explicit(&s->sent, (uint64_t)n, memory_order_relaxed);
    }
    s->cpu_ns = clock_thread_ns() - cpu0;
    return NULL;
}

static void stop_senders(struct sender *snd, unsigned n, struct gate *g)
{
    unsigned i;

    atomic_store(&g->stop, 1);
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    for (i = 0; i < n; i++) {
        if (snd[i].started)
            pthread_join(snd[i].th, NULL);
        if (snd[i].fd >= 0)
            close(snd[i].fd);
        net_sendbuf_free(&snd[i].b);
    }
}

static int start_senders(struct sender *snd, unsigned n, struct gate *g,
                         const struct sockaddr_in *to, unsigned size,
                         int gso, struct run_info *info)
{
    unsigned i, segs = gso ? net_gso_segments(size) : 1;
    int err;

    for (i = 0; i < n; i++) {
        snd[i].gate = g;
        snd[i].fd = net_sender(to, segs > 1 ? size : 0);
        if (snd[i].fd < 0) {
            err = snd[i].fd;
            snprintf(info->note, sizeof info->note, "sender socket: %s",
                     strerror(-err));
            return err;
        }
        if ((err = net_sendbuf_init(&snd[i].b, size, segs, segs > 1 ? 8 : 64)) < 0)
            return err;
        if ((err = pthread_create(&snd[i].th, NULL, sender_main, &snd[i])) != 0)
            return -err;
        snd[i].started = 1;
    }
    return 0;
}

static void progress(const char *label, double secs, uint64_t got,
                     uint64_t prev, uint64_t drops)
{
    if (label == NULL)
        return;
    fprintf(stderr, "  %s %4.1fs: %9.0f datagrams/s received, %llu kernel drops\n",
            label, secs, (double)(got - prev), (unsigned long long)drops);
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
            progress(label, (double)(now - t0) / 1e9, got, prev,
                     mi.drops - drops0);
            prev = got;
            next += 1000000000u;
        }
    }
    return 0;
}

int stream_sample(const struct bench_config *c, const struct method *m,
                  int warmup, const char *progress_label,
                  struct sample *out, struct run_info *info)
{
    double secs = warmup ? c->duration / 4 : c->duration;
    unsigned i, nsend = c->senders ? c->senders : 1;
    struct gate g;
    struct sender *snd;
    struct sockaddr_in addr;
    struct net_meminfo m0, m1;
    struct rx r;
    uint64_t t0, t1, cpu0, cpu1, got, sent = 0, send_cpu = 0, sys = 0, coal = 0, kd;
    size_t actual;
    int rfd, forced, err;

    rfd = net_receiver(c->rcvbuf, &addr, &forced, &actual);
    if (rfd < 0)
        return rfd;
    if ((err = rx_open(&r, m, rfd, c, info)) < 0) {
        close(rfd);
        return err;
    }
    snd = calloc(nsend, sizeof *snd);
    memset(&g, 0, sizeof g);
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    atomic_init(&g.stop, 0);
    if (snd == NULL) {
        err = -ENOMEM;
        goto out;
    }
    for (i = 0; i < nsend; i++)
        snd[i].fd = -1;
    err = start_senders(snd, nsend, &g, &addr, c->size, m->gso_sender, info);
    if (err == 0)
        err = rx_start(&r, UINT64_MAX);
    if (err < 0) {
        stop_senders(snd, nsend, &g);
        goto out;
    }
    if (net_meminfo(rfd, &m0) != 0)
        memset(&m0, 0, sizeof m0);

    cpu0 = clock_cpu_ns();
    t0 = clock_wall_ns();
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    err = receive_until(&r, rfd, t0, t0 + (uint64_t)(secs * 1e9),
                        warmup ? NULL : progress_label, m0.drops);
    got = rx_count(&r);
    t1 = clock_wall_ns();
    cpu1 = clock_cpu_ns();
    if (net_meminfo(rfd, &m1) != 0)
        m1 = m0;
    for (i = 0; i < nsend; i++)
        sent += atomic_load(&snd[i].sent);
    stop_senders(snd, nsend, &g);
    for (i = 0; i < nsend; i++) {
        send_cpu += snd[i].cpu_ns;
        if (snd[i].err < 0 && err == 0) {
            err = snd[i].err;
            snprintf(info->note, sizeof info->note, "send failed: %s",
                     strerror(-err));
        }
    }
    if (err < 0 && info->note[0] == '\0')
        snprintf(info->note, sizeof info->note, "receive failed: %s",
                 budp_strerror(err));
    if (rx_lib_stats(&r, &sys, &coal, &kd) != 0)
        sys = r.calls;

    memset(out, 0, sizeof *out);
    out->datagrams = got;
    out->kernel_drops = m1.drops - m0.drops;
    out->coalesced = coal;
    if (got > 0 && t1 > t0) {
        double rx_cpu = (double)(cpu1 - cpu0) - (double)send_cpu;

        out->rate = (double)got * 1e9 / (double)(t1 - t0);
        out->sent_rate = (double)sent * 1e9 / (double)(t1 - t0);
        out->wall_ns = (double)(t1 - t0) / (double)got;
        out->cpu_ns = (rx_cpu > 0 ? rx_cpu : 0) / (double)got;
    }
    if (sys > 0)
        out->per_call = (double)got / (double)sys;
out:
    rx_close(&r);
    out->bad_lengths = r.bad_lengths;
    close(rfd);
    pthread_mutex_destroy(&g.mu);
    pthread_cond_destroy(&g.cv);
    free(snd);
    return err;
}
