/* matrix.h - the scenarios of the fault matrix (matrix_list.c) and how one
 * is run (fault_matrix.c). */
#ifndef BUDP_MATRIX_H
#define BUDP_MATRIX_H

#include <stdio.h>

/* One run of fault_scenario: its BUDP_FAULTS and arguments, and what came
 * of it. */
struct job {
    char faults[192];
    const char *kind, *mode, *family, *backend, *gso;
    const char *surfaces;
    double started;
    FILE *output;
    int must_fire;     /* a run where the fault never fires fails */
    unsigned injected;
    int passed;
};

/* A setup series: call's k-th use fails, for k = 1, 2, ... */
struct series {
    const char *kind, *mode, *family, *backend;
    const char *call, *err, *surfaces;
    int going;
    unsigned steps;
};

/* No setup makes more uses of one call than this. */
#define MAX_SERIES_STEPS 64

/* The traffic and crafted scenarios (only: NULL for all, or "traffic",
 * "crafted", "setup"), in a new array; returns how many. */
unsigned matrix_jobs(struct job **out, const char *only);
/* The setup series, likewise. */
unsigned matrix_series(struct series **out, const char *only);
/* The k-th step of s as a job. */
void matrix_series_job(const struct series *s, unsigned k, struct job *j);

#endif
