/* stats.c - counters snapshot for budp_get_stats. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#ifdef HAVE_LINUX_SOCK_DIAG_H
#include <linux/sock_diag.h>
#endif

#include "lifetime.h"
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
#if defined(SO_MEMINFO) && defined(HAVE_LINUX_SOCK_DIAG_H)
    {
        /* The socket's own counter, read when asked: exact, and free on
         * the receive path (SO_RXQ_OVFL's control message would cost every
         * datagram and miss drops after the last one queued). */
        uint32_t mem[SK_MEMINFO_VARS];
        socklen_t len = sizeof mem;
        size_t at = offsetof(budp_stats, rx_kernel_drops) / sizeof(uint64_t);
        if (getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
            len > SK_MEMINFO_DROPS * sizeof(uint32_t))
            snapshot[at] = mem[SK_MEMINFO_DROPS];
    }
#endif
    budp_call_leave(s);
    memcpy(out, snapshot, size);
    return (int)size;
}
