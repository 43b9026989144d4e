/* main.c - batchudp-bench: options, the run over methods and repetitions,
 * then the table (and the JSON file). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "net.h"
#include "report.h"

#define MAX_REPS REPORT_MAX_SAMPLES
#define REFERENCE "raw-recvmmsg"
#define SEND_REFERENCE "raw-sendmmsg"
#define RELAY_REFERENCE "relay-recvfrom"
/* Samples per method by default.  Drain and relay take 15: the 25th and
 * 75th percentiles of 15 per-round ratios (the 4th and 12th) are then also
 * a 96% confidence interval of their median, which tells a real 3%
 * difference from noise when the machine is steady enough.  The other
 * modes' samples take seconds each. */
#define DEFAULT_REPS 5
#define RELAY_REPS 15
/* Drain: many short rounds.  The machine's state drifts on a scale of tens
 * of milliseconds, so two samples pair well (the per-round ratio is
 * steady) when each is short: 60 rounds of 20,000 datagrams give a tighter
 * interval than 15 of 100,000. */
#define DRAIN_REPS 60
#define DRAIN_COUNT 20000
/* --mode relay: one datagram, with its IPv4 and UDP headers, fits the
 * veth's 1500-byte MTU (and so does every GSO segment). */
#define RELAY_MAX_SIZE 1472u
/* GRO rows join the default list from this datagram size on. */
#define GRO_DEFAULT_SIZE 1000u
#define STREAM_RCVBUF ((size_t)4 << 20)
/* --flows: at most what one sender thread holds (stream.h). */
#define STREAM_FLOWS_MAX 64u
#define DRAIN_RCVBUF_MAX ((size_t)128 << 20)

