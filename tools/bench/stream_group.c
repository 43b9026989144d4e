/* stream_group.c - --mode stream with a socket group: n members bound to
 * one address (budp_group_bind), each received on by a thread of its own
 * exactly as the one-socket row "mmsg" receives (inline, recvmmsg
 * backend, budp_recv), while the same sender threads as every other row's
 * blast at the address.
 *
 * The senders' flows.  The kernel's hash steers each flow (source port) to
 * one member, so a sender thread with one socket would feed one member.
 * Every sender thread has --flows sockets (by default one per member of
 * the run's largest group) and sends each batch on the next.  For a HASH
 * group the flows are chosen so that the hash gives every member the same
 * number of each sender thread's flows (or one more, where they do not
 * divide): each candidate socket sends one probe, the member that receives
 * it is its member, and a socket whose member has its share is closed.
 * The probes are received before the clocks start and count nowhere.  A
 * CPU group steers by the CPU the sender ran on (on loopback the kernel
 * delivers on the sending CPU), whatever the flow; its member c's thread
 * runs on CPU c.
 *
 * Accounting: after the timed region the senders stop, the members take
 * what is left, then each member is closed on its own
 * (budp_group_close_member counts what it still held as dropped): every
 * datagram sent must have been received, dropped by the kernel at a
 * member, or counted by a close. */
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
#include <arpa/inet.h>
#include <sys/socket.h>

#include "bench.h"
#include "net.h"
#include "rx.h"
#include "stream.h"

#define DRAIN_QUIET_MS 50
#define DRAIN_MAX_NS 5000000000ull
/* A probe is on a member's queue when its send returns (loopback delivers
 * within the call, or soon after on a busy machine). */
#define PROBE_WAIT_NS 1000000000ull
/* Candidate sockets tried per flow wanted before giving up: the hash puts
 * a candidate on a given member of n with probability 1/n. */
#define PROBE_TRIES_PER_FLOW 64u

enum { PHASE_RUN, PHASE_DRAIN };

struct member {
    pthread_t th;
    struct rx r;
    atomic_int *phase;
    int opened, started;
    int err;
    int pin;                 /* cpus holds the CPUs to run on */
#ifdef __linux__
    cpu_set_t cpus;
#endif
    _Atomic uint64_t count;  /* r.datagrams, published after each receive */
    uint64_t drops0, sys0;   /* the socket's counters before the clocks */
};

static void *member_main(void *arg)
{
    struct member *mb = arg;
    uint64_t drain_start = 0;
    long n;
    int w;

#ifdef __linux__
    if (mb->pin)
        (void)pthread_setaffinity_np(pthread_self(), sizeof mb->cpus, &mb->cpus);
#endif
    for (;;) {
        n = rx_recv(&mb->r);
        if (n < 0) {
            mb->err = (int)n;
            break;
        }
        if (n > 0) {
            atomic_store_explicit(&mb->count, mb->r.datagrams, memory_order_relaxed);
            continue;
        }
        if (atomic_load_explicit(mb->phase, memory_order_acquire) == PHASE_DRAIN) {
            /* The senders have stopped: take what is left, until nothing
             * came for DRAIN_QUIET_MS. */
            if (drain_start == 0)
                drain_start = clock_wall_ns();
            else if (clock_wall_ns() - drain_start > DRAIN_MAX_NS)
                break;
            w = rx_wait(&mb->r, DRAIN_QUIET_MS);
            if (w <= 0) {
                mb->err = w;
                break;
            }
            continue;
        }
        w = rx_wait(&mb->r, 10);
        if (w < 0) {
            mb->err = w;
            break;
        }
    }
    atomic_store_explicit(&mb->count, mb->r.datagrams, memory_order_relaxed);
    return NULL;
}

/* Which member receives what fd sends: one probe of size bytes. */
static int probe_member(budp_group *g, unsigned n, int fd, const uint8_t *probe,
                        unsigned size, unsigned *member)
{
    uint64_t deadline = clock_wall_ns() + PROBE_WAIT_NS;
    const budp_datagram *d;
    unsigned i;
    int k;

    if (send(fd, probe, size, 0) != (ssize_t)size)
        return -errno;
    do {
        for (i = 0; i < n; i++) {
            k = budp_recv(budp_group_socket(g, i), &d, 1);
            if (k < 0)
                return k;
            if (k > 0) {
                *member = i;
                return 0;
            }
        }
        sleep_ns(100000);
    } while (clock_wall_ns() < deadline);
    return -ETIMEDOUT;
}

/* The flows of sender t that member j of n should have: flows / n, and one
 * more for flows % n members, other ones for each sender. */
static unsigned share(unsigned flows, unsigned n, unsigned t, unsigned j)
{
    return flows / n + ((j + n - t % n) % n < flows % n ? 1u : 0u);
}

/* Give every sender thread flows sockets connected to to, spread evenly
 * over the members by the kernel's hash (see the top of the file). */
