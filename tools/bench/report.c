/* report.c - medians and ratios, the table, the JSON file. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "report.h"

static const char *mode_name(enum bench_mode m)
{
    return m == MODE_DRAIN ? "drain" : m == MODE_STREAM ? "stream"
         : m == MODE_SEND ? "send" : m == MODE_RELAY ? "relay" : "latency";
}

/* What a ratio compares: the round trip's median in latency mode, CPU ns
 * per datagram everywhere else. */
static double ratio_metric(const struct bench_config *c, const struct sample *s)
{
    return c->mode == MODE_LATENCY ? s->p50_us : s->cpu_ns;
}

/* A distribution-free confidence interval of the median of the n sorted
 * values v, at least REPORT_CI_LEVEL: v[j-1] to v[n-j] for the largest j
 * whose interval covers the median with that probability, 1 - 2 P(B < j),
 * B binomial(n, 1/2) (the number of values below the true median).  With
 * too few values for any j, the whole range. */
static void median_interval(const double *v, unsigned n, double *low, double *high)
{
    double p = 1.0, below = 0.0;   /* P(B = k), P(B < k) */
    unsigned j = 0, k;

    for (k = 0; k < n; k++)
        p *= 0.5;
    for (k = 0; k < n / 2; k++) {
        below += p;                /* now P(B <= k) = P(B < k + 1) */
        if (1.0 - 2.0 * below < REPORT_CI_LEVEL)
            break;
        j = k + 1;
        p = p * (double)(n - k) / (double)(k + 1);
    }
    if (j == 0) {
        *low = v[0];
        *high = v[n - 1];
        return;
    }
    *low = v[j - 1];
    *high = v[n - j];
}

/* The per-round ratios of w against the reference ref, and their summary.
 * A row stops at its first failed sample (main.c runs no more of it), so
 * sample k of every row was taken in round k. */
static void round_ratios(const struct bench_config *c, struct row *w,
                         const struct row *ref)
{
    double v[REPORT_MAX_SAMPLES];
    unsigned k, n = w->nsamples < ref->nsamples ? w->nsamples : ref->nsamples;

    if (n > REPORT_MAX_SAMPLES)
        n = REPORT_MAX_SAMPLES;
    for (k = 0; k < n; k++) {
        double base = ratio_metric(c, &ref->samples[k]);

        if (!(base > 0))
            break;
        w->round_ratio[w->nround++] = ratio_metric(c, &w->samples[k]) / base;
    }
    if (w->nround == 0)
        return;
    memcpy(v, w->round_ratio, w->nround * sizeof v[0]);
    w->rr_median = stats_median(v, w->nround);
    w->rr_p25 = stats_percentile(v, w->nround, 25);   /* sorts v */
    w->rr_p75 = stats_percentile(v, w->nround, 75);
    w->rr_min = v[0];
    w->rr_max = v[w->nround - 1];
    median_interval(v, w->nround, &w->rr_ci_low, &w->rr_ci_high);
}

static double rate_of(const struct sample *s)
{
    return s->rate;
}

static double cpu_rate_of(const struct sample *s)
{
    return s->cpu_rate;
}

/* w against base, round by round, in metric (higher: better). */
static void ratios_against(const struct row *w, const struct row *base,
                           double (*metric)(const struct sample *),
                           struct ratio_summary *out)
{
    double v[REPORT_MAX_SAMPLES];
    unsigned k, n = w->nsamples < base->nsamples ? w->nsamples : base->nsamples;

    memset(out, 0, sizeof *out);
    if (n > REPORT_MAX_SAMPLES)
        n = REPORT_MAX_SAMPLES;
    for (k = 0; k < n; k++) {
        double b = metric(&base->samples[k]);

        if (!(b > 0))
            break;
        v[out->n++] = metric(&w->samples[k]) / b;
    }
    if (out->n == 0)
        return;
    out->median = stats_median(v, out->n);
    out->p25 = stats_percentile(v, out->n, 25);   /* sorts v */
    out->p75 = stats_percentile(v, out->n, 75);
    out->min = v[0];
    out->max = v[out->n - 1];
    median_interval(v, out->n, &out->ci_low, &out->ci_high);
}