static void usage(FILE *f)
{
    unsigned i;
    int side;

    fprintf(f,
"usage: batchudp-bench [options]\n"
"Compare ways of receiving UDP datagrams on loopback: plain system calls and\n"
"libbatchudp in each mode (or, with --mode send, ways of sending them; with\n"
"--mode relay, ways of forwarding them across a veth pair).\n"
"Prints one row per method with its median, its ratio to raw-recvmmsg (send\n"
"mode: raw-sendmmsg; relay mode: relay-recvfrom) measured in the same run,\n"
"and the median of the per-round ratios with their 25th-75th percentile:\n"
"the samples of the methods are interleaved (round k takes sample k of every\n"
"method in turn), and sample k of a row is divided by sample k of the\n"
"reference, so that drift of the machine between rounds cancels out.\n"
"\n"
"  --mode MODE      drain (default): fill the receive queue, then time the\n"
"                   receive side alone (process CPU and wall ns per datagram);\n"
"                   stream: sender threads blast for --duration seconds\n"
"                   (datagrams/s received, kernel drops);\n"
"                   latency: ping-pong round trips (median, p99);\n"
"                   send: time the sending side alone (process CPU and wall ns\n"
"                   per datagram sent, datagrams per CPU second) to one\n"
"                   loopback socket with UDP GRO on, drained between rounds\n"
"                   outside the timed region; on loopback the receiving\n"
"                   kernel work (IP/UDP input, queueing to the socket) runs in\n"
"                   the sender's system calls and counts in its CPU time:\n"
"                   that is part of what GSO saves (one GSO packet crosses\n"
"                   the stack once and reaches the GRO socket whole);\n"
"                   relay: a relay receives batches and forwards every\n"
"                   datagram to another address (a VPN's or a QUIC proxy's\n"
"                   work); see \"--mode relay\" below\n"
"  --size BYTES     payload bytes per datagram [64]; relay: at most %u (one\n"
"                   datagram, and every GSO segment, must fit the veth's\n"
"                   1500-byte MTU)\n"
"  --count N        datagrams per sample [drain: %u; send, relay: 100000];\n"
"                   latency: round trips per sample [5000]\n"
"  --batch N        datagrams per receive call; send: per send call (budp_send's\n"
"                   n and BUDP_OPT_BATCH_SIZE for the library); relay: per\n"
"                   receive call of the relay, which sends what it got [32]\n"
"  --reps N         samples per method, the median is reported [drain: %u;\n"
"                   relay: %u; stream, latency, send: %u]\n"
"  --duration SECS  stream: seconds per sample [2]\n"
"  --senders N      stream: sender threads [1]\n"
"  --flows N        stream: flows per sender thread, each a socket of its own\n"
"                   (its own source port), sent on in turn, one batch each\n"
"                   [1; with group rows: the largest group's member count]\n"
"  --pin-senders    stream: sender thread i runs on the i-th CPU (mod the\n"
"                   CPUs), in every row; on loopback the kernel receives on\n"
"                   the sending CPU, which CPU steering follows [the\n"
"                   scheduler places them]\n"
"  --rcvbuf BYTES   receive buffer (drain, send, relay: sized for --count, at\n"
"                   most 128 MiB; stream: 4 MiB; latency: system default);\n"
"                   relay: the relay's, the sink gets twice as much\n"
"  --ring SLOTS     threaded methods: ring slots, a power of two, or 0 for\n"
"                   the library's automatic size [4 batches, at least 256]\n"
"  --methods LIST   comma-separated methods of the mode (raw-recvmmsg, in send\n"
"                   mode raw-sendmmsg, in relay mode relay-recvfrom, is always\n"
"                   added as the reference);\n"
"                   default: every method of the mode but gro and gro-off,\n"
"                   which join from --size %u on, and are left out of latency;\n"
"                   stream mode adds two socket groups (see below)\n"
"  --json FILE      write the configuration, medians and every sample\n"
"  --no-pin         latency: let the scheduler place the echo thread (by\n"
"                   default it has a CPU of its own, the measured side the rest)\n"
"  --quick          tiny counts and 2 samples (proves the tool works)\n"
"  --no-warmup      leave out the unrecorded run of each method that comes\n"
"                   first (tools/batchudp-cost counts every instruction of\n"
"                   the measured calls, and wants only recorded ones)\n"
"  --settle         drain, threaded methods: let the receiver thread take the\n"
"                   whole queue into the ring (give --ring at least --count)\n"
"                   before the timed region, so that the consumer's calls do\n"
"                   not depend on how the threads interleave\n"
"  --no-reference   with --methods: run only the listed methods, without\n"
"                   adding the reference row (no ratios)\n"
"  --help           this text\n"
"\n", RELAY_MAX_SIZE, DRAIN_COUNT, DRAIN_REPS, RELAY_REPS, DEFAULT_REPS,
            GRO_DEFAULT_SIZE);
    for (side = 0; side < 2; side++) {
        fprintf(f, "%s", side ? "\nmethods of --mode send:\n"
                              : "methods of --mode drain, stream and latency:\n");
        for (i = 0; i < bench_method_count; i++)
            if (method_sends(&bench_methods[i]) == side)
                fprintf(f, "  %-13s %s\n", bench_methods[i].name,
                        bench_methods[i].summary);
    }
    fprintf(f,
"\nsocket groups, --mode stream only (N: 1 to %u members; the default list has\n"
"group-C and group-cpu-C, C the CPUs online, at least 2):\n"
"  group-N       a group of N sockets on one address (budp_group_bind, the\n"
"                kernel's hash steering), one receiving thread per member,\n"
"                each receiving as mmsg does; the senders' flows are chosen\n"
"                so that the hash gives every member the same number\n"
"  group-cpu-N   the same with CPU steering (BUDP_STEER_CPU): member c's\n"
"                thread runs on CPU c and gets what the kernel received there\n"
"A run with group rows also has mmsg, the one-socket row they are compared\n"
"with: their aggregate datagrams/s and datagrams per receive CPU second,\n"
"against mmsg's of the same round.\n", GROUP_MAX_MEMBERS);
    fprintf(f,
"\n--mode relay: the bench makes two network namespaces of its own, A and B\n"
"(budp-relay-PID-a and -b, with `ip`), joined by a veth pair (MTU 1500),\n"
"and removes them on exit, on failure and on SIGINT, SIGTERM, SIGHUP and\n"
"SIGQUIT.  The sender and the sink are in A, the relay in B: the sender\n"
"sends to the relay over the veth, the relay forwards each datagram to the\n"
"sink's address, back over the veth.  A sample repeats three steps, one at\n"
"a time, until --count datagrams went through:\n"
"  1. the sender fills the relay's receive queue.  Every row gets the same\n"
"     sender: UDP_SEGMENT runs of up to 64 datagrams (65000 bytes), 8 runs\n"
"     per sendmmsg, so that GRO has something to coalesce; for a relay\n"
"     without GRO the kernel splits the runs before they reach its socket;\n"
"  2. the relay, on a thread of its own on the CPU the fill ran on (where\n"
"     the kernel queued the datagrams), forwards exactly what was queued:\n"
"     timed, the relay thread's CPU time (CLOCK_THREAD_CPUTIME_ID) and its\n"
"     wall time, per datagram forwarded;\n"
"  3. the sink (the library, GRO on) reads and checks every datagram: what\n"
"     was sent and neither arrived nor was counted as dropped by the kernel\n"
"     at the relay's or the sink's socket is LOST (exit status 1).\n"
"The sink reads after the relay so that the relay pays no wake-ups of it.\n"
"veth delivers a packet to the receiving socket within the sending call, so\n"
"the sink's receive work is in the relay's CPU time, for every row alike,\n"
"and a GSO send reaches the GRO sink whole (as on loopback in send mode; a\n"
"NIC, or the kernel for one without UDP segmentation offload, would split\n"
"it).  Where namespaces cannot be made (not root, no `ip`, setns refused)\n"
"every row is \"n/a\" with the reason, and the exit status stays 0.\n"
"\nmethods of --mode relay:\n");
    for (i = 0; i < relay_method_count; i++)
        fprintf(f, "  %-14s %s\n", relay_methods[i].name, relay_methods[i].summary);
    fprintf(f,
"\nExit status: 0 when every row ran or is not supported here, 1 when a row\n"
"failed or lost datagrams, 2 on a usage error.\n");
}

