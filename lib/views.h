/* views.h - the view builder: filled slots become the budp_datagram views
 * handed to the application, a GRO receive (one slot, many datagrams of
 * segment_size bytes) one view per segment, without copying. */
#ifndef BUDP_VIEWS_H
#define BUDP_VIEWS_H

#include <stdint.h>

#include "slot.h"

/* Linux coalesces at most this many datagrams in one GRO receive. */
#define BUDP_GRO_MAX_SEGMENTS 64

/* Where view production stands within a run of filled slots. */
struct budp_view_cursor {
    unsigned slot;    /* next slot to view */
    uint32_t offset;  /* bytes of that slot already viewed (GRO) */
};

/* What a fill handed out, for the stats. */
struct budp_view_tally {
    unsigned datagrams;
    uint64_t bytes;
    unsigned truncated;
    unsigned coalesced; /* GRO slots fully split that held > 1 datagram */
    unsigned control_truncated; /* views flagged BUDP_DGRAM_CONTROL_TRUNCATED */
};

/* Write up to max views of slots[cur->slot .. nslots) into views, advancing
 * cur.  A segment longer than max_datagram is clipped and flagged.  Returns
 * the number of views written; adds to *tally. */
unsigned budp_views_fill(const struct budp_rx_slot *slots, unsigned nslots,
                         struct budp_view_cursor *cur, budp_datagram *views,
                         unsigned max, uint32_t max_datagram,
                         struct budp_view_tally *tally);

/* Number of datagrams slot holds. */
unsigned budp_slot_datagrams(const struct budp_rx_slot *slot);

#endif