#define MEDIAN_OF(row, field)                                   \
    do {                                                        \
        double v_[256];                                         \
        unsigned i_, n_ = (row)->nsamples < 256 ? (row)->nsamples : 256; \
        for (i_ = 0; i_ < n_; i_++)                             \
            v_[i_] = (double)(row)->samples[i_].field;          \
        (row)->med.field = stats_median(v_, n_);                \
    } while (0)

void report_summarise(struct report *r)
{
    unsigned i, j;

    for (i = 0; i < r->nrows; i++) {
        struct row *w = &r->rows[i];

        memset(&w->med, 0, sizeof w->med);
        if (w->nsamples == 0)
            continue;
        MEDIAN_OF(w, cpu_ns);
        MEDIAN_OF(w, wall_ns);
        MEDIAN_OF(w, rate);
        MEDIAN_OF(w, sent_rate);
        MEDIAN_OF(w, cpu_rate);
        MEDIAN_OF(w, per_call);
        MEDIAN_OF(w, gso_per_call);
        MEDIAN_OF(w, tx_per_call);
        MEDIAN_OF(w, p50_us);
        MEDIAN_OF(w, p99_us);
        MEDIAN_OF(w, mean_us);
        MEDIAN_OF(w, max_us);
        MEDIAN_OF(w, share_min);
        MEDIAN_OF(w, share_max);
        {
            double v[256];
            unsigned n = w->nsamples < 256 ? w->nsamples : 256;

            for (j = 0; j < n; j++)
                v[j] = (double)w->samples[j].kernel_drops;
            w->med.kernel_drops = (uint64_t)stats_median(v, n);
        }
        for (j = 0; j < w->nsamples; j++) {
            w->med.datagrams += w->samples[j].datagrams;
            w->med.expected += w->samples[j].expected;
            w->med.lost += w->samples[j].lost;
            w->med.bad_lengths += w->samples[j].bad_lengths;
            w->med.coalesced += w->samples[j].coalesced;
            w->med.received_all += w->samples[j].received_all;
            w->med.drops_all += w->samples[j].drops_all;
            if (w->samples[j].members > w->med.members)
                w->med.members = w->samples[j].members;
            if (w->samples[j].rounds > w->med.rounds)
                w->med.rounds = w->samples[j].rounds;
        }
    }
    for (i = 0; i < r->nrows; i++) {
        struct row *w = &r->rows[i];
        const struct row *ref = r->ref;

        w->ratio = 0;
        w->nround = 0;
        w->rr_median = w->rr_p25 = w->rr_p75 = w->rr_min = w->rr_max = 0;
        w->rr_ci_low = w->rr_ci_high = 0;
        if (ref == NULL || ref->nsamples == 0 || w->nsamples == 0)
            continue;
        if (ratio_metric(r->c, &ref->med) > 0)
            w->ratio = ratio_metric(r->c, &w->med) / ratio_metric(r->c, &ref->med);
        round_ratios(r->c, w, ref);
    }
    for (i = 0; i < r->nrows; i++) {
        struct row *w = &r->rows[i];

        memset(&w->vs_base_rate, 0, sizeof w->vs_base_rate);
        memset(&w->vs_base_cpu, 0, sizeof w->vs_base_cpu);
        if (r->base == NULL || r->base->nsamples == 0 || w->nsamples == 0)
            continue;
        ratios_against(w, r->base, rate_of, &w->vs_base_rate);
        ratios_against(w, r->base, cpu_rate_of, &w->vs_base_cpu);
    }
}

static void machine(char *buf, size_t size)
{
    char model[128] = "unknown CPU", line[256];
    struct utsname u;
    FILE *f = fopen("/proc/cpuinfo", "r");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');

        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            colon += 1 + (colon[1] == ' ');
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(model, sizeof model, "%s", colon);
            break;
        }
    }
    if (f != NULL)
        fclose(f);
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    snprintf(buf, size, "%s, %ld CPUs, %s %s %s", model, cpus, u.sysname,
             u.release, u.machine);
}

