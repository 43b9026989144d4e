/* gso.c - run detection for UDP_SEGMENT sends. */
#include "build_config.h"

#include "gso.h"

/* Used by the mmsg backend alone (see backend_mmsg.c). */
#ifdef HAVE_RECVMMSG

#include "addr.h"
#include "datagram_check.h"

unsigned budp_gso_run(const budp_datagram *d, unsigned n, unsigned max_segments)
{
    uint32_t segment = d[0].len;
    uint32_t total = segment;
    unsigned k = 1;

    if (n < 2 || segment == 0 || max_segments < 2)
        return 1;
    while (k < n && k < max_segments) {
        const budp_datagram *next = &d[k];
        if (next->len == 0 || next->len > segment || !budp_datagram_sendable(next) ||
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

#endif /* HAVE_RECVMMSG */
