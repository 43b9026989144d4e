/* stats.c - clocks, medians and percentiles. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_wall_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t clock_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

uint64_t clock_thread_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile, p in [0, 100]. */
double stats_percentile(double *v, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

/* The median of n values, the mean of the middle two when n is even. */
double stats_median(const double *v, size_t n)
{
    double tmp[64], *w = tmp, m;

    if (n == 0)
        return 0.0;
    if (n > sizeof tmp / sizeof tmp[0]) {
        w = malloc(n * sizeof *w);
        if (w == NULL)
            return v[0];
    }
    memcpy(w, v, n * sizeof *w);
    qsort(w, n, sizeof *w, cmp_double);
    m = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2.0;
    if (w != tmp)
        free(w);
    return m;
}

/* The CPU cost of the cheapest system call (getppid), in ns: what batching
 * saves per call on this machine, which varies a lot with the kernel's
 * mitigations and with virtualisation. */
double stats_syscall_ns(void)
{
    const unsigned n = 200000;
    uint64_t t0 = clock_cpu_ns(), t1;
    volatile pid_t sink = 0;
    unsigned i;

    for (i = 0; i < n; i++)
        sink ^= getppid(); /* xor: a sum of 200000 pids overflows */
    t1 = clock_cpu_ns();
    (void)sink;
    return (double)(t1 - t0) / n;
}
