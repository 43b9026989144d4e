/* stream.h - the parts of --mode stream that one socket and a socket group
 * share: the sender threads and the accounting of a sample. */
#ifndef BUDP_BENCH_STREAM_H
#define BUDP_BENCH_STREAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <netinet/in.h>

#include "bench.h"
#include "net.h"

/* The most flows (sender sockets) of one sender thread. */
#define STREAM_MAX_FLOWS 64u

struct stream_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    atomic_int stop;
};

/* One sender thread: until told to stop, it sends one sendmmsg of 64
 * datagrams (of 8 GSO runs for a GSO sender) after another, each on the
 * next of its flows in turn. */
struct stream_sender {
    pthread_t th;
    struct stream_gate *gate;
    struct net_sendbuf b;
    int fd[STREAM_MAX_FLOWS];
    unsigned nfd;
    int started;
    int err;
    _Atomic uint64_t sent;
    uint64_t cpu_ns;         /* the thread's CPU time from the gate's
                                opening to its stop */
};

struct stream_senders {
    struct stream_gate gate;
    struct stream_sender *s;
    unsigned n;
    unsigned segs;           /* datagrams per message: > 1 with GSO */
    int stopped;
};

/* n sender threads' state, no flow yet, datagrams of size bytes (gso:
 * UDP_SEGMENT runs).  Returns 0 or -errno. */
int  senders_init(struct stream_senders *ss, unsigned n, unsigned size, int gso);
/* Give sender i the connected socket fd as one more flow (ss owns it from
 * then on). */
int  senders_add_flow(struct stream_senders *ss, unsigned i, int fd);
/* Give every sender flows connected sockets to to, each on a port of its
 * own.  Returns 0 or -errno, the reason in info->note. */
int  senders_open_flows(struct stream_senders *ss, unsigned flows,
                        const struct sockaddr_in *to, unsigned size,
                        struct run_info *info);
/* Start the threads; they wait for senders_go.  pin: thread i runs on the
 * i-th CPU this process may use (mod their count). */
int  senders_start(struct stream_senders *ss, int pin);
void senders_go(struct stream_senders *ss);
/* Datagrams sent so far, any thread. */
uint64_t senders_sent(struct stream_senders *ss);
/* Stop the threads and wait for them (again: a no-op). */
void senders_stop(struct stream_senders *ss);
/* After senders_stop: their CPU time, and their first error (0: none),
 * written to info->note. */
uint64_t senders_cpu(const struct stream_senders *ss);
int  senders_error(const struct stream_senders *ss, struct run_info *info);
/* Stop if need be, close every flow, free. */
void senders_free(struct stream_senders *ss);

/* One second's progress line on stderr (label NULL: none). */
void stream_progress(const char *label, double secs, uint64_t got,
                     uint64_t prev, uint64_t drops);

/* The accounting of a sample: every datagram sent was received, dropped
 * by the kernel at a receiving socket, or dropped by a group member's
 * close.  Fills out's expected, received_all, drops_all and lost.  A
 * kernel drop of a GRO receive counts one packet for up to 64 datagrams
 * (gro: the method receives with GRO on): then the check is that the
 * drops could hold what is missing.  Returns 0, or -EPROTO when more
 * were counted than sent (the reason in info->note). */
/* The rates of a timed stream sample: got received and sent sent between
 * t0 and t1 (ns), the process's CPU going from cpu0 to cpu1 of which the
 * senders took send_cpu, total datagrams in sys receive calls. */
void stream_rates(struct sample *out, uint64_t got, uint64_t sent,
                  uint64_t t0, uint64_t t1, uint64_t cpu0, uint64_t cpu1,
                  uint64_t send_cpu, uint64_t total, uint64_t sys);
int  stream_account(struct sample *out, uint64_t sent, uint64_t received,
                    uint64_t drops, int have_drops, int gro,
                    struct run_info *info);

/* stream_group.c: one sample of a group row. */
int  group_stream_sample(const struct bench_config *c,
                         const struct group_method *gm, int warmup,
                         const char *progress_label, struct sample *out,
                         struct run_info *info);

#endif
