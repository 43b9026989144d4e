/* bench.h - shared types of batchudp-bench.
 *
 * The bench compares ways of receiving UDP on loopback: plain system calls
 * (the baselines) and the library in each of its modes; --mode send
 * compares ways of sending, --mode relay ways of forwarding (receive a
 * batch, send every datagram on to another address) across a veth pair.
 * A "method" is one row of the table; a "sample" is one timed repetition
 * of one method; a "round" is sample k of every row, run one after the
 * other. */
#ifndef BUDP_BENCH_H
#define BUDP_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "batchudp.h"

enum bench_mode { MODE_DRAIN, MODE_STREAM, MODE_LATENCY, MODE_SEND, MODE_RELAY };

enum method_kind {
    KIND_RECVFROM,     /* one recvfrom per datagram */
    KIND_RAW_RECVMMSG, /* a plain recvmmsg loop, no library */
    KIND_LIB,          /* the library, configured by the fields below */
    KIND_GROUP,        /* --mode stream: a socket group (budp_group_bind)
                          of n members, one receiving thread each; see
                          struct group_method */
    /* --mode send */
    KIND_SENDTO,       /* one sendto per datagram */
    KIND_RAW_SENDMMSG, /* a plain sendmmsg loop, no library */
    KIND_LIB_SEND,     /* budp_send; gso_sender sets BUDP_OPT_GSO */
    /* --mode relay */
    KIND_RELAY_RECVFROM, /* recvfrom + sendto per datagram */
    KIND_RELAY_MMSG,   /* a plain recvmmsg + sendmmsg loop, no library */
    KIND_RELAY_LIB     /* budp_recv + budp_send; gro sets BUDP_OPT_GRO,
                          gso_sender BUDP_OPT_GSO */
};

/* Which consuming call an inline or threaded library method makes. */
enum lib_api {
    API_RECV,          /* budp_recv: views */
    API_PACKED,        /* budp_recv_packed: payloads copied back to back */
    API_DISPATCH       /* budp_dispatch: the callback on the caller's thread */
};

enum lib_thread_mode {
    LIB_INLINE,        /* budp_recv on the caller's thread */
    LIB_THREADED,      /* receiver thread + ring, consumer pops */
    LIB_CALLBACK       /* callback on the receiver thread */
};

struct method {
    const char *name;
    enum method_kind kind;
    int backend;             /* BUDP_BACKEND_* (KIND_LIB) */
    enum lib_thread_mode threading;
    int gro;                 /* -1: library default, 0 off, 1 on */
    int gso_sender;          /* sender coalesces with UDP_SEGMENT (send
                                mode: the library's BUDP_OPT_GSO) */
    const char *summary;     /* one line for --help */
    enum lib_api api;        /* KIND_LIB: the consuming call */
    int zerocopy;            /* send mode: BUDP_OPT_ZEROCOPY */
};

struct bench_config {
    enum bench_mode mode;
    unsigned size;           /* payload bytes per datagram */
    unsigned long count;     /* drain, send: datagrams per sample;
                                latency: pings */
    unsigned batch;          /* datagrams per receive (send) call */
    unsigned reps;           /* timed samples per method */
    double duration;         /* stream: seconds per sample */
    unsigned senders;        /* stream: sender threads */
    int pin_senders;         /* stream: sender thread i on the i-th CPU
                                (mod the CPUs the process may use) */
    unsigned flows;          /* stream: flows (sender sockets, each its own
                                source port) per sender thread; 0: 1, or
                                the largest group's member count when the
                                run has a group row */
    size_t rcvbuf;           /* requested receive buffer (0: mode default) */
    long ring;               /* threaded methods: BUDP_OPT_RING_CAPACITY
                                (-1: four batches, at least 256) */
    int quick;
    int settle;              /* drain, threaded methods: the receiver thread
                                takes the whole queue into the ring before
                                the timed region */
    int pin;                 /* latency: pin the echo thread to one CPU */
    const char *json_path;
};

/* One timed repetition.  Every rate is per datagram unless named; in send
 * mode "received" reads "sent". */
