/* stats.c - counters snapshot for budp_get_stats. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "socket.h"
#include "stats.h"

void budp_stats_init(struct budp_stat_counters *c)
{
    for (size_t i = 0; i < BUDP_STAT_COUNT; i++)
        atomic_init(&c->v[i], 0);
}

int budp_get_stats(const budp_socket *s, budp_stats *out, size_t size)
{
    uint64_t snapshot[BUDP_STAT_COUNT];

    if (s == NULL || out == NULL || size == 0 || size % sizeof(uint64_t) != 0)
        return -EINVAL;
    if (size > sizeof snapshot)
        size = sizeof snapshot;
    for (size_t i = 0; i < BUDP_STAT_COUNT; i++)
        snapshot[i] = atomic_load_explicit(&((struct budp_socket *)s)->stats.v[i],
                                           memory_order_relaxed);
    memcpy(out, snapshot, size);
    return (int)size;
}