static int parse_ulong(const char *opt, const char *s, unsigned long min,
                       unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "batchudp-bench: %s wants a number in %lu..%lu, not '%s'\n",
                opt, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

struct cli {
    struct bench_config c;
    const char *methods;
    int count_set, reps_set, duration_set;
    int no_warmup, no_reference;
};

static int parse_args(int argc, char **argv, struct cli *a)
{
    unsigned long v;
    int i;

    for (i = 1; i < argc; i++) {
        const char *o = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(o, "--quick") == 0) {
            a->c.quick = 1;
            continue;
        }
        if (strcmp(o, "--no-pin") == 0) {
            a->c.pin = 0;
            continue;
        }
        if (strcmp(o, "--no-warmup") == 0) {
            a->no_warmup = 1;
            continue;
        }
        if (strcmp(o, "--settle") == 0) {
            a->c.settle = 1;
            continue;
        }
        if (strcmp(o, "--pin-senders") == 0) {
            a->c.pin_senders = 1;
            continue;
        }
        if (strcmp(o, "--no-reference") == 0) {
            a->no_reference = 1;
            continue;
        }
        if (arg == NULL) {
            fprintf(stderr, "batchudp-bench: unknown option or missing value: %s\n", o);
            return -1;
        }
        i++;
        if (strcmp(o, "--mode") == 0) {
            if (strcmp(arg, "drain") == 0)
                a->c.mode = MODE_DRAIN;
            else if (strcmp(arg, "stream") == 0)
                a->c.mode = MODE_STREAM;
            else if (strcmp(arg, "latency") == 0)
                a->c.mode = MODE_LATENCY;
            else if (strcmp(arg, "send") == 0)
                a->c.mode = MODE_SEND;
            else if (strcmp(arg, "relay") == 0)
                a->c.mode = MODE_RELAY;
            else {
                fprintf(stderr, "batchudp-bench: --mode is drain, stream, latency, send or relay\n");
                return -1;
            }
        } else if (strcmp(o, "--size") == 0) {
            if (parse_ulong(o, arg, 1, 65507, &v) < 0)
                return -1;
            a->c.size = (unsigned)v;
        } else if (strcmp(o, "--count") == 0) {
            if (parse_ulong(o, arg, 1, 100000000, &v) < 0)
                return -1;
            a->c.count = v;
            a->count_set = 1;
        } else if (strcmp(o, "--batch") == 0) {
            if (parse_ulong(o, arg, 1, 1024, &v) < 0)
                return -1;
            a->c.batch = (unsigned)v;
        } else if (strcmp(o, "--reps") == 0) {
            if (parse_ulong(o, arg, 1, MAX_REPS, &v) < 0)
                return -1;
            a->c.reps = (unsigned)v;
            a->reps_set = 1;
        } else if (strcmp(o, "--duration") == 0) {
            char *end;

            a->c.duration = strtod(arg, &end);
            if (end == arg || *end != '\0' || !(a->c.duration >= 0.05 && a->c.duration <= 3600)) {
                fprintf(stderr, "batchudp-bench: --duration wants seconds in 0.05..3600\n");
                return -1;
            }
            a->duration_set = 1;
        } else if (strcmp(o, "--senders") == 0) {
            if (parse_ulong(o, arg, 1, 64, &v) < 0)
                return -1;
            a->c.senders = (unsigned)v;
        } else if (strcmp(o, "--flows") == 0) {
            if (parse_ulong(o, arg, 1, STREAM_FLOWS_MAX, &v) < 0)
                return -1;
            a->c.flows = (unsigned)v;
        } else if (strcmp(o, "--rcvbuf") == 0) {
            if (parse_ulong(o, arg, 4096, 1UL << 30, &v) < 0)
                return -1;
            a->c.rcvbuf = v;
        } else if (strcmp(o, "--ring") == 0) {
            if (parse_ulong(o, arg, 0, 65536, &v) < 0)
                return -1;
            a->c.ring = (long)v;
        } else if (strcmp(o, "--methods") == 0) {
            a->methods = arg;
        } else if (strcmp(o, "--json") == 0) {
            a->c.json_path = arg;
        } else {
            fprintf(stderr, "batchudp-bench: unknown option: %s\n", o);
            return -1;
        }
    }
    return 0;
}

