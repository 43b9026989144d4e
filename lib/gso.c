/* gso.c - run detection for UDP_SEGMENT sends. */
#include "build_config.h"

#include "gso.h"

/* Used by the mmsg backend alone (see backend_mmsg.c). */
#ifdef HAVE_RECVMMSG

#include "addr.h"
#include "datagram_check.h"
#include "inline.h"

/* 1 when a datagram timed next may leave at first, a run's first time. */
static int leaves_with(uint64_t next, uint64_t first)
{
    if (next == first)
        return 1;
    return first != 0 && next > first && next - first <= BUDP_PACING_GRANULARITY_NS;
}

/* budp_gso_run, made twice: with pacing a constant, the run without it
 * costs what it did before departure times existed (a time is then a
 * malformed datagram, which budp_datagram_sendable already refuses). */
BUDP_ALWAYS_INLINE unsigned run_of(const budp_datagram *d, unsigned n,
                                   unsigned max_segments, int pacing)
{
    uint32_t segment = d[0].len;
    uint32_t total = segment;
    unsigned k = 1;

    if (n < 2 || segment == 0 || max_segments < 2)
        return 1;
    while (k < n && k < max_segments) {
        const budp_datagram *next = &d[k];
        if (next->len == 0 || next->len > segment ||
            !budp_datagram_sendable_for(next, pacing) ||
            (pacing && !leaves_with(next->time_ns, d[0].time_ns)) ||
            total + next->len > BUDP_GSO_MAX_BYTES ||
            next->ecn != d[0].ecn ||
            !budp_addr_equal(&next->peer, &d[0].peer) ||
            !budp_addr_equal(&next->local, &d[0].local))
            break;
        total += next->len;
        k++;
        /* Only the last segment may be shorter. */
        if (next->len < segment)
            break;
    }
    return k;
}

unsigned budp_gso_run(const budp_datagram *d, unsigned n, unsigned max_segments,
                      int pacing)
{
    return pacing ? run_of(d, n, max_segments, 1) : run_of(d, n, max_segments, 0);
}

#endif /* HAVE_RECVMMSG */