struct sample {
    double cpu_ns;           /* process CPU ns per datagram received */
    double wall_ns;          /* wall ns per datagram received */
    double rate;             /* datagrams per second (stream, send) */
    double sent_rate;        /* datagrams sent per second (stream) */
    double cpu_rate;         /* datagrams per CPU second (send) */
    double per_call;         /* datagrams per receive system call (send:
                                per send system call) */
    double gso_per_call;     /* send, relay: GSO sends per send system call */
    double tx_per_call;      /* relay: datagrams per send system call */
    double p50_us, p99_us;   /* round trip (latency) */
    double mean_us, max_us;
    uint64_t datagrams;      /* received in the timed region (send: by
                                the receiver, after each round; relay: by
                                the sink) */
    uint64_t expected;       /* drain: queued; latency: pings; send: sent;
                                relay: sent less the kernel's drops */
    uint64_t kernel_drops;   /* socket drops while the sample ran */
    uint64_t lost;           /* expected but never received */
    uint64_t bad_lengths;    /* datagrams of the wrong length */
    uint64_t coalesced;      /* library GRO receives that carried >1;
                                send: library GSO sends */
    unsigned rounds;         /* drain: fill/drain rounds; send: send/drain;
                                relay: fill/forward/drain */
    /* stream: the whole run's accounting, after the senders stopped and
     * the receivers took what was left: expected is every datagram sent,
     * and each was received (received_all), dropped by the kernel at a
     * receiving socket (drops_all) or dropped by a group member's close;
     * lost is the rest. */
    uint64_t received_all;
    uint64_t drops_all;
    /* stream, groups: members, and the shares of the datagrams received in
     * the timed region that the least and the most busy member took */
    unsigned members;
    double share_min, share_max;
};

/* What a sample run reports besides its numbers. */
struct run_info {
    char backend[16];        /* the library's backend name, or "-" */
    char note[160];
};

/* A socket group's row (--mode stream): "group-N", n members bound with
 * the kernel's hash steering, or "group-cpu-N", CPU steering with member
 * c's thread pinned to CPU c.  Every member receives as the one-socket row
 * "mmsg" does (member_method). */
struct group_method {
    struct method m;         /* kind KIND_GROUP */
    unsigned members;
    int steering;            /* BUDP_STEER_HASH or BUDP_STEER_CPU */
    int pin;                 /* member c's thread on CPU c */
    const struct method *member_method;
    char name[32];
};
#define GROUP_MAX_MEMBERS 64u
/* The one-socket row the group rows are compared with. */
#define GROUP_BASELINE "mmsg"

/* methods.c: the table of every method. */
extern const struct method bench_methods[];
extern const unsigned bench_method_count;
const struct method *method_find(const char *name);
/* The group row behind m, or NULL when m is not one.  method_find makes
 * them on demand from their names ("group-4", "group-cpu-2"). */
const struct group_method *method_group(const struct method *m);
/* The most group rows one run may have. */
#define GROUP_ROWS_MAX 16u
/* 1 for the methods of --mode send, 0 for the receiving ones. */
int method_sends(const struct method *m);

/* relay_methods.c: the methods of --mode relay, a table of their own. */
extern const struct method relay_methods[];
extern const unsigned relay_method_count;
const struct method *relay_method_find(const char *name);
int method_relays(const struct method *m);

/* drain.c, stream.c, latency.c, send.c: one sample of method m.  Return 0, or a
 * negative errno when the method cannot run here (-ENOTSUP and friends:
 * the row becomes "n/a"), or another negative errno on a setup failure.
 * warmup: a shorter, unrecorded run. */
int drain_sample(const struct bench_config *c, const struct method *m,
                 int warmup, struct sample *out, struct run_info *info);
int stream_sample(const struct bench_config *c, const struct method *m,
                  int warmup, const char *progress_label,
                  struct sample *out, struct run_info *info);
int latency_sample(const struct bench_config *c, const struct method *m,
                   int warmup, struct sample *out, struct run_info *info);
int send_sample(const struct bench_config *c, const struct method *m,
                int warmup, struct sample *out, struct run_info *info);
int relay_sample(const struct bench_config *c, const struct method *m,
                 int warmup, struct sample *out, struct run_info *info);
/* relay.c: the relay's topology and sender, one line each, for the header
 * of the table (empty until a sample made the namespaces). */
void relay_describe(char *topology, size_t tsize, char *sender, size_t ssize);
/* The CPU the latency mode's echo thread runs on, or -1 (not pinned). */
int latency_echo_cpu(const struct bench_config *c);

/* stats.c */
uint64_t clock_wall_ns(void);
uint64_t clock_cpu_ns(void);         /* the whole process, every thread */
uint64_t clock_thread_ns(void);      /* the calling thread */
double   stats_median(const double *v, size_t n);
double   stats_percentile(double *v, size_t n, double p);  /* sorts v */
void     sleep_ns(uint64_t ns);
double   stats_syscall_ns(void);     /* ns per getppid() */

#endif