static const char *na_text(const struct row *w, char *buf, size_t size)
{
    if (w->status == ROW_NA && (w->m->kind == KIND_LIB || w->m->kind == KIND_LIB_SEND) &&
        (w->m->backend == BUDP_BACKEND_MSGX || w->m->backend == BUDP_BACKEND_URING))
        snprintf(buf, size, "skipped (backend not present here: %s)",
                 budp_strerror(w->err));
    else if (w->status == ROW_NA && w->info.note[0])
        snprintf(buf, size, "n/a (not supported: %s)", w->info.note);
    else if (w->status == ROW_NA)
        snprintf(buf, size, "n/a (not supported: %s)", budp_strerror(w->err));
    else
        snprintf(buf, size, "FAILED: %s", w->info.note[0] ? w->info.note
                                                         : budp_strerror(w->err));
    return buf;
}

/* The note column: problems first, then facts worth knowing. */
static void row_note(const struct row *w, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    if (w->med.lost > 0)
        n += (size_t)snprintf(buf + n, size - n, "LOST %llu of %llu; ",
                              (unsigned long long)w->med.lost,
                              (unsigned long long)w->med.expected);
    if (w->med.bad_lengths > 0 && n < size)
        n += (size_t)snprintf(buf + n, size - n, "%llu BAD LENGTHS; ",
                              (unsigned long long)w->med.bad_lengths);
    if (w->m->gro == 1 && w->med.coalesced == 0 && n < size)
        n += (size_t)snprintf(buf + n, size - n,
                              "no coalesced receive (GRO not in effect); ");
    if (w->m->kind == KIND_LIB_SEND && w->m->gso_sender &&
        w->med.coalesced == 0 && n < size)
        n += (size_t)snprintf(buf + n, size - n,
                              "no GSO send (GSO not in effect); ");
    if (w->m->kind == KIND_RELAY_LIB && w->m->gso_sender &&
        w->med.gso_per_call == 0 && n < size)
        n += (size_t)snprintf(buf + n, size - n,
                              "no GSO send (GSO not in effect); ");
    if (w->info.note[0] && n < size)
        n += (size_t)snprintf(buf + n, size - n, "%s; ", w->info.note);
    if (n >= 2 && n < size)
        buf[n - 2] = '\0';
}

static void ratio_text(const struct row *w, char *buf, size_t size)
{
    if (w->ratio > 0)
        snprintf(buf, size, "%.2fx", w->ratio);
    else
        snprintf(buf, size, "-");
}

/* "1.03x [1.01-1.05]": the median of the per-round ratios and its
 * confidence interval. */
static void round_text(const struct row *w, char *buf, size_t size)
{
    if (w->nround > 0)
        snprintf(buf, size, "%.2fx [%.2f-%.2f]", w->rr_median, w->rr_ci_low,
                 w->rr_ci_high);
    else
        snprintf(buf, size, "-");
}

static void summary_text(const struct ratio_summary *v, char *buf, size_t size)
{
    if (v->n > 0)
        snprintf(buf, size, "%.2fx [%.2f-%.2f]", v->median, v->ci_low, v->ci_high);
    else
        snprintf(buf, size, "-");
}

/* Stream mode with group rows: each group, and the one-socket row, against
 * that row, round by round. */
static void group_table(FILE *f, const struct report *r)
{
    char rate[48], cpu[48], shares[32];
    unsigned i;

    fprintf(f, "\nsocket groups against one socket (%s) in the same rounds: datagrams/s received by the whole group,\n"
               "and datagrams per receive CPU second (1e9 / rx cpu), each the median of the per-round ratios to %s\n"
               "[95%% interval]; shares: the least and the most busy member's part of what the group received\n\n"
               "%-13s %7s %12s %-20s %12s %-20s  %s\n",
            r->base->m->name, r->base->m->name, "method", "members", "rx dgram/s",
            "vs one socket", "rx/cpu-s", "vs one socket", "shares");
    for (i = 0; i < r->nrows; i++) {
        const struct row *w = &r->rows[i];

        if (w != r->base && w->m->kind != KIND_GROUP)
            continue;
        if (w->status != ROW_OK || w->nsamples == 0) {
            fprintf(f, "%-13s %7s %s\n", w->m->name, "-",
                    w->status == ROW_OK ? "no samples" : "see above");
            continue;
        }
        summary_text(&w->vs_base_rate, rate, sizeof rate);
        summary_text(&w->vs_base_cpu, cpu, sizeof cpu);
        if (w->med.members > 1)
            snprintf(shares, sizeof shares, "%.0f-%.0f%%", 100 * w->med.share_min,
                     100 * w->med.share_max);
        else
            snprintf(shares, sizeof shares, "-");
        fprintf(f, "%-13s %7u %12.0f %-20s %12.0f %-20s  %s\n", w->m->name,
                w->med.members ? w->med.members : 1, w->med.rate, rate,
                w->med.cpu_rate, cpu, shares);
    }
}