static int balance_flows(struct stream_senders *ss, budp_group *g, unsigned n,
                         unsigned flows, const struct sockaddr_in *to,
                         unsigned size, struct run_info *info)
{
    unsigned need = ss->n * flows, placed = 0, tries = 0, t, j = 0;
    unsigned *have = calloc((size_t)ss->n * n, sizeof *have);
    uint8_t *probe = calloc(size ? size : 1, 1);
    int fd, err = 0;

    if (have == NULL || probe == NULL) {
        err = -ENOMEM;
        goto out;
    }
    while (placed < need) {
        if (++tries > need * PROBE_TRIES_PER_FLOW) {
            snprintf(info->note, sizeof info->note,
                     "no even spread of the flows over the members after %u tries",
                     tries - 1);
            err = -EAGAIN;
            break;
        }
        fd = net_sender(to, 0);
        if (fd < 0) {
            snprintf(info->note, sizeof info->note, "sender socket: %s",
                     strerror(-fd));
            err = fd;
            break;
        }
        if ((err = probe_member(g, n, fd, probe, size, &j)) < 0) {
            snprintf(info->note, sizeof info->note, "probe of a flow: %s",
                     budp_strerror(err));
            close(fd);
            break;
        }
        for (t = 0; t < ss->n; t++)
            if (have[t * n + j] < share(flows, n, t, j))
                break;
        if (t == ss->n) {
            close(fd);      /* member j has its share of every sender */
            continue;
        }
        if ((err = senders_add_flow(ss, t, fd)) < 0) {
            close(fd);
            break;
        }
        have[t * n + j]++;
        placed++;
    }
out:
    free(have);
    free(probe);
    return err;
}

/* CPU steering: member m gets CPU c where c mod n == m, of the CPUs this
 * process may use; a member with none is left to the scheduler. */
static void place_members(struct member *mb, unsigned n)
{
#ifdef __linux__
    cpu_set_t allowed;
    unsigned m;
    int c;

    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    for (m = 0; m < n; m++) {
        CPU_ZERO(&mb[m].cpus);
        for (c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &allowed) && (unsigned)c % n == m)
                CPU_SET(c, &mb[m].cpus);
        mb[m].pin = CPU_COUNT(&mb[m].cpus) > 0;
    }
#else
    (void)mb;
    (void)n;
#endif
}

static int member_stats(struct member *mb, uint64_t *drops, uint64_t *sys)
{
    uint64_t coal;

    return rx_lib_stats(&mb->r, sys, &coal, drops);
}

static int open_group(const struct bench_config *c, const struct group_method *gm,
                      budp_group **g, struct run_info *info)
{
    budp_options *o = NULL;
    const char *what;
    int err;

    if ((err = rx_lib_options(gm->member_method, c, &o, &what)) < 0)
        goto fail;
    /* As net_set_rcvbuf: the kernel doubles what it is given. */
    what = "BUDP_OPT_RECV_BUFFER";
    if (c->rcvbuf > 0 &&
        (err = budp_options_set(o, BUDP_OPT_RECV_BUFFER, (int64_t)(c->rcvbuf / 2))) < 0)
        goto fail;
    what = "BUDP_OPT_STEERING";
    if ((err = budp_options_set(o, BUDP_OPT_STEERING, gm->steering)) < 0)
        goto fail;
    what = "budp_group_bind";
    err = budp_group_bind(g, "127.0.0.1", 0, gm->members, o);
fail:
    budp_options_free(o);
    if (err < 0)
        snprintf(info->note, sizeof info->note, "%s: %s", what, budp_strerror(err));
    return err;
}

int group_stream_sample(const struct bench_config *c,
                        const struct group_method *gm, int warmup,
                        const char *progress_label, struct sample *out,
                        struct run_info *info)
{
    double secs = warmup ? c->duration / 4 : c->duration;
    unsigned i, n = gm->members, nsend = c->senders ? c->senders : 1;
    unsigned flows = c->flows ? c->flows : n;
    const char *label = warmup ? NULL : progress_label;
    struct stream_senders ss;
    struct sockaddr_in addr;
    struct net_meminfo mi;
    struct member *mb = NULL;
    budp_group *g = NULL;
    budp_addr local;
    atomic_int phase;
    uint64_t t0 = 0, t1 = 0, now, deadline, next, cpu0 = 0, cpu1 = 0, got = 0, prev = 0;
    uint64_t sent = 0, sent_all = 0, send_cpu = 0, total = 0, drops = 0, drops_all = 0;
    uint64_t closed = 0, sys = 0, d, s, got_min = UINT64_MAX, got_max = 0;
    int err, have_drops, senders_ready = 0;

