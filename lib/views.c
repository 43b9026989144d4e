/* views.c - slots to views: a slot that holds one datagram is its own
 * view; a GRO slot becomes one view per segment. */
#include "build_config.h"

#include "views.h"

unsigned budp_slot_datagrams(const budp_rx_slot *slot)
{
    if (slot->segment_size == 0 || slot->len == 0)
        return 1;
    return (slot->len + slot->segment_size - 1) / slot->segment_size;
}

unsigned budp_views_take(const budp_rx_slot *slots, unsigned nslots,
                         struct budp_view_cursor *cur, unsigned max,
                         struct budp_view_tally *tally)
{
    unsigned first = cur->slot, end = nslots - first < max ? nslots : first + max;
    unsigned i = first;
    uint64_t bytes = 0;

    if (cur->offset != 0)
        return 0;
    for (; i < end && slots[i].segment_size == 0; i++) {
        bytes += slots[i].len;
        if (slots[i].flags & BUDP_TALLY_RARE_FLAGS)
            budp_view_tally_rare(tally, slots[i].flags);
    }
    cur->slot = i;
    tally->datagrams += i - first;
    tally->bytes += bytes;
    return i - first;
}

/* GRO: views of slot's segments from cur->offset on, every one
 * segment_size bytes but the last, which may be shorter.  Returns the
 * views written at views[0..); stops at max or when the next one would
 * pass *budget bytes.  Each view is the slot's fields with the segment's
 * data, length and flags; the loop keeps its state in locals, one store of
 * each back at the end. */
static unsigned fill_segments(const budp_rx_slot *slot,
                              struct budp_view_cursor *cur, budp_datagram *views,
                              unsigned max, uint32_t max_datagram,
                              uint64_t *budget, struct budp_view_tally *tally)
{
    uint32_t seg = slot->segment_size, total = slot->len, off = cur->offset;
    uint32_t base = (slot->flags & ~BUDP_SLOT_LAST_CUT) | BUDP_DGRAM_COALESCED;
    int last_cut = (slot->flags & BUDP_SLOT_LAST_CUT) != 0;
    uint64_t room = *budget, bytes = 0;
    budp_datagram *v = views, *end = views + max;

    while (v < end && off < total) {
        uint32_t len = total - off < seg ? total - off : seg;
        uint32_t kept = len, flags = base;

        if (last_cut && off + len == total)
            flags |= BUDP_DGRAM_TRUNCATED;
        if (kept > max_datagram) {
            kept = max_datagram;
            flags |= BUDP_DGRAM_TRUNCATED;
        }
        if (kept > room)
            break;
        room -= kept;
        *v = *slot;
        v->data = slot->data + off;
        v->len = kept;
        v->flags = flags;
        v++;
        bytes += kept;
        if (flags & BUDP_TALLY_RARE_FLAGS)
            budp_view_tally_rare(tally, flags);
        off += len;
    }
    cur->offset = off;
    *budget = room;
    tally->datagrams += (unsigned)(v - views);
    tally->bytes += bytes;
    return (unsigned)(v - views);
}

unsigned budp_views_fill_within(const budp_rx_slot *slots, unsigned nslots,
                                struct budp_view_cursor *cur, budp_datagram *views,
                                unsigned max, uint32_t max_datagram,
                                uint64_t budget, struct budp_view_tally *tally)
{
    unsigned n = 0, i = cur->slot;

    while (n < max && i < nslots) {
        const budp_rx_slot *slot = &slots[i];

        if (slot->segment_size != 0 && slot->len != 0) {
            n += fill_segments(slot, cur, &views[n], max - n, max_datagram,
                               &budget, tally);
            if (cur->offset < slot->len)
                break;   /* max or the budget reached inside the slot */
            if (slot->len > slot->segment_size)
                tally->coalesced++;
            i++;
            cur->offset = 0;
            continue;
        }
        /* One datagram: the slot is its view. */
        if (slot->len > budget)
            break;
        budget -= slot->len;
        views[n] = *slot;
        budp_view_tally_add(tally, &views[n++]);
        i++;
    }
    cur->slot = i;
    return n;
}

unsigned budp_views_next(const budp_rx_slot *slots, unsigned nslots,
                         const struct budp_rx_summary *sum,
                         struct budp_view_cursor *cur, unsigned max,
                         budp_datagram *scratch, unsigned scratch_capacity,
                         uint32_t max_datagram, const budp_datagram **views,
                         struct budp_view_tally *tally)
{
    const budp_rx_slot *first = &slots[cur->slot];
    unsigned n;

    /* A whole batch of single datagrams, as the backend summed it up. */
    if (sum != NULL && cur->slot == 0 && cur->offset == 0 && max >= nslots &&
        sum->segments == 0 && !(sum->flags & BUDP_TALLY_RARE_FLAGS)) {
        cur->slot = nslots;
        tally->datagrams += nslots;
        tally->bytes += sum->bytes;
        *views = slots;
        return nslots;
    }
    n = budp_views_take(slots, nslots, cur, max, tally);

    if (n > 0) {
        *views = first;
        return n;
    }
    *views = scratch;
    return budp_views_fill(slots, nslots, cur, scratch,
                           max < scratch_capacity ? max : scratch_capacity,
                           max_datagram, tally);
}

unsigned budp_views_fill(const budp_rx_slot *slots, unsigned nslots,
                         struct budp_view_cursor *cur, budp_datagram *views,
                         unsigned max, uint32_t max_datagram,
                         struct budp_view_tally *tally)
{
    return budp_views_fill_within(slots, nslots, cur, views, max, max_datagram,
                                  UINT64_MAX, tally);
}

uint64_t budp_views_count(const budp_rx_slot *slots, unsigned nslots,
                          struct budp_view_cursor cur, budp_datagram *scratch,
                          unsigned scratch_capacity, uint32_t max_datagram)
{
    struct budp_view_tally tally = { 0 };

    while (budp_views_fill(slots, nslots, &cur, scratch, scratch_capacity,
                           max_datagram, &tally) > 0)
        ;
    return tally.datagrams;
}