static void apply_defaults(struct cli *a)
{
    struct bench_config *c = &a->c;

    if (!a->count_set)
        c->count = c->mode == MODE_LATENCY ? (c->quick ? 200 : 5000)
                 : c->quick ? 2000
                 : c->mode == MODE_DRAIN ? DRAIN_COUNT : 100000;
    if (!a->reps_set)
        c->reps = c->quick ? 2 : c->mode == MODE_DRAIN ? DRAIN_REPS
                : c->mode == MODE_RELAY ? RELAY_REPS : DEFAULT_REPS;
    if (!a->duration_set)
        c->duration = c->quick ? 0.3 : 2.0;
    if (c->rcvbuf == 0 && c->mode == MODE_STREAM)
        c->rcvbuf = STREAM_RCVBUF;
    if (c->rcvbuf == 0 && (c->mode == MODE_DRAIN || c->mode == MODE_SEND ||
                           c->mode == MODE_RELAY)) {
        /* Queued datagrams cost the payload plus about 800 bytes of kernel
         * memory on loopback; what does not fit is drained in rounds. */
        size_t want = (size_t)c->count * ((size_t)c->size + 1024u);

        c->rcvbuf = want > DRAIN_RCVBUF_MAX ? DRAIN_RCVBUF_MAX
                  : want < ((size_t)1 << 20) ? ((size_t)1 << 20) : want;
    }
}

static int add_row(struct report *r, const struct method *m)
{
    unsigned i;

    for (i = 0; i < r->nrows; i++)
        if (r->rows[i].m == m)
            return 0;
    r->rows[r->nrows].m = m;
    r->rows[r->nrows].samples = calloc(r->c->reps, sizeof(struct sample));
    if (r->rows[r->nrows].samples == NULL)
        return -1;
    r->nrows++;
    return 0;
}

/* The methods of --mode relay have a table of their own. */
static const struct method *find_any(const char *name)
{
    const struct method *m = method_find(name);

    return m != NULL ? m : relay_method_find(name);
}

static const char *mode_of(const struct method *m)
{
    if (m->kind == KIND_GROUP)
        return "stream";
    return method_relays(m) ? "relay" : method_sends(m) ? "send"
                            : "drain, stream and latency";
}

static int in_mode(const struct method *m, enum bench_mode mode)
{
    if (m->kind == KIND_GROUP)
        return mode == MODE_STREAM;
    if (method_relays(m))
        return mode == MODE_RELAY;
    if (method_sends(m))
        return mode == MODE_SEND;
    return mode != MODE_SEND && mode != MODE_RELAY;
}

static int has_group(const struct report *r)
{
    unsigned i;

    for (i = 0; i < r->nrows; i++)
        if (r->rows[i].m->kind == KIND_GROUP)
            return 1;
    return 0;
}

