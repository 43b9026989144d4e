/* latency.c - ping-pong over loopback: round-trip times of one datagram.
 *
 * An echo thread with blocking recv/send (the same for every method)
 * returns each ping; the method under test sends the ping and waits for the
 * answer as an application would: poll (or budp_wait) then receive; in
 * callback mode the callback, on the receiver thread, sends the next ping. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "bench.h"
#include "net.h"
#include "rx.h"

#define PING_TIMEOUT_MS 1000

struct ping {
    struct rx *r;
    uint8_t *payload;
    unsigned size;
    double *rtt;             /* ns */
    unsigned long n, done;
    _Atomic uint64_t sent_at;
    int err;
};

/* Where the two ends run.  Left to the scheduler, a round trip takes either
 * ~10 us (both ends on one CPU: local wake-ups) or ~60 us (on two CPUs of a
 * virtual machine: a wake-up is an inter-processor interrupt), switching
 * from one sample to the next.  So the echo thread gets the last CPU the
 * process may use and the measured side the others; the library's receiver
 * thread, created by the measured side, inherits its CPUs. */
struct placement {
    int active;
#ifdef __linux__
    cpu_set_t saved, client, echo;
#endif
};

int latency_echo_cpu(const struct bench_config *c)
{
#ifdef __linux__
    cpu_set_t set;
    int cpu;

    if (!c->pin || sched_getaffinity(0, sizeof set, &set) != 0 ||
        CPU_COUNT(&set) < 2)
        return -1;
    for (cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
        if (CPU_ISSET(cpu, &set))
            return cpu;
#else
    (void)c;
#endif
    return -1;
}

static void place_begin(struct placement *pl, const struct bench_config *c)
{
    int cpu = latency_echo_cpu(c);

    pl->active = 0;
#ifdef __linux__
    if (cpu < 0 || pthread_getaffinity_np(pthread_self(), sizeof pl->saved,
                                          &pl->saved) != 0)
        return;
    pl->client = pl->saved;
    CPU_CLR(cpu, &pl->client);
    CPU_ZERO(&pl->echo);
    CPU_SET(cpu, &pl->echo);
    pl->active = pthread_setaffinity_np(pthread_self(), sizeof pl->client,
                                        &pl->client) == 0;
#else
    (void)cpu;
#endif
}

static void place_echo(struct placement *pl, pthread_t echo)
{
#ifdef __linux__
    if (pl->active)
        (void)pthread_setaffinity_np(echo, sizeof pl->echo, &pl->echo);
#else
    (void)pl;
    (void)echo;
#endif
}

static void place_end(struct placement *pl)
{
#ifdef __linux__
    if (pl->active)
        (void)pthread_setaffinity_np(pthread_self(), sizeof pl->saved, &pl->saved);
#endif
    pl->active = 0;
}

static void *echo_main(void *arg)
{
    int fd = *(int *)arg;
    static _Thread_local uint8_t buf[65536];
    ssize_t n;

    for (;;) {
        n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* an empty datagram asks the echo to stop */
        while (send(fd, buf, (size_t)n, 0) < 0 && errno == EINTR)
            ;
    }
    return NULL;
}

static int send_ping(struct ping *p)
{
    if (p->r->m->kind == KIND_LIB) {
        budp_datagram d;
        int n;

        memset(&d, 0, sizeof d);
        d.data = p->payload;
        d.len = p->size;
        n = budp_send(p->r->s, &d, 1);
        return n == 1 ? 0 : (n < 0 ? n : -EIO);
    }
    if (send(p->r->fd, p->payload, p->size, 0) < 0)
        return -errno;
    return 0;
}

/* Callback mode: runs on the receiver thread after each batch. */
static void on_pong(void *user, unsigned n)
{
    struct ping *p = user;
    uint64_t now = clock_wall_ns();
    unsigned i;
    int err;

    for (i = 0; i < n && p->done < p->n; i++)
        p->rtt[p->done++] = (double)(now - atomic_load(&p->sent_at));
    if (p->done < p->n) {
        atomic_store(&p->sent_at, clock_wall_ns());
        if ((err = send_ping(p)) < 0 && p->err == 0)
            p->err = err;
    }
}

static int ping_inline(struct ping *p)
{
    uint64_t t;
    long n;
    int w, err;

    for (p->done = 0; p->done < p->n; p->done++) {
        t = clock_wall_ns();
        if ((err = send_ping(p)) < 0)
            return err;
        for (;;) {
            w = rx_wait(p->r, PING_TIMEOUT_MS);
            if (w <= 0)
                return w < 0 ? w : -ETIMEDOUT;
            n = rx_recv(p->r);
            if (n < 0)
                return (int)n;
            if (n > 0)
                break;
        }
        p->rtt[p->done] = (double)(clock_wall_ns() - t);
    }
    return 0;
}

static int ping_callback(struct ping *p)
{
    int err;

    p->r->hook = on_pong;
    p->r->hook_user = p;
    if ((err = rx_start(p->r, p->n)) < 0)
        return err;
    atomic_store(&p->sent_at, clock_wall_ns());
    if ((err = send_ping(p)) < 0)
        return err;
    err = rx_wait_count(p->r, p->n, PING_TIMEOUT_MS);
    return err < 0 ? err : p->err;
}

static void summarise(struct ping *p, struct sample *out)
{
    double sum = 0, max = 0;
    unsigned long i;

    for (i = 0; i < p->done; i++) {
        sum += p->rtt[i];
        if (p->rtt[i] > max)
            max = p->rtt[i];
    }
    out->datagrams = p->done;
    out->expected = p->n;
    out->lost = p->n - p->done;
    if (p->done == 0)
        return;
    out->mean_us = sum / (double)p->done / 1000.0;
    out->max_us = max / 1000.0;
    out->wall_ns = sum / (double)p->done;
    out->p50_us = stats_percentile(p->rtt, p->done, 50) / 1000.0;
    out->p99_us = stats_percentile(p->rtt, p->done, 99) / 1000.0;
}

int latency_sample(const struct bench_config *c, const struct method *m,
                   int warmup, struct sample *out, struct run_info *info)
{
    struct sockaddr_in ca, ea;
    struct placement pl;
    struct ping p;
    struct rx r;
    pthread_t echo;
    size_t actual;
    int cfd, efd = -1, forced, err, echo_started = 0;

    memset(&p, 0, sizeof p);
    place_begin(&pl, c);
    p.size = c->size;
    p.n = warmup ? (c->count / 10 ? c->count / 10 : 1) : c->count;
    p.payload = calloc(1, c->size);
    p.rtt = calloc(p.n, sizeof *p.rtt);
    cfd = net_receiver(0, &ca, &forced, &actual);
    if (cfd >= 0)
        efd = net_receiver(0, &ea, &forced, &actual);
    if (p.payload == NULL || p.rtt == NULL || cfd < 0 || efd < 0) {
        err = cfd < 0 ? cfd : efd < 0 ? efd : -ENOMEM;
        snprintf(info->note, sizeof info->note, "setup: %s", strerror(-err));
        goto out;
    }
    if (connect(cfd, (struct sockaddr *)&ea, sizeof ea) != 0 ||
        connect(efd, (struct sockaddr *)&ca, sizeof ca) != 0) {
        err = -errno;
        snprintf(info->note, sizeof info->note, "connect: %s", strerror(-err));
        goto out;
    }
    if ((err = pthread_create(&echo, NULL, echo_main, &efd)) != 0) {
        err = -err;
        goto out;
    }
    echo_started = 1;
    place_echo(&pl, echo);
    if ((err = rx_open(&r, m, cfd, c, info)) < 0)
        goto out;
    p.r = &r;
    if (m->kind == KIND_LIB && m->threading == LIB_CALLBACK)
        err = ping_callback(&p);
    else
        err = ping_inline(&p);
    rx_close(&r);
    if (err < 0 && info->note[0] == '\0')
        snprintf(info->note, sizeof info->note, "ping %lu of %lu: %s",
                 p.done + 1, p.n, budp_strerror(err));
    memset(out, 0, sizeof *out);
    summarise(&p, out);
out:
    if (echo_started) {
        /* The empty datagram stops the echo thread. */
        while (send(cfd, "", 0, 0) < 0 && errno == EINTR)
            ;
        pthread_join(echo, NULL);
    }
    if (efd >= 0)
        close(efd);
    if (cfd >= 0)
        close(cfd);
    free(p.payload);
    free(p.rtt);
    place_end(&pl);
    return err;
}