    memset(out, 0, sizeof *out);
    atomic_init(&phase, PHASE_RUN);
    if ((err = open_group(c, gm, &g, info)) < 0)
        return err;
    if ((err = budp_local_addr(budp_group_socket(g, 0), &local)) < 0) {
        snprintf(info->note, sizeof info->note, "budp_local_addr: %s",
                 budp_strerror(err));
        budp_group_close(g);
        return err;
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(local.port);
    have_drops = net_meminfo(budp_socket_fd(budp_group_socket(g, 0)), &mi) == 0;

    mb = calloc(n, sizeof *mb);
    if (mb == NULL) {
        budp_group_close(g);
        return -ENOMEM;
    }
    for (i = 0; i < n && err == 0; i++) {
        mb[i].phase = &phase;
        atomic_init(&mb[i].count, 0);
        err = rx_open_socket(&mb[i].r, gm->member_method, budp_group_socket(g, i),
                             c, info);
        mb[i].opened = err == 0;
    }
    if (err == 0) {
        senders_ready = 1;
        err = senders_init(&ss, nsend, c->size, 0);
    }
    if (err == 0)
        err = gm->steering == BUDP_STEER_HASH
            ? balance_flows(&ss, g, n, flows, &addr, c->size, info)
            : senders_open_flows(&ss, flows, &addr, c->size, info);
    if (err == 0 && gm->pin)
        place_members(mb, n);
    for (i = 0; i < n && err == 0; i++) {
        if (member_stats(&mb[i], &mb[i].drops0, &mb[i].sys0) != 0)
            mb[i].drops0 = mb[i].sys0 = 0;
        if ((err = pthread_create(&mb[i].th, NULL, member_main, &mb[i])) != 0)
            err = -err;
        else
            mb[i].started = 1;
    }
    if (err == 0 && (err = senders_start(&ss, c->pin_senders)) == -ENOTSUP)
        snprintf(info->note, sizeof info->note, "cannot pin the sender threads here");
    if (err < 0) {
        if (info->note[0] == '\0')
            snprintf(info->note, sizeof info->note, "setup: %s", budp_strerror(err));
        goto out;
    }

    cpu0 = clock_cpu_ns();
    t0 = clock_wall_ns();
    deadline = t0 + (uint64_t)(secs * 1e9);
    next = t0 + 1000000000u;
    senders_go(&ss);
    while ((now = clock_wall_ns()) < deadline) {
        uint64_t left = deadline - now;

        sleep_ns(left < 20000000u ? left : 20000000u);
        now = clock_wall_ns();
        if (now >= next && now < deadline) {
            for (got = 0, drops = 0, i = 0; i < n; i++) {
                got += atomic_load_explicit(&mb[i].count, memory_order_relaxed);
                if (member_stats(&mb[i], &d, &s) == 0)
                    drops += d - mb[i].drops0;
            }
            stream_progress(label, (double)(now - t0) / 1e9, got, prev, drops);
            prev = got;
            next += 1000000000u;
        }
    }
    for (got = 0, i = 0; i < n; i++) {
        uint64_t g_i = atomic_load_explicit(&mb[i].count, memory_order_relaxed);

        got += g_i;
        got_min = g_i < got_min ? g_i : got_min;
        got_max = g_i > got_max ? g_i : got_max;
    }
    t1 = clock_wall_ns();
    cpu1 = clock_cpu_ns();
    for (drops = 0, i = 0; i < n; i++)
        if (member_stats(&mb[i], &d, &s) == 0)
            drops += d - mb[i].drops0;
    sent = senders_sent(&ss);
    senders_stop(&ss);
    sent_all = senders_sent(&ss);
    send_cpu = senders_cpu(&ss);
    err = senders_error(&ss, info);

out:
    atomic_store_explicit(&phase, PHASE_DRAIN, memory_order_release);
    for (i = 0; i < n; i++) {
        if (mb[i].started)
            pthread_join(mb[i].th, NULL);
        if (mb[i].err < 0 && err == 0) {
            err = mb[i].err;
            snprintf(info->note, sizeof info->note, "member %u: receive failed: %s",
                     i, budp_strerror(err));
        }
        if (!mb[i].opened)
            continue;
        total += mb[i].r.datagrams;
        out->bad_lengths += mb[i].r.bad_lengths;
        if (member_stats(&mb[i], &d, &s) == 0) {
            drops_all += d - mb[i].drops0;
            sys += s - mb[i].sys0;
        }
        rx_close(&mb[i].r);
    }
    /* What a member still held, had the drain missed some, is counted by
     * its close. */
    for (i = 0; i < n; i++) {
        int dropped = budp_group_close_member(g, i);

        if (dropped > 0)
            closed += (uint64_t)dropped;
    }
    budp_group_close(g);
    if (senders_ready)
        senders_free(&ss);
    if (err == 0) {
        out->datagrams = got;
        out->kernel_drops = drops;
        out->members = n;
        if (got > 0) {
            out->share_min = (double)got_min / (double)got;
            out->share_max = (double)got_max / (double)got;
        }
        stream_rates(out, got, sent, t0, t1, cpu0, cpu1, send_cpu, total, sys);
        err = stream_account(out, sent_all, total, drops_all + closed,
                             have_drops, 0, info);
        if (closed > 0 && err == 0)
            snprintf(info->note, sizeof info->note,
                     "%llu datagrams counted by the members' closes",
                     (unsigned long long)closed);
    }
    free(mb);
    return err;
}