/* Stream mode's default list: a group of one member per CPU online (at
 * least 2) with the kernel's hash, and with CPU steering. */
static int add_default_groups(struct report *r)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char name[32];
    const struct method *m;

    if (cpus < 2)
        cpus = 2;
    if (cpus > (long)GROUP_MAX_MEMBERS)
        cpus = GROUP_MAX_MEMBERS;
    snprintf(name, sizeof name, "group-%ld", cpus);
    if ((m = method_find(name)) == NULL || add_row(r, m) < 0)
        return -1;
    snprintf(name, sizeof name, "group-cpu-%ld", cpus);
    if ((m = method_find(name)) == NULL || add_row(r, m) < 0)
        return -1;
    return 0;
}

/* Stream mode: each sender thread's flows, unless --flows said: one, or
 * with group rows the members of the largest group, so that with its
 * flows spread evenly every member gets traffic from every sender. */
static void choose_flows(struct report *r, struct bench_config *c)
{
    unsigned i, most = 1;

    if (c->flows != 0)
        return;
    for (i = 0; i < r->nrows; i++) {
        const struct group_method *g = method_group(r->rows[i].m);

        if (g != NULL && g->members > most)
            most = g->members;
    }
    c->flows = most > STREAM_FLOWS_MAX ? STREAM_FLOWS_MAX : most;
}

static int choose_methods(struct report *r, const char *list, int no_reference)
{
    const struct bench_config *c = r->c;
    int sending = c->mode == MODE_SEND, relaying = c->mode == MODE_RELAY;
    const struct method *ref = find_any(relaying ? RELAY_REFERENCE
                                        : sending ? SEND_REFERENCE : REFERENCE);
    const struct method *table = relaying ? relay_methods : bench_methods;
    unsigned count = relaying ? relay_method_count : bench_method_count;
    unsigned i;

    if (list == NULL) {
        if (add_row(r, ref) < 0)
            return -1;
        for (i = 0; i < count; i++) {
            const struct method *m = &table[i];

            if (!in_mode(m, c->mode))
                continue;
            if (!sending && !relaying && m->gso_sender &&
                (c->mode == MODE_LATENCY || c->size < GRO_DEFAULT_SIZE))
                continue;
            if (add_row(r, m) < 0)
                return -1;
        }
        if (c->mode == MODE_STREAM && add_default_groups(r) < 0)
            return -1;
    } else {
        char *copy = strdup(list), *save = NULL, *tok;

        if (copy == NULL)
            return -1;
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            const struct method *m = find_any(tok);

            if (m == NULL) {
                fprintf(stderr, "batchudp-bench: unknown method '%s' (see --help)\n", tok);
                free(copy);
                return -1;
            }
            if (!in_mode(m, c->mode)) {
                fprintf(stderr, "batchudp-bench: method '%s' is one of --mode %s only "
                        "(see --help)\n", tok, mode_of(m));
                free(copy);
                return -1;
            }
            if (add_row(r, m) < 0) {
                free(copy);
                return -1;
            }
        }
        free(copy);
        /* The one-socket row the groups are compared with, and the
         * reference, where they were not listed, come last. */
        if (!no_reference && has_group(r) &&
            add_row(r, method_find(GROUP_BASELINE)) < 0)
            return -1;
        if (!no_reference && add_row(r, ref) < 0)
            return -1;
    }
    for (i = 0; i < r->nrows; i++) {
        if (r->rows[i].m == ref)
            r->ref = &r->rows[i];
        if (strcmp(r->rows[i].m->name, GROUP_BASELINE) == 0 && has_group(r))
            r->base = &r->rows[i];
    }
    return 0;
}

static int unsupported(int err)
{
    return err == -ENOTSUP || err == -EOPNOTSUPP || err == -ENOSYS ||
           err == -EAFNOSUPPORT || err == -EPROTONOSUPPORT;
}

