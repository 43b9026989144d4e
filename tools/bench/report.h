/* report.h - the rows of a run and how they are printed. */
#ifndef BUDP_BENCH_REPORT_H
#define BUDP_BENCH_REPORT_H

#include <stdio.h>

#include "bench.h"

enum row_status {
    ROW_OK,
    ROW_NA,        /* the method cannot run here (not supported) */
    ROW_FAILED     /* it should have run and did not */
};

struct row {
    const struct method *m;
    enum row_status status;
    int err;                 /* negative errno for ROW_NA / ROW_FAILED */
    struct run_info info;
    struct sample *samples;
    unsigned nsamples;
    struct sample med;       /* per-field medians; lost and bad summed */
    double ratio;            /* against the reference row, 0 if none */
};

struct report {
    const struct bench_config *c;
    struct row *rows;
    unsigned nrows;
    const struct row *ref;   /* raw-recvmmsg (send mode: raw-sendmmsg), or NULL */
    int rcvbuf_forced;
    size_t rcvbuf_actual;
    double elapsed_s;
    double syscall_ns;       /* CPU ns of an empty system call */
    char command[512];       /* the command line, for the record */
};

/* Fill med and ratio of every row. */
void report_summarise(struct report *r);
void report_table(FILE *f, const struct report *r);
/* Write the run, every sample included, as JSON.  Returns 0 or -errno. */
int  report_json(const char *path, const struct report *r);

#endif
