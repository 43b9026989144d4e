/* counters.h - per-socket counters, written by one thread, read by any.
 * Header only: the socket handle embeds them, stats.c reads them out. */
#ifndef BUDP_COUNTERS_H
#define BUDP_COUNTERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "batchudp.h"

#define BUDP_STAT_COUNT (sizeof(budp_stats) / sizeof(uint64_t))

struct budp_stat_counters {
    _Atomic uint64_t v[BUDP_STAT_COUNT];
};

/* The counter of budp_stats field `field`. */
#define BUDP_STAT_PTR(c, field) \
    (&(c)->v[offsetof(budp_stats, field) / sizeof(uint64_t)])

/* Add n to the counter of budp_stats field `field`.  Relaxed: counters are
 * independent tallies, read as a snapshot that need not be consistent. */
#define BUDP_STAT_ADD(c, field, n) \
    atomic_fetch_add_explicit(BUDP_STAT_PTR(c, field), (uint64_t)(n), \
                              memory_order_relaxed)

static inline void budp_counters_init(struct budp_stat_counters *c)
{
    for (size_t i = 0; i < BUDP_STAT_COUNT; i++)
        atomic_init(&c->v[i], 0);
}

#endif