static int run_one(const struct bench_config *c, struct row *w, int warmup,
                   unsigned rep)
{
    struct sample s;
    struct run_info info;
    char label[64];
    int err;

    memset(&s, 0, sizeof s);
    memset(&info, 0, sizeof info);
    snprintf(label, sizeof label, "%s (sample %u/%u)", w->m->name, rep + 1, c->reps);
    if (c->mode == MODE_DRAIN)
        err = drain_sample(c, w->m, warmup, &s, &info);
    else if (c->mode == MODE_STREAM)
        err = stream_sample(c, w->m, warmup, label, &s, &info);
    else if (c->mode == MODE_SEND)
        err = send_sample(c, w->m, warmup, &s, &info);
    else if (c->mode == MODE_RELAY)
        err = relay_sample(c, w->m, warmup, &s, &info);
    else
        err = latency_sample(c, w->m, warmup, &s, &info);
    if (err < 0) {
        w->status = unsupported(err) ? ROW_NA : ROW_FAILED;
        w->err = err;
        w->info = info;
        return err;
    }
    if (!warmup) {
        w->samples[w->nsamples++] = s;
        w->info = info;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli a;
    struct report rep;
    struct sockaddr_in addr;
    uint64_t t0 = clock_wall_ns();
    unsigned i, k;
    int fd, status = 0;

    memset(&a, 0, sizeof a);
    a.c.mode = MODE_DRAIN;
    a.c.size = 64;
    a.c.batch = 32;
    a.c.ring = -1;
    a.c.senders = 1;
    a.c.pin = 1;
    if (parse_args(argc, argv, &a) < 0) {
        fprintf(stderr, "Try 'batchudp-bench --help'.\n");
        return 2;
    }
    if (a.no_reference && a.methods == NULL) {
        fprintf(stderr, "batchudp-bench: --no-reference needs --methods\n");
        return 2;
    }
    apply_defaults(&a);
    if (a.c.mode == MODE_RELAY && a.c.size > RELAY_MAX_SIZE) {
        fprintf(stderr, "batchudp-bench: --mode relay takes --size up to %u (a datagram "
                "must fit the veth's 1500-byte MTU)\n", RELAY_MAX_SIZE);
        fprintf(stderr, "Try 'batchudp-bench --help'.\n");
        return 2;
    }

    memset(&rep, 0, sizeof rep);
    rep.c = &a.c;
    for (i = 0; i < (unsigned)argc; i++) {
        size_t used = strlen(rep.command);

        snprintf(rep.command + used, sizeof rep.command - used, "%s%s",
                 i ? " " : "", i ? argv[i] : "batchudp-bench");
    }
    rep.rows = calloc((a.c.mode == MODE_RELAY ? relay_method_count
                                              : bench_method_count) + GROUP_ROWS_MAX + 1,
                      sizeof *rep.rows);
    if (rep.rows == NULL || choose_methods(&rep, a.methods, a.no_reference) < 0) {
        free(rep.rows);
        return 2;
    }
    if (a.c.mode == MODE_STREAM)
        choose_flows(&rep, &a.c);
    /* What the receive buffer will be, for the header. */
    fd = net_receiver(a.c.rcvbuf, &addr, &rep.rcvbuf_forced, &rep.rcvbuf_actual);
    if (fd >= 0)
        close(fd);

    rep.syscall_ns = stats_syscall_ns();

    /* One short unrecorded run per method first; then the samples of the
     * methods interleaved, so that drift in the machine's state touches
     * every row alike. */
    for (i = 0; i < rep.nrows && !a.no_warmup; i++)
        (void)run_one(&a.c, &rep.rows[i], 1, 0);
    for (k = 0; k < a.c.reps; k++) {
        fprintf(stderr, "batchudp-bench: sample %u of %u\n", k + 1, a.c.reps);
        for (i = 0; i < rep.nrows; i++)
            if (rep.rows[i].status == ROW_OK)
                (void)run_one(&a.c, &rep.rows[i], 0, k);
    }
    rep.elapsed_s = (double)(clock_wall_ns() - t0) / 1e9;
    report_summarise(&rep);
    report_table(stdout, &rep);
    fflush(stdout);
    if (a.c.json_path != NULL) {
        int err = report_json(a.c.json_path, &rep);

        if (err < 0) {
            fprintf(stderr, "batchudp-bench: %s: %s\n", a.c.json_path, strerror(-err));
            status = 1;
        }
    }
    for (i = 0; i < rep.nrows; i++) {
        const struct row *w = &rep.rows[i];

        if (w->status == ROW_FAILED || w->med.lost > 0 || w->med.bad_lengths > 0)
            status = 1;
    }
    for (i = 0; i < rep.nrows; i++)
        free(rep.rows[i].samples);
    free(rep.rows);
    return status;
}
