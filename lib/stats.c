/* stats.c - counters: what view fills add, and the snapshot for
 * budp_get_stats. */
#include "build_config.h"

#include <errno.h>
#include <string.h>

#include "calls.h"
#include "stats.h"
#include "sys.h"

void budp_stats_add_tally(struct budp_socket *s, const struct budp_view_tally *t)
{
    if (t->datagrams == 0)
        return;
    BUDP_STAT_ADD(&s->stats, rx_datagrams, t->datagrams);
    BUDP_STAT_ADD(&s->stats, rx_bytes, t->bytes);
    if (t->truncated)
        BUDP_STAT_ADD(&s->stats, rx_truncated, t->truncated);
    if (t->coalesced)
        BUDP_STAT_ADD(&s->stats, rx_coalesced, t->coalesced);
    if (t->control_truncated)
        BUDP_STAT_ADD(&s->stats, rx_control_truncated, t->control_truncated);
}

int budp_get_stats(const budp_socket *s, budp_stats *out, size_t size)
{
    uint64_t snapshot[BUDP_STAT_COUNT];
    uint64_t drops;
    int rc;

    if (s == NULL || out == NULL || size == 0 || size % sizeof(uint64_t) != 0)
        return -EINVAL;
    if ((rc = budp_call_enter(s)) < 0)
        return rc;
    if (size > sizeof snapshot)
        size = sizeof snapshot;
    for (size_t i = 0; i < BUDP_STAT_COUNT; i++)
        snapshot[i] = atomic_load_explicit(&((struct budp_socket *)s)->stats.v[i],
                                           memory_order_relaxed);
    /* The kernel's own count, read when asked, where it keeps one. */
    if (budp_sys_kernel_drops(s->fd, &drops) == 0)
        snapshot[offsetof(budp_stats, rx_kernel_drops) / sizeof(uint64_t)] = drops;
    budp_call_leave(s);
    memcpy(out, snapshot, size);
    return (int)size;
}