#define ROUND_LEGEND \
    "  round: median of the per-round ratios (sample k against the reference's sample k, taken in the\n" \
    "  same round) [its 95%% confidence interval, distribution-free: with 60 rounds the 22nd and 39th\n" \
    "  of the sorted ratios, with 15 the 4th and 12th]; two rows differ by more than the noise where\n" \
    "  their intervals do not overlap; the JSON file has every ratio, quartiles, min and max\n"

void report_table(FILE *f, const struct report *r)
{
    const struct bench_config *c = r->c;
    char mach[256], na[300], note[256], ratio[16], round[48];
    char topo[300], sender[300];
    unsigned i;

    machine(mach, sizeof mach);
    fprintf(f, "batchudp-bench, libbatchudp %s: %s mode, %u-byte datagrams, batch %u\n",
            budp_version_string(), mode_name(c->mode), c->size, c->batch);
    if (c->mode == MODE_DRAIN)
        fprintf(f, "  %lu datagrams per sample, median of %u samples; receive buffer %zu KiB%s\n",
                c->count, c->reps, r->rcvbuf_actual / 1024,
                r->rcvbuf_forced ? " (SO_RCVBUFFORCE)" : " (SO_RCVBUF: not permitted to force)");
    else if (c->mode == MODE_SEND)
        fprintf(f, "  %lu datagrams per sample, sent in rounds that fit the receiver's queue, median of %u samples;\n"
                   "  receiver: one socket with UDP GRO on, drained between rounds; receive buffer %zu KiB%s\n",
                c->count, c->reps, r->rcvbuf_actual / 1024,
                r->rcvbuf_forced ? " (SO_RCVBUFFORCE)" : " (SO_RCVBUF: not permitted to force)");
    else if (c->mode == MODE_RELAY) {
        relay_describe(topo, sizeof topo, sender, sizeof sender);
        fprintf(f, "  %lu datagrams per sample, each forwarded in as many fills as the relay's queue needs, median of %u samples\n",
                c->count, c->reps);
        if (topo[0])
            fprintf(f, "  topology: %s\n", topo);
        if (sender[0])
            fprintf(f, "  sender (every row): %s\n", sender);
    } else if (c->mode == MODE_STREAM)
        fprintf(f, "  %.1f s per sample, %u sender thread%s%s of %u flow%s each, median of %u samples; receive buffer %zu KiB%s\n",
                c->duration, c->senders, c->senders == 1 ? "" : "s",
                c->pin_senders ? (c->senders == 1 ? " (on the first CPU)" : " (one per CPU in turn)") : "",
                c->flows, c->flows == 1 ? "" : "s", c->reps,
                r->rcvbuf_actual / 1024, r->base != NULL ? " (each group member's too)" : "");
    else if (latency_echo_cpu(c) >= 0)
        fprintf(f, "  %lu round trips per sample, median of %u samples; echo thread on CPU %d, measured side on the others\n",
                c->count, c->reps, latency_echo_cpu(c));
    else
        fprintf(f, "  %lu round trips per sample, median of %u samples; threads placed by the scheduler\n",
                c->count, c->reps);
    fprintf(f, "  machine: %s; empty system call %.0f ns\n", mach, r->syscall_ns);
    fprintf(f, "  command: %s\n", r->command);
    if (c->mode == MODE_DRAIN)
        fprintf(f, "  cpu: process CPU time (all threads) per datagram received; ratio: cpu against raw-recvmmsg\n"
                ROUND_LEGEND "\n"
                "%-13s %-7s %12s %13s %7s %-20s %10s %6s  %s\n",
                "method", "backend", "cpu ns/dgram", "wall ns/dgram", "ratio",
                "round", "dgram/call", "drops", "note");
    else if (c->mode == MODE_SEND)
        fprintf(f, "  cpu: process CPU time per datagram sent, send calls only (on loopback the kernel's receive work\n"
                   "  runs in them); dgram/cpu-s: 1e9 / cpu; ratio: cpu against raw-sendmmsg (0.33x = 3x the datagrams\n"
                   "  per CPU second); dgram/call: datagrams per send system call; gso/call: GSO sends per call\n"
                ROUND_LEGEND "\n"
                "%-13s %-7s %12s %13s %12s %7s %-20s %10s %8s %6s  %s\n",
                "method", "backend", "cpu ns/dgram", "wall ns/dgram", "dgram/cpu-s",
                "ratio", "round", "dgram/call", "gso/call", "drops", "note");
    else if (c->mode == MODE_RELAY)
        fprintf(f, "  cpu: CPU time of the relay thread (CLOCK_THREAD_CPUTIME_ID) per datagram forwarded, the kernel's work\n"
                   "  in its system calls included; wall: the relay's time per datagram; fwd/cpu-s: 1e9 / cpu;\n"
                   "  ratio: cpu against relay-recvfrom (0.50x = twice the datagrams per CPU second); rx/call, tx/call:\n"
                   "  datagrams per receive and per send system call; gso/call: GSO sends per send call;\n"
                   "  drops: the kernel's, at the relay's and the sink's sockets\n"
                ROUND_LEGEND "\n"
                "%-14s %-7s %12s %13s %12s %7s %-20s %8s %8s %8s %6s  %s\n",
                "method", "backend", "cpu ns/dgram", "wall ns/dgram", "fwd/cpu-s",
                "ratio", "round", "rx/call", "tx/call", "gso/call", "drops", "note");
    else if (c->mode == MODE_STREAM)
        fprintf(f, "  rx cpu: process CPU minus the sender threads, per datagram received; rx/cpu-s: 1e9 / rx cpu;\n"
                   "  ratio: rx cpu against raw-recvmmsg; drops: the kernel's at the receiving socket(s) while timed;\n"
                   "  after the timed region the senders stop and the receiver takes the rest: every datagram sent\n"
                   "  was received or dropped by the kernel, or the row says LOST\n"
                ROUND_LEGEND "\n"
                "%-13s %-7s %12s %12s %15s %12s %7s %-20s %10s %9s  %s\n",
                "method", "backend", "rx dgram/s", "sent dgram/s", "rx cpu ns/dgram",
                "rx/cpu-s", "ratio", "round", "dgram/call", "drops", "note");
    else
        fprintf(f, "  round trip of one datagram to an echo thread and back; ratio: median against raw-recvmmsg\n"
                ROUND_LEGEND "\n"
                "%-13s %-7s %10s %10s %10s %7s %-20s  %s\n",
                "method", "backend", "median us", "p99 us", "mean us", "ratio",
                "round", "note");

    for (i = 0; i < r->nrows; i++) {
        const struct row *w = &r->rows[i];
        const struct sample *s = &w->med;

        if (w->status != ROW_OK) {
            fprintf(f, "%-*s %-7s %s\n", c->mode == MODE_RELAY ? 14 : 13,
                    w->m->name, "-", na_text(w, na, sizeof na));
            continue;
        }
        row_note(w, note, sizeof note);
        ratio_text(w, ratio, sizeof ratio);
        round_text(w, round, sizeof round);
        if (c->mode == MODE_DRAIN)
            fprintf(f, "%-13s %-7s %12.1f %13.1f %7s %-20s %10.1f %6llu  %s\n",
                    w->m->name, w->info.backend, s->cpu_ns, s->wall_ns, ratio,
                    round, s->per_call, (unsigned long long)s->kernel_drops, note);
        else if (c->mode == MODE_SEND)
            fprintf(f, "%-13s %-7s %12.1f %13.1f %12.0f %7s %-20s %10.1f %8.2f %6llu  %s\n",
                    w->m->name, w->info.backend, s->cpu_ns, s->wall_ns,
                    s->cpu_rate, ratio, round, s->per_call, s->gso_per_call,
                    (unsigned long long)s->kernel_drops, note);
        else if (c->mode == MODE_RELAY)
            fprintf(f, "%-14s %-7s %12.1f %13.1f %12.0f %7s %-20s %8.1f %8.1f %8.2f %6llu  %s\n",
                    w->m->name, w->info.backend, s->cpu_ns, s->wall_ns,
                    s->cpu_rate, ratio, round, s->per_call, s->tx_per_call,
                    s->gso_per_call, (unsigned long long)s->kernel_drops, note);
        else if (c->mode == MODE_STREAM)
            fprintf(f, "%-13s %-7s %12.0f %12.0f %15.1f %12.0f %7s %-20s %10.1f %9llu  %s\n",
                    w->m->name, w->info.backend, s->rate, s->sent_rate,
                    s->cpu_ns, s->cpu_rate, ratio, round, s->per_call,
                    (unsigned long long)s->kernel_drops, note);
        else
            fprintf(f, "%-13s %-7s %10.1f %10.1f %10.1f %7s %-20s  %s\n",
                    w->m->name, w->info.backend, s->p50_us, s->p99_us,
                    s->mean_us, ratio, round, note);
    }
    if (c->mode == MODE_STREAM && r->base != NULL)
        group_table(f, r);
    fprintf(f, "\n(%.1f s)\n", r->elapsed_s);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_sample(FILE *f, const struct sample *s)
{
    fprintf(f, "{\"cpu_ns\": %.3f, \"wall_ns\": %.3f, \"rate\": %.1f, "
               "\"sent_rate\": %.1f, \"cpu_rate\": %.1f, \"per_call\": %.3f, "
               "\"gso_per_call\": %.3f, \"tx_per_call\": %.3f, \"p50_us\": %.3f, "
               "\"p99_us\": %.3f, \"mean_us\": %.3f, \"max_us\": %.3f, "
               "\"datagrams\": %llu, \"expected\": %llu, \"kernel_drops\": %llu, "
               "\"lost\": %llu, \"bad_lengths\": %llu, \"coalesced\": %llu, "
               "\"rounds\": %u, \"received_all\": %llu, \"drops_all\": %llu, "
               "\"members\": %u, \"share_min\": %.4f, \"share_max\": %.4f}",
            s->cpu_ns, s->wall_ns, s->rate, s->sent_rate, s->cpu_rate,
            s->per_call, s->gso_per_call, s->tx_per_call, s->p50_us, s->p99_us, s->mean_us, s->max_us,
            (unsigned long long)s->datagrams, (unsigned long long)s->expected,
            (unsigned long long)s->kernel_drops, (unsigned long long)s->lost,
            (unsigned long long)s->bad_lengths, (unsigned long long)s->coalesced,
            s->rounds, (unsigned long long)s->received_all,
            (unsigned long long)s->drops_all, s->members, s->share_min,
            s->share_max);
}

static void json_summary(FILE *f, const struct ratio_summary *v)
{
    fprintf(f, "{\"rounds\": %u, \"median\": %.4f, \"ci_low\": %.4f, \"ci_high\": %.4f, "
               "\"p25\": %.4f, \"p75\": %.4f, \"min\": %.4f, \"max\": %.4f}",
            v->n, v->median, v->ci_low, v->ci_high, v->p25, v->p75, v->min, v->max);
}

int report_json(const char *path, const struct report *r)
{
    const struct bench_config *c = r->c;
    char mach[256], na[300], topo[300], sender[300];
    unsigned i, j;
    FILE *f = fopen(path, "w");
    int err = 0;

    if (f == NULL)
        return -errno;
    machine(mach, sizeof mach);
    fprintf(f, "{\n  \"tool\": \"batchudp-bench\",\n  \"library_version\": ");
    json_string(f, budp_version_string());
    fprintf(f, ",\n  \"machine\": ");
    json_string(f, mach);
    fprintf(f, ",\n  \"syscall_ns\": %.1f", r->syscall_ns);
    fprintf(f, ",\n  \"command\": ");
    json_string(f, r->command);
    fprintf(f, ",\n  \"config\": {\"mode\": \"%s\", \"size\": %u, \"batch\": %u, "
               "\"count\": %lu, \"reps\": %u, \"duration\": %.3f, \"senders\": %u, "
               "\"flows\": %u, \"pin_senders\": %s, "
               "\"rcvbuf\": %zu, \"rcvbuf_forced\": %s, \"quick\": %s, \"echo_cpu\": %d},\n",
            mode_name(c->mode), c->size, c->batch, c->count, c->reps,
            c->duration, c->senders, c->flows, c->pin_senders ? "true" : "false",
            r->rcvbuf_actual,
            r->rcvbuf_forced ? "true" : "false", c->quick ? "true" : "false",
            c->mode == MODE_LATENCY ? latency_echo_cpu(c) : -1);
    if (c->mode == MODE_RELAY) {
        relay_describe(topo, sizeof topo, sender, sizeof sender);
        fprintf(f, "  \"relay\": {\"topology\": ");
        json_string(f, topo);
        fprintf(f, ", \"sender\": ");
        json_string(f, sender);
        fprintf(f, "},\n");
    }
    fprintf(f, "  \"reference\": ");
    if (r->ref != NULL)
        json_string(f, r->ref->m->name);
    else
        fputs("null", f);
    fprintf(f, ",\n  \"elapsed_s\": %.3f,\n  \"results\": [\n", r->elapsed_s);
    for (i = 0; i < r->nrows; i++) {
        const struct row *w = &r->rows[i];

        fprintf(f, "    {\"method\": ");
        json_string(f, w->m->name);
        fprintf(f, ", \"backend\": ");
        json_string(f, w->status == ROW_OK ? w->info.backend : "-");
        fprintf(f, ", \"status\": \"%s\", \"note\": ",
                w->status == ROW_OK ? "ok" : w->status == ROW_NA ? "n/a" : "failed");
        json_string(f, w->status == ROW_OK ? w->info.note : na_text(w, na, sizeof na));
        fprintf(f, ", \"ratio\": %.4f,\n     \"round_ratio\": %.4f, \"round_ratio_ci_low\": %.4f, "
                   "\"round_ratio_ci_high\": %.4f, \"round_ratio_p25\": %.4f, "
                   "\"round_ratio_p75\": %.4f, \"round_ratio_min\": %.4f, "
                   "\"round_ratio_max\": %.4f, \"round_ratios\": [",
                w->ratio, w->rr_median, w->rr_ci_low, w->rr_ci_high, w->rr_p25,
                w->rr_p75, w->rr_min, w->rr_max);
        for (j = 0; j < w->nround; j++)
            fprintf(f, "%s%.4f", j ? ", " : "", w->round_ratio[j]);
        fprintf(f, "]");
        if (r->base != NULL) {
            fprintf(f, ",\n     \"vs_one_socket\": {\"baseline\": ");
            json_string(f, r->base->m->name);
            fprintf(f, ", \"rate\": ");
            json_summary(f, &w->vs_base_rate);
            fprintf(f, ", \"cpu_rate\": ");
            json_summary(f, &w->vs_base_cpu);
            fprintf(f, "}");
        }
        fprintf(f, ",\n     \"median\": ");
        json_sample(f, &w->med);
        fprintf(f, ",\n     \"samples\": [");
        for (j = 0; j < w->nsamples; j++) {
            fprintf(f, "%s\n       ", j ? "," : "");
            json_sample(f, &w->samples[j]);
        }
        fprintf(f, "]}%s\n", i + 1 < r->nrows ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (ferror(f))
        err = -EIO;
    if (fclose(f) != 0 && err == 0)
        err = -errno;
    return err;
}
