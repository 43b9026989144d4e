/* soak.c - batchudp-soak [DATAGRAMS] [SECONDS]: DATAGRAMS (default 10
 * million) through one receiving socket in threaded mode that is shut
 * down, closed and reopened on the same port every 0.2-2 s, while two
 * sender threads, each with a socket of its own, keep sending to that port
 * with budp_send in batches.  Each period the receiving socket has a mode
 * of its own: threaded WAIT and DROP in turn, callback-thread mode every
 * fifth.  SECONDS (default 600) caps the run.  Exit 0 when every check
 * held, 1 otherwise.
 *
 * Checked for every datagram: intact (sender, length and checksum), sent
 * (its sequence number was handed to budp_send), never delivered twice in
 * the whole run (a bitmap per sender).
 *
 * Checked per period, from budp_get_stats read before the shutdown (the
 * header: what is still queued at the shutdown is discarded uncounted):
 *  - rx_datagrams equals the datagrams handed to the application.  Exact:
 *    the consumer reads the stats between its own budp_recv calls, and in
 *    callback-thread mode after budp_set_callback(NULL), which returns once
 *    the receiver thread's last batch went to the callback.
 *  - Nothing is counted twice: rx_datagrams + rx_dropped + rx_kernel_drops
 *    is at most what can have reached the socket: the sequence numbers
 *    handed to budp_send before the stats were read, less those whose send
 *    call had returned before the previous socket's stats were read.  (Not
 *    less those sent before this bind: the loopback device queues
 *    datagrams per CPU, and a send that returned before the bind may reach
 *    the new socket after it.  The bound assumes none waits there longer
 *    than the previous socket's close and this bind take.)
 *  - Nothing is lost uncounted: a sender's datagrams reach the socket in
 *    order (each sender is pinned to a CPU: one loopback backlog, one
 *    socket queue, one ring, all FIFO), so one missing below the highest
 *    sequence number delivered in the period, and sent after the bind, is
 *    not queued any more: it was dropped, by the ring (rx_dropped) or at
 *    the socket (rx_kernel_drops), or before the socket in a full per-CPU
 *    backlog (softnet_stat, kernel-wide).  Their sum must cover these
 *    gaps.  Checked only when both senders could be pinned and the period
 *    saw every sender in order.
 *  - rx_dropped is 0 but in DROP mode; rx_truncated is 0.
 * Not checkable: how many datagrams were still queued (kernel queue and
 * ring) when the socket shut down, and which datagrams sent around the
 * moments of the close and the bind found no socket.  The summary gives
 * them as figures, not checks: "while closed" is the kernel's count of
 * datagrams that found no socket (Udp NoPorts, kernel-wide: exact when
 * nothing else on the machine sends UDP to closed ports), with what the
 * senders' tx_datagrams counted from just before each shutdown to just
 * after the next bind beside it (a bound, which may also hold datagrams
 * that reached the new socket); "discarded at shutdown" is what is left:
 * sent, less received, dropped and NoPorts.
 *
 * Sampled every second: VmRSS and the open fds.  Fails when RSS after the
 * warm-up (the first WARMUP_S seconds, or the first half of a shorter
 * run) rises more than RSS_GROWTH_KIB above its peak during the warm-up,
 * or when the fds are not back to their number at the start. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

#define WARMUP_S 10.0
#define RSS_GROWTH_KIB (8 * 1024L)

enum period_mode { PM_WAIT, PM_DROP, PM_CALLBACK };
static const char *const mode_names[] = { "WAIT", "DROP", "callback" };

/* The current period, written by the thread that delivers: the consumer
 * in ring modes, the receiver thread in callback-thread mode (handed over
 * by budp_set_callback and budp_close, which synchronise with it). */
struct period {
    enum period_mode mode;
    uint64_t issued_open[SOAK_SENDERS];
    uint64_t handed, in_window[SOAK_SENDERS], max_seen[SOAK_SENDERS];
    int any[SOAK_SENDERS];
    uint64_t out_of_order;
};

