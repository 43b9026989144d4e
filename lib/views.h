/* views.h - the view builder: filled slots become the budp_datagram views
 * handed to the application: a slot that holds one datagram is its own
 * view, a GRO receive (one slot, many datagrams of segment_size bytes)
 * becomes one view per segment, without copying payloads. */
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

/* The flags a tally counts: rare, so the common path tests them at once
 * and counts them apart (budp_view_tally_rare). */
#define BUDP_TALLY_RARE_FLAGS (BUDP_DGRAM_TRUNCATED | BUDP_DGRAM_CONTROL_TRUNCATED)

static inline void budp_view_tally_rare(struct budp_view_tally *tally, uint32_t flags)
{
    tally->truncated += !!(flags & BUDP_DGRAM_TRUNCATED);
    tally->control_truncated += !!(flags & BUDP_DGRAM_CONTROL_TRUNCATED);
}

/* Count one view handed out. */
static inline void budp_view_tally_add(struct budp_view_tally *tally,
                                       const budp_datagram *v)
{
    tally->datagrams++;
    tally->bytes += v->len;
    if (v->flags & BUDP_TALLY_RARE_FLAGS)
        budp_view_tally_rare(tally, v->flags);
}

/* Write up to max views of slots[cur->slot .. nslots) into views, advancing
 * cur.  A segment longer than max_datagram is clipped and flagged.  Returns
 * the number of views written; adds to *tally. */
unsigned budp_views_fill(const budp_rx_slot *slots, unsigned nslots,
                         struct budp_view_cursor *cur, budp_datagram *views,
                         unsigned max, uint32_t max_datagram,
                         struct budp_view_tally *tally);

/* Hand out slots[cur->slot ..) themselves as views, up to max of them and
 * up to the first GRO slot (segment_size set: those are split by
 * budp_views_fill), advancing cur; nothing when a GRO slot is half
 * viewed.  Returns the count: the views are &slots[the old cur->slot].
 * Adds to *tally. */
unsigned budp_views_take(const budp_rx_slot *slots, unsigned nslots,
                         struct budp_view_cursor *cur, unsigned max,
                         struct budp_view_tally *tally);

/* Up to max views of slots[cur->slot ..) in *views: the slots themselves
 * while they hold one datagram each (budp_views_take), else copies split
 * from GRO slots into scratch (budp_views_fill, at most scratch_capacity).
 * sum, when not NULL, is the backend's summary of slots[0..nslots): a
 * whole batch of single datagrams is then handed out in one step.
 * Returns the count. */
unsigned budp_views_next(const budp_rx_slot *slots, unsigned nslots,
                         const struct budp_rx_summary *sum,
                         struct budp_view_cursor *cur, unsigned max,
                         budp_datagram *scratch, unsigned scratch_capacity,
                         uint32_t max_datagram, const budp_datagram **views,
                         struct budp_view_tally *tally);

/* As budp_views_fill, and also stops before the first view that would
 * take the payload bytes handed out past budget (budp_recv_packed: what
 * the caller's buffer has room for).  0 with views pending means the next
 * one alone is larger than budget. */
unsigned budp_views_fill_within(const budp_rx_slot *slots, unsigned nslots,
                                struct budp_view_cursor *cur, budp_datagram *views,
                                unsigned max, uint32_t max_datagram,
                                uint64_t budget, struct budp_view_tally *tally);

/* Number of datagrams slot holds. */
unsigned budp_slot_datagrams(const budp_rx_slot *slot);

/* How many views slots[cur.slot ..) would still give (the views are
 * written to scratch and dropped): what a socket holds undelivered. */
uint64_t budp_views_count(const budp_rx_slot *slots, unsigned nslots,
                          struct budp_view_cursor cur, budp_datagram *scratch,
                          unsigned scratch_capacity, uint32_t max_datagram);

#endif
