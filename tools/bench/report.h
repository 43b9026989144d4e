/* report.h - the rows of a run and how they are printed. */
#ifndef BUDP_BENCH_REPORT_H
#define BUDP_BENCH_REPORT_H

#include <stdio.h>

#include "bench.h"

/* The most samples a row keeps (--reps). */
#define REPORT_MAX_SAMPLES 256
/* The confidence level of the interval given for a median of per-round
 * ratios. */
#define REPORT_CI_LEVEL 0.95

enum row_status {
    ROW_OK,
    ROW_NA,        /* the method cannot run here (not supported) */
    ROW_FAILED     /* it should have run and did not */
};

/* A median of per-round ratios and its spread. */
struct ratio_summary {
    unsigned n;              /* rounds (0: none) */
    double median, ci_low, ci_high, p25, p75, min, max;
};

struct row {
    const struct method *m;
    enum row_status status;
    int err;                 /* negative errno for ROW_NA / ROW_FAILED */
    struct run_info info;
    struct sample *samples;
    unsigned nsamples;
    struct sample med;       /* per-field medians; lost and bad summed */
    double ratio;            /* median against the reference's median, 0
                                if none */
    /* Per-round ratios: sample k of this row against sample k of the
     * reference (the same round, so drift of the machine between rounds
     * touches both alike).  round_ratio[k] for k < nround; the summary is
     * their median, 25th and 75th percentile, min and max (0 if none). */
    double round_ratio[REPORT_MAX_SAMPLES];
    unsigned nround;
    double rr_median, rr_p25, rr_p75, rr_min, rr_max;
    double rr_ci_low, rr_ci_high;    /* confidence interval of rr_median */
    /* Stream mode with socket groups: this row against the one-socket row
     * (GROUP_BASELINE) of the same round, in datagrams per second received
     * and in datagrams per receive CPU second (higher: better). */
    struct ratio_summary vs_base_rate, vs_base_cpu;
};

struct report {
    const struct bench_config *c;
    struct row *rows;
    unsigned nrows;
    const struct row *ref;   /* raw-recvmmsg (send mode: raw-sendmmsg, relay
                                mode: relay-recvfrom), or NULL */
    const struct row *base;  /* stream mode with group rows: the one-socket
                                row they are compared with, or NULL */
    int rcvbuf_forced;
    size_t rcvbuf_actual;
    double elapsed_s;
    double syscall_ns;       /* CPU ns of an empty system call */
    char command[512];       /* the command line, for the record */
};

/* Fill med, ratio and the per-round ratios of every row. */
void report_summarise(struct report *r);
void report_table(FILE *f, const struct report *r);
/* Write the run, every sample included, as JSON.  Returns 0 or -errno. */
int  report_json(const char *path, const struct report *r);

#endif