struct soak {
    struct soak_sender senders[SOAK_SENDERS];
    uint8_t *seen[SOAK_SENDERS];
    struct period p;
    uint64_t sent_prev_read[SOAK_SENDERS]; /* at the last stats read */
    uint64_t corrupt, duplicates, never_sent, failures;
    /* Totals. */
    uint64_t received, ring_drops, kernel_drops, backlog_drops, sent_closed,
        out_of_order, unchecked_periods;
    unsigned reopenings, per_mode[3];
    /* Samples. */
    double t0, warmup_end, next_sample;
    long rss_first, rss_last, rss_min, rss_max, rss_warm_peak, rss_after_peak;
    int fds_first, fds_last;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void problem(struct soak *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct soak *k, const char *fmt, ...)
{
    va_list ap;

    k->failures++;
    fputs("soak: FAIL: ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static void deliver(struct soak *k, const uint8_t *data, uint32_t len)
{
    struct period *p = &k->p;
    uint32_t snd;
    uint64_t seq;

    p->handed++;
    if (!soak_payload_check(data, len, &snd, &seq)) {
        k->corrupt++;
        return;
    }
    if (seq >= atomic_load(&k->senders[snd].issued)) {
        k->never_sent++;
        return;
    }
    if (k->seen[snd][seq >> 3] & (1u << (seq & 7))) {
        k->duplicates++;
        return;
    }
    k->seen[snd][seq >> 3] |= (uint8_t)(1u << (seq & 7));
    if (p->any[snd] && seq < p->max_seen[snd])
        p->out_of_order++;
    else
        p->max_seen[snd] = seq;
    p->any[snd] = 1;
    if (seq >= p->issued_open[snd])
        p->in_window[snd]++;

}

static int on_batch(void *user, const budp_datagram *d, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        deliver(user, d[i].data, d[i].len);
    return BUDP_CALLBACK_CONTINUE;
}

static void sample(struct soak *k, double t)
{
    long rss = soak_rss_kib();

    k->fds_last = soak_fd_count();
    k->rss_last = rss;
    if (k->rss_first < 0)
        k->rss_first = k->rss_min = rss;
    k->rss_min = rss < k->rss_min ? rss : k->rss_min;
    k->rss_max = rss > k->rss_max ? rss : k->rss_max;
    if (t - k->t0 < k->warmup_end)
        k->rss_warm_peak = rss > k->rss_warm_peak ? rss : k->rss_warm_peak;
    else
        k->rss_after_peak = rss > k->rss_after_peak ? rss : k->rss_after_peak;
}

static uint64_t tx_total(struct soak *k)
{
    uint64_t sum = 0;

    for (int i = 0; i < SOAK_SENDERS; i++) {
        budp_stats st;
        if (budp_get_stats(k->senders[i].tx, &st, sizeof st) == (int)sizeof st)
            sum += st.tx_datagrams;
    }
    return sum;
}

static int senders_done(struct soak *k)
{
    for (int i = 0; i < SOAK_SENDERS; i++)
        if (atomic_load(&k->senders[i].sent) < k->senders[i].quota &&
            k->senders[i].error == 0 && !atomic_load(&k->senders[i].stop))
            return 0;
    return 1;
}

/* Bind the receiving socket for mode m on port (0: any). */
static int open_receiver(budp_socket **s, enum period_mode m, uint16_t port)
{
    budp_options *o = NULL;
    int rc;

    if ((rc = budp_options_new(&o)) < 0)
        return rc;
    budp_options_set(o, BUDP_OPT_THREADED, 1);
    budp_options_set(o, BUDP_OPT_OVERFLOW,
                     m == PM_DROP ? BUDP_OVERFLOW_DROP : BUDP_OVERFLOW_WAIT);
    budp_options_set(o, BUDP_OPT_CALLBACK_THREAD, m == PM_CALLBACK);
    /* The port was free a moment ago; a bind in that moment by another
     * program is waited out for a while. */
    for (int i = 0; i < 1000; i++) {
        rc = budp_bind(s, "127.0.0.1", port, o);
        if (rc != -EADDRINUSE)
            break;
        usleep(1000);
    }
    budp_options_free(o);
    return rc;
}

/* Receive until the period's end; 1 when the run is over. */
static int run_period(struct soak *k, budp_socket *s, double end, double cap)
{
    double drain_end = 0;

    for (;;) {
        double t = now_s();
        int rc;

        if (t >= k->next_sample) {
            sample(k, t);
            k->next_sample += 1.0;
        }
        if (t - k->t0 > cap)
            for (int i = 0; i < SOAK_SENDERS; i++)
                atomic_store(&k->senders[i].stop, 1);
        if (drain_end == 0 && senders_done(k))
            drain_end = t + 0.2; /* what is in flight arrives */
        if (drain_end > 0 && t >= drain_end)
            return 1;
        if (t >= end)
            return 0;
        if (k->p.mode == PM_CALLBACK) {
            rc = budp_wait(s, 20);
        } else {
            const budp_datagram *v;
            rc = budp_recv(s, &v, 256);
            for (int i = 0; i < rc; i++)
                deliver(k, v[i].data, v[i].len);
            if (rc == 0)
                rc = budp_wait(s, 10);
        }
        if (rc < 0) {
            problem(k, "%s: %s", k->p.mode == PM_CALLBACK ? "budp_wait" : "budp_recv",
                    budp_strerror(rc));
            return 1;
        }
    }
}

/* The period's checks (see the top of the file). */
static void check_period(struct soak *k, unsigned n, const budp_stats *st,
                         const uint64_t *issued_read, uint64_t backlog)
{
    struct period *p = &k->p;
    uint64_t gaps = 0, possible = 0, counted;
    int pinned = 1;

    for (int i = 0; i < SOAK_SENDERS; i++) {
        if (p->any[i] && p->max_seen[i] >= p->issued_open[i])
            gaps += p->max_seen[i] - p->issued_open[i] + 1 - p->in_window[i];
        possible += issued_read[i] - k->sent_prev_read[i];
        pinned &= k->senders[i].pinned;
    }
    counted = st->rx_datagrams + st->rx_dropped + st->rx_kernel_drops;
    if (st->rx_datagrams != p->handed)
        problem(k, "period %u: rx_datagrams %" PRIu64 ", handed to the application %"
                PRIu64, n, st->rx_datagrams, p->handed);
    if (counted > possible)
        problem(k, "period %u: %" PRIu64 " datagrams counted, at most %" PRIu64
                " can have arrived", n, counted, possible);
    if ((p->mode != PM_DROP && st->rx_dropped != 0) || st->rx_truncated != 0)
        problem(k, "period %u: rx_dropped %" PRIu64 ", rx_truncated %" PRIu64, n,
                st->rx_dropped, st->rx_truncated);
    if (pinned && p->out_of_order == 0) {
        if (gaps > st->rx_dropped + st->rx_kernel_drops + backlog)
            problem(k, "period %u: %" PRIu64 " datagrams missing, %" PRIu64
                    " counted as dropped", n, gaps,
                    st->rx_dropped + st->rx_kernel_drops + backlog);
    } else {
        k->unchecked_periods++;
    }
    printf("period %u (%s): delivered %" PRIu64 ", dropped ring %" PRIu64 " kernel %"
           PRIu64 " backlog %" PRIu64 ", missing below the highest %" PRIu64 "\n",
           n, mode_names[p->mode], p->handed, st->rx_dropped, st->rx_kernel_drops,
           backlog, gaps);
}

/* One period: open, receive, read the stats, shut down, close, check.
 * Returns 1 when the run is over. */
static int period(struct soak *k, budp_socket *s, unsigned n, double cap,
                  unsigned *seed)
{
    double dur = 0.2 + (rand_r(seed) % 1801) / 1000.0;
    uint64_t issued_read[SOAK_SENDERS], sent_read[SOAK_SENDERS], tx_shut, backlog;
    uint64_t backlog0 = soak_backlog_drops();
    budp_stats st;
    int over, rc;

    for (int i = 0; i < SOAK_SENDERS; i++)
        k->p.issued_open[i] = atomic_load(&k->senders[i].issued);
    if (k->p.mode == PM_CALLBACK && (rc = budp_set_callback(s, on_batch, k)) < 0)
        problem(k, "budp_set_callback: %s", budp_strerror(rc));
    over = run_period(k, s, now_s() + dur, cap);
    if (k->p.mode == PM_CALLBACK && (rc = budp_set_callback(s, NULL, NULL)) < 0)
        problem(k, "budp_set_callback(NULL): %s", budp_strerror(rc));
    for (int i = 0; i < SOAK_SENDERS; i++)
        sent_read[i] = atomic_load(&k->senders[i].sent);
    if ((rc = budp_get_stats(s, &st, sizeof st)) != (int)sizeof st)
        problem(k, "budp_get_stats: %s", budp_strerror(rc));
    for (int i = 0; i < SOAK_SENDERS; i++)
        issued_read[i] = atomic_load(&k->senders[i].issued);
    tx_shut = tx_total(k);
    budp_shutdown(s);
    budp_close(s);
    backlog = soak_backlog_drops() - backlog0;
    check_period(k, n, &st, issued_read, backlog);
    memcpy(k->sent_prev_read, sent_read, sizeof sent_read);
    k->received += st.rx_datagrams;
    k->ring_drops += st.rx_dropped;
    k->kernel_drops += st.rx_kernel_drops;
    k->backlog_drops += backlog;
    k->out_of_order += k->p.out_of_order;
    k->per_mode[k->p.mode]++;
    k->sent_closed -= tx_shut; /* + the total at the next bind */
    return over;
}

int main(int argc, char **argv)
{
    static struct soak k;
    uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000u;
    double cap = argc > 2 ? atof(argv[2]) : 600.0, elapsed;
    uint64_t noports0 = soak_udp_noports(), sent = 0, noports;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned seed = 20240601u, n = 0;
    budp_socket *s = NULL;
    budp_addr self;
    int rc, over = 0;

    if (total < SOAK_SENDERS || cap <= 0) {
        fprintf(stderr, "usage: %s [DATAGRAMS] [SECONDS]\n", argv[0]);
        return 2;
    }
    k.fds_first = soak_fd_count();
    k.rss_first = -1;
    k.t0 = k.next_sample = now_s();
    k.warmup_end = cap < 2 * WARMUP_S ? cap / 2 : WARMUP_S;
    for (int i = 0; i < SOAK_SENDERS; i++) {
        k.senders[i].quota = total / SOAK_SENDERS + (i == 0 ? total % SOAK_SENDERS : 0);
        /* Touched now, so that its pages do not show as growth later. */
        k.seen[i] = malloc(k.senders[i].quota / 8 + 1);
        if (k.seen[i] == NULL)
            return 2;
        memset(k.seen[i], 0, k.senders[i].quota / 8 + 1);
    }
    if ((rc = open_receiver(&s, PM_WAIT, 0)) < 0 || (rc = budp_local_addr(s, &self)) < 0) {
        fprintf(stderr, "soak: the receiving socket: %s\n", budp_strerror(rc));
        return 2;
    }
    for (int i = 0; i < SOAK_SENDERS; i++) {
        k.senders[i].id = (uint32_t)i;
        k.senders[i].dest = self;
        rc = soak_sender_start(&k.senders[i], "127.0.0.1", cpus > 0 ? (int)(i % cpus) : -1);
        if (rc < 0) {
            fprintf(stderr, "soak: a sender: %s\n", budp_strerror(rc));
            return 2;
        }
    }
    while (!over) {
        if (n > 0) {
            k.p.mode = n % 5 == 4 ? PM_CALLBACK : n % 2 ? PM_DROP : PM_WAIT;
            if ((rc = open_receiver(&s, k.p.mode, self.port)) < 0) {
                problem(&k, "reopening port %u: %s", self.port, budp_strerror(rc));
                break;
            }
            k.sent_closed += tx_total(&k);
            k.reopenings++;
        }
        over = period(&k, s, n++, cap, &seed);
        memset(&k.p, 0, sizeof k.p);
    }
    k.sent_closed += tx_total(&k); /* the last period: closed until the end */
    for (int i = 0; i < SOAK_SENDERS; i++) {
        atomic_store(&k.senders[i].stop, 1);
        soak_sender_finish(&k.senders[i]);
        sent += atomic_load(&k.senders[i].sent);
        if (k.senders[i].error != 0)
            problem(&k, "sender %d: %s", i, budp_strerror(k.senders[i].error));
        free(k.seen[i]);
    }
    elapsed = now_s() - k.t0;
    sample(&k, now_s());
    if (k.corrupt + k.duplicates + k.never_sent > 0)
        problem(&k, "%" PRIu64 " corrupt, %" PRIu64 " delivered twice, %" PRIu64
                " never sent", k.corrupt, k.duplicates, k.never_sent);
    if (k.rss_after_peak > k.rss_warm_peak + RSS_GROWTH_KIB)
        problem(&k, "RSS grew from %ld KiB (warm-up peak) to %ld KiB", k.rss_warm_peak,
                k.rss_after_peak);
    if (k.fds_last != k.fds_first)
        problem(&k, "%d fds open at the start, %d at the end", k.fds_first, k.fds_last);
    noports = soak_udp_noports() - noports0;
    printf("soak: %s: sent %" PRIu64 ", received %" PRIu64 ", dropped: ring %" PRIu64
           " kernel %" PRIu64 " backlog %" PRIu64 ", while closed %" PRIu64 " (NoPorts; "
           "senders' counters: <= %" PRIu64 "), discarded at shutdown %" PRId64
           "; reopenings %u (WAIT %u, DROP %u, callback %u); out of order %" PRIu64
           ", periods not gap-checked %" PRIu64 "; RSS KiB first %ld last %ld min %ld "
           "max %ld (warm-up peak %ld); fds first %d last %d; %.1f s\n",
           k.failures ? "FAIL" : "PASS", sent, k.received, k.ring_drops, k.kernel_drops,
           k.backlog_drops, noports, k.sent_closed,
           (int64_t)(sent - k.received - k.ring_drops - k.kernel_drops - k.backlog_drops -
                     noports),
           k.reopenings, k.per_mode[PM_WAIT], k.per_mode[PM_DROP],
           k.per_mode[PM_CALLBACK], k.out_of_order, k.unchecked_periods, k.rss_first,
           k.rss_last, k.rss_min, k.rss_max, k.rss_warm_peak, k.fds_first, k.fds_last,
           elapsed);
    return k.failures ? 1 : 0;
}
